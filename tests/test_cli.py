"""The grader command, run as a real process."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from alembic import command as alembic_command

from grader.storage.database import _alembic, make_engine
from tests.conftest import (
    EXERCISES,
    ROOT,
    SHIPPED,
    SUBMISSIONS,
    Server,
    copy_bundle,
    free_port,
)

pytestmark = pytest.mark.processes

CONV2D_SAMPLES = EXERCISES / "conv2d" / "samples"

# Set, so that no test writes a secret file into the checkout's data dir.
HIDDEN_SECRET = {"GRADER_HIDDEN_SECRET": "cli-tests-hidden-secret-0123"}


def grader(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "grader.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=120, cwd=cwd,
                          env={**os.environ, **HIDDEN_SECRET})


def test_grade_json_for_a_correct_loop_solution_passes_4_of_4() -> None:
    done = grader("grade", "conv2d", CONV2D_SAMPLES / "correct_loops.py", "--json",
                  "--seed", "11")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["passed"] is True and report["score"] == 4 and report["max_score"] == 4
    assert report["seed"] == 11


def test_grade_prints_a_table_and_exits_1_when_a_case_fails() -> None:
    done = grader("grade", "conv2d", CONV2D_SAMPLES / "flipped_kernel.py")
    assert done.returncode == 1
    assert "square 8x8       wrong_values" in done.stdout
    assert "score 0/4  NOT PASSED" in done.stdout
    assert "flipped_kernel" in done.stdout


def test_same_seed_gives_the_same_report() -> None:
    runs = [json.loads(grader("grade", "conv2d", SUBMISSIONS / "int_truncation.py", "--json",
                              "--seed", "5").stdout) for _ in range(2)]
    assert [c["max_abs_error"] for c in runs[0]["cases"]] == \
        [c["max_abs_error"] for c in runs[1]["cases"]]


@pytest.mark.parametrize("args", [
    ("grade", "no_such_exercise", CONV2D_SAMPLES / "correct_loops.py"),
    ("grade", "conv2d", "/no/such/file.py"),
    ("grade", "conv2d"),
    ("grade", "conv2d", CONV2D_SAMPLES / "correct_loops.py", "--seed", "x"),
    ("frobnicate",),
])
def test_usage_errors_exit_2_with_a_message(args) -> None:
    done = grader(*args)
    assert done.returncode == 2
    assert done.stderr.strip()


def test_exercises_list_names_each_exercise() -> None:
    done = grader("exercises", "list")
    assert done.returncode == 0
    assert [line.split()[0] for line in done.stdout.splitlines()] == SHIPPED
    listed = grader("exercises", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    items = json.loads(listed.stdout)
    assert [item["id"] for item in items] == SHIPPED
    conv2d = items[SHIPPED.index("conv2d")]
    assert (conv2d["cases"], conv2d["max_score"]) == (4, 4)
    assert conv2d["title"] in done.stdout


def test_sandbox_check_prints_text_or_only_json() -> None:
    text = grader("sandbox", "check")
    assert text.returncode == 0, text.stderr
    assert "{" not in text.stdout and "self-test: passed" in text.stdout
    assert re.search(r"^  seccomp: +yes$", text.stdout, re.M)
    done = grader("sandbox", "check", "--json")
    assert done.returncode == 0, done.stderr
    check = json.loads(done.stdout)  # all of stdout: JSON only
    assert (check["self_test"], check["failures"], check["refusal"]) == ("passed", [], None)
    assert check["layers"]["seccomp"] is True


def test_exercises_validate_proves_the_shipped_specs() -> None:
    done = grader("exercises", "validate")
    assert done.returncode == 0, done.stdout
    assert done.stdout.splitlines() == [f"{exercise_id}: ok" for exercise_id in SHIPPED]


def validate_modified(tmp_path: Path, old: str, new: str) -> subprocess.CompletedProcess[str]:
    """`exercises validate conv2d` on a copy of conv2d's bundle with ``old`` replaced in its
    spec."""
    bundle = EXERCISES / "conv2d"
    spec = (bundle / "exercise.toml").read_text()
    assert old in spec
    exercises = tmp_path / "exercises"
    (exercises / "conv2d").mkdir(parents=True)
    (exercises / "conv2d" / "exercise.toml").write_text(spec.replace(old, new))
    (tmp_path / "reference").symlink_to(ROOT / "reference")  # where the spec names it
    (exercises / "conv2d" / "samples").symlink_to(bundle / "samples")
    return subprocess.run(
        [sys.executable, "-m", "grader.cli", "exercises", "validate", "conv2d"],
        capture_output=True, text=True, timeout=120,
        env={"GRADER_EXERCISES_DIR": str(exercises), "PATH": "/usr/bin:/bin", **HIDDEN_SECRET},
    )


def test_validate_catches_a_mistake_model_that_is_really_the_reference(tmp_path: Path) -> None:
    done = validate_modified(tmp_path, 'function = "same_padding"', 'function = "conv"')
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    # found on each of the three seeds, said once
    assert [line for line in lines if "passes every case" in line] == [
        "  - mistake 'same_padding' passes every case (on 3 seeds)"]
    assert len(lines) == len(set(lines))
    assert "sample same_padding.py is not diagnosed as 'same_padding'" in done.stdout


def test_validate_reports_a_reference_that_fails_on_the_spec_s_shapes(tmp_path: Path) -> None:
    done = validate_modified(tmp_path, "shapes = { image = [8, 8] }", "shapes = { image = [8] }")
    assert done.returncode == 1
    assert "the reference raised ValueError on case 'square 8x8'" in done.stdout


@pytest.mark.parametrize("layer", ["seccomp", "landlock"])
def test_without_a_required_layer_grade_and_check_exit_3_with_the_reason(layer: str) -> None:
    env = {**os.environ, "GRADER_SANDBOX_WITHOUT": layer}
    for args in (("grade", "conv2d", str(CONV2D_SAMPLES / "correct_loops.py")),
                 ("sandbox", "check")):
        done = subprocess.run([sys.executable, "-m", "grader.cli", *args], env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 3, done.stdout + done.stderr
        assert layer in done.stderr
        assert "passed" not in done.stdout.lower()
    done = subprocess.run([sys.executable, "-m", "grader.cli", "sandbox", "check", "--json"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 3
    check = json.loads(done.stdout)
    assert check["self_test"] != "passed" and layer in check["refusal"]


# -- learner text is inert on the instructor's terminal ----------------------------------------

FORGED = "\\x1b]52;c;aGVsbG8=\\x07\\x0dSCORE 4/4\\x1b[2K"  # as the grader shows it


def grade_bytes(*args: str | Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "grader.cli", "grade", "conv2d", *map(str, args)],
                          capture_output=True, timeout=120, env={**os.environ, **HIDDEN_SECRET})


def test_grade_prints_learner_control_characters_as_escapes() -> None:
    done = grade_bytes(SUBMISSIONS / "terminal_escapes.py")
    assert done.returncode == 1, done.stderr
    for stream in (done.stdout, done.stderr):
        assert b"\x1b" not in stream and b"\x07" not in stream and b"\r" not in stream
        assert "\u202e".encode() not in stream
    text = done.stdout.decode()
    unwrapped = text.replace("\n    | ", " ")  # a message's rows joined again
    assert f"- tall 12x10: your code raised ValueError: {FORGED}\\u202e" in unwrapped
    assert f"printed output:\n    | {FORGED}\n    | {FORGED}\n    | {FORGED}" in text
    assert "score 3/4  NOT PASSED" in text


def test_grade_text_keeps_every_line_of_the_learners_behind_a_bar(tmp_path: Path) -> None:
    """An exception's message and a print of several lines cannot print a line of their own,
    such as a score line under the real one."""
    forged = "score 4/4  PASSED  (1 ms)"
    source = tmp_path / "forger.py"
    source.write_text(f"print('x\\n{forged}')\n"
                      "def conv(image, kernel):\n"
                      f"    raise ValueError('boom\\n\\n{forged}\\n')\n")
    done = grade_bytes(source, "--seed", "1")
    assert done.returncode == 1, done.stderr
    lines = done.stdout.decode().splitlines()
    scores = [line for line in lines if line.startswith("score ")]
    assert len(scores) == 1 and scores[0].startswith("score 0/4  NOT PASSED"), scores
    quoted = [line for line in lines if forged in line]
    assert len(quoted) >= 3  # two visible cases' messages and the print
    assert all(line.startswith("    | ") for line in quoted)


def test_grade_text_shows_the_first_lines_of_a_long_message_or_print_and_counts_the_rest(
        tmp_path: Path) -> None:
    """Thousands of short lines printed, and an exception's message of hundreds, make a text
    report of a page or two: the first lines, then how many more (the JSON has the print)."""
    source = tmp_path / "flood.py"
    source.write_text("print('.\\n' * 3000, end='')\n"
                      "def conv(image, kernel):\n"
                      "    raise ValueError('\\n'.join(f'line {i}' for i in range(100)))\n")
    done = grade_bytes(source, "--seed", "1")
    assert done.returncode == 1, done.stderr
    lines = done.stdout.decode().splitlines()
    assert len(lines) < 120, len(lines)
    assert "    | line 7" in lines and "    | line 8" not in lines
    # the first 8 lines of the message, in each visible case
    assert sum(line.startswith("    | ... (more lines not shown) (line 3: raise ValueError(")
               for line in lines) == 2
    assert lines[-1] == "    | ... and 2960 more lines (--format json shows them all)"
    assert lines.count("    | .") == 40
    printed = json.loads(grade_bytes(source, "--seed", "1", "--format", "json").stdout)
    assert printed["stdout"].count(".") == 3000


# "- tall 12x10: your code raised ValueError: " is 43 columns: 197 more put the forged line
# at the start of a terminal's fourth row
@pytest.mark.parametrize("padding", ["x" * 197, " " * 197, "a" + "\u4e00" * 98, "\t" * 40,
                                     "a" + "\u4dc0" * 98, "a" + "\u00e9" * 98],
                         ids=["letters", "spaces", "wide", "tabs", "hexagrams", "ambiguous"])
def test_grade_text_rows_are_too_short_for_a_terminal_to_wrap_a_forged_line(
        tmp_path: Path, padding: str) -> None:
    """Padding that would push a forged line to the start of a row where a terminal 80 wide
    wraps (letters, spaces, tabs, wide characters) is cut into rows of the grader's own,
    each behind the bar."""
    source = tmp_path / "padded.py"
    source.write_text("def conv(image, kernel):\n"
                      f"    raise ValueError({padding + 'score 4/4  PASSED'!r})\n",
                      encoding="utf-8")
    done = grade_bytes(source, "--seed", "1")
    assert done.returncode == 1, done.stderr
    text = done.stdout.decode()
    rows = [row for line in text.splitlines() for row in terminal_rows(line, 80)]
    assert [row for row in rows if row.startswith("score ")] == \
        [row for row in text.splitlines() if row.startswith("score 0/4")]
    for line in text.splitlines()[text.splitlines().index("") + 1:]:
        assert len(terminal_rows(line, 78)) == 1 or line.startswith("  "), line


def terminal_rows(line: str, columns: int) -> list[str]:
    """``line`` as the widest terminal ``columns`` wide shows it: cut where the next character
    would pass the edge, every character past ASCII two columns wide (as some terminals draw
    the Yijing hexagrams, or characters of ambiguous width)."""
    rows, row, used = [], "", 0
    for char in line:
        width = 1 if char < "\x80" else 2
        if used + width > columns:
            rows.append(row)
            row, used = "", 0
        row += char
        used += width
    return [*rows, row]


def test_grade_writes_the_report_page_from_the_grading_s_own_arrays(tmp_path: Path) -> None:
    """``--html``: the page the server shows, with the visible cases' pictures, drawn from
    what the grading kept."""
    source = tmp_path / "flipped.py"
    source.write_text("import numpy as np\n"
                      "from numpy.lib.stride_tricks import sliding_window_view as windows\n"
                      "def conv(image, kernel):\n"
                      "    return np.einsum('ijkl,kl->ij', windows(image, (3, 3)), kernel[::-1])\n")
    page = tmp_path / "page.html"
    done = grade_bytes(source, "--seed", "3", "--html", page)
    assert done.returncode == 1, done.stderr
    html = page.read_text(encoding="utf-8")
    assert html.count('<svg class="heatmap"') == 10  # 2 visible cases: inputs, 3 outputs
    assert "gave another result" not in html


def test_grade_json_escapes_learner_control_characters_and_stays_json() -> None:
    done = grade_bytes(SUBMISSIONS / "terminal_escapes.py", "--json")
    assert done.returncode == 1, done.stderr
    assert done.stdout.isascii()
    assert not any(byte < 0x20 and byte != 0x0A for byte in done.stdout)
    report = json.loads(done.stdout)
    assert "\x1b]52;c;aGVsbG8=\x07\rSCORE 4/4\x1b[2K\u202e" in report["cases"][1]["message"]


def test_log_records_are_inert_on_the_terminal() -> None:
    program = ("import logging; from grader.cli import configure_logging; configure_logging(); "
               "logging.getLogger('grader.service.embedded')"
               ".error('failed: %s', '\\x1b[2K\\rforged')")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, timeout=60)
    assert done.stderr == b"ERROR grader.service.embedded: failed: \\x1b[2K\\x0dforged\n"


# -- bundles: new, try, validate DIR ----------------------------------------------------------


def test_a_new_bundle_validates_as_it_is(tmp_path: Path) -> None:
    done = grader("exercises", "new", "my_first", "--dir", tmp_path)
    assert done.returncode == 0, done.stderr
    folder = tmp_path / "my_first"
    assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*.py")) == [
        "reference.py", "samples/added_instead.py", "samples/correct.py"]
    done = grader("exercises", "validate", folder)
    assert (done.returncode, done.stdout) == (0, "my_first: ok\n"), done.stderr
    done = grader("exercises", "try", folder, folder / "samples" / "added_instead.py")
    assert done.returncode == 1
    assert "[mistake] added_instead:" in done.stdout


@pytest.mark.parametrize("args", [("new", "Bad-Id"), ("new", "conv2d", "--dir", EXERCISES)])
def test_new_refuses_a_bad_id_or_an_existing_folder(args) -> None:
    done = grader("exercises", *args)
    assert done.returncode == 2
    assert done.stderr.strip()


def _without_timing(text: str) -> str:
    return re.sub(r"\(\d+ ms\)", "(- ms)", text)


@pytest.mark.parametrize(("sample", "status"), [("correct_loops", 0), ("transposed", 1)])
def test_try_prints_what_grade_prints_and_exits_as_it_does(sample: str, status: int) -> None:
    file = CONV2D_SAMPLES / f"{sample}.py"
    graded = grader("grade", "conv2d", file, "--seed", "3")
    tried = grader("exercises", "try", EXERCISES / "conv2d", file, "--seed", "3")
    assert graded.returncode == tried.returncode == status
    assert _without_timing(tried.stdout) == _without_timing(graded.stdout)


def test_try_names_the_bundle_file_and_line_of_a_broken_spec(tmp_path: Path) -> None:
    copy_bundle("maxpool2d", tmp_path / "maxpool2d")
    spec = tmp_path / "maxpool2d" / "exercise.toml"
    spec.write_text(spec.read_text().replace("memory_mb = 128", "memory_mb = 0"))
    done = grader("exercises", "try", tmp_path / "maxpool2d",
                  CONV2D_SAMPLES / "correct_loops.py")
    assert done.returncode == 2
    line = spec.read_text().splitlines().index("memory_mb = 0") + 1
    assert f"{spec}:{line}: limits.memory_mb:" in done.stderr


@pytest.mark.parametrize("args", [
    ("push", EXERCISES / "conv2d"), ("pull", "conv2d"), ("versions", "conv2d"),
    ("restore", "conv2d", "1"), ("regrade", "conv2d")])
def test_a_server_that_cannot_be_reached_exits_4_with_one_line(args) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    done = grader("exercises", *args, "--url", nobody, "--token", "t")
    assert done.returncode == 4, done.stderr
    assert done.stderr.startswith(f"grader: cannot reach {nobody}")
    assert len(done.stderr.splitlines()) == 1


def test_try_and_validate_read_an_id_or_a_folder_by_one_rule(tmp_path: Path) -> None:
    """A folder of the current directory named as an exercise does not shadow the exercise:
    ./NAME names the folder."""
    copy_bundle("conv2d", tmp_path / "conv2d")
    spec = tmp_path / "conv2d" / "exercise.toml"
    assert spec.read_text().splitlines()[65] == "memory_mb = 256"
    spec.write_text(spec.read_text().replace("memory_mb = 256", "memory_mb = 0"))
    correct = CONV2D_SAMPLES / "correct_loops.py"
    by_id = grader("exercises", "try", "conv2d", correct, "--seed", "3", cwd=tmp_path)
    assert by_id.returncode == 0, by_id.stderr
    # a spec error: try exits as grade does with a broken exercise, validate as push does
    for command, status in ((("try", "./conv2d", correct), 2), (("validate", "./conv2d"), 1)):
        by_folder = grader("exercises", *command, cwd=tmp_path)
        assert by_folder.returncode == status, by_folder.stdout
        assert "conv2d/exercise.toml:66: limits.memory_mb" in by_folder.stderr
    for command in (("try", "Conv-2d", correct), ("validate", "Conv-2d")):
        neither = grader("exercises", *command, cwd=tmp_path)
        assert neither.returncode == 2
        assert "'Conv-2d' is not an exercise id" in neither.stderr and "./Conv-2d" in neither.stderr
    unknown = grader("exercises", "validate", "no_such_one", cwd=tmp_path)
    assert unknown.returncode == 2 and "no exercise 'no_such_one'" in unknown.stderr


# -- the extra exercises' folder: a stray folder is skipped, a broken bundle stops the server --


def test_a_folder_that_is_not_a_bundle_in_the_extra_folder_is_skipped(tmp_path: Path) -> None:
    extra = tmp_path / "extra"
    (extra / "lost+found").mkdir(parents=True)
    (extra / "notes").mkdir()
    (extra / "notes" / "README.md").write_text("drafts\n")
    copy_bundle("maxpool2d", extra / "pool_extra")
    spec = extra / "pool_extra" / "exercise.toml"
    spec.write_text(spec.read_text().replace('id = "maxpool2d"', 'id = "pool_extra"', 1))
    server = Server(tmp_path / "data", {"GRADER_EXTRA_EXERCISES_DIR": str(extra),
                                        **HIDDEN_SECRET})
    (tmp_path / "data").mkdir()
    server.start()
    try:
        ids = [e["id"] for e in httpx.get(f"{server.url}/v1/exercises").json()["items"]]
        assert ids == [*SHIPPED, "pool_extra"]
    finally:
        server.stop()
    log = server.read_log(None)
    for stray in ("lost+found", "notes"):
        warning = f"{extra / stray}: skipped: not an exercise bundle (it has no exercise.toml)"
        assert log.count(warning) == 1, log
    assert "Traceback" not in log


def test_a_broken_bundle_in_the_extra_folder_stops_the_server_in_one_line(
        tmp_path: Path) -> None:
    extra = tmp_path / "extra"
    copy_bundle("maxpool2d", extra / "maxpool2d")
    spec = extra / "maxpool2d" / "exercise.toml"
    spec.write_text(spec.read_text().replace("memory_mb = 128", "memory_mb = 0"))
    line = spec.read_text().splitlines().index("memory_mb = 0") + 1
    done = subprocess.run(
        [sys.executable, "-m", "grader.cli", "serve", "--port", str(free_port())],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, **HIDDEN_SECRET, "GRADER_EXTRA_EXERCISES_DIR": str(extra),
             "GRADER_DATA_DIR": str(tmp_path)})
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr.startswith("grader: cannot serve the exercises: ")
    assert f"{spec}:{line}: limits.memory_mb" in done.stderr


# -- help and usage -----------------------------------------------------------------------------

GLOBAL_STATUSES = "the grader itself failed"


def test_the_exit_status_table_is_on_the_help_of_the_commands_it_describes() -> None:
    for with_table in ((), ("grade",), ("exercises", "try"), ("exercises", "validate")):
        assert GLOBAL_STATUSES in grader(*with_table, "--help").stdout, with_table
    for without in (("serve",), ("migrate",), ("exercises",), ("exercises", "list"),
                    ("exercises", "new"), ("sandbox",)):
        assert GLOBAL_STATUSES not in grader(*without, "--help").stdout, without
    for remote in ("push", "pull", "versions", "restore", "regrade"):
        shown = grader("exercises", remote, "--help").stdout
        assert GLOBAL_STATUSES not in shown
        assert "4  the server could not be reached" in shown


def test_the_top_level_help_names_every_exercises_action() -> None:
    shown = " ".join(grader("--help").stdout.split())
    assert ("exercise bundles: list, validate, new, try, push, pull, versions, restore, "
            "regrade") in shown
    listed = grader("exercises", "--help").stdout
    for action in ("list", "validate", "new", "try", "push", "pull", "versions", "restore",
                   "regrade"):
        assert re.search(rf"^    {action} ", listed, re.M), action


@pytest.mark.parametrize(("args", "usage"), [
    (("grade", "conv2d", "x.py", "--bogus"), "usage: grader grade "),
    (("exercises", "pull", "conv2d", "--url", "u", "--token", "t", "--bogus"),
     "usage: grader exercises pull "),
    (("exercises", "list", "--bogus"), "usage: grader exercises list "),
    (("sandbox", "check", "--bogus"), "usage: grader sandbox "),
])
def test_an_unknown_option_prints_its_command_s_usage(args, usage: str) -> None:
    done = grader(*args)
    assert done.returncode == 2
    assert done.stderr.startswith(usage), done.stderr
    assert "unrecognized arguments: --bogus" in done.stderr


def test_migrate_says_what_it_did(tmp_path: Path) -> None:
    env = {**os.environ, "GRADER_DATA_DIR": str(tmp_path)}

    def migrate() -> str:
        done = subprocess.run([sys.executable, "-m", "grader.cli", "migrate"], env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    head = sorted(p.name[:4] for p in (ROOT / "grader" / "storage" / "migrations" / "versions")
                  .glob("0*.py"))[-1]
    created = migrate()
    tables = re.match(rf"grader: created the schema at revision {head} \((\d+) tables\); "
                      r"applied:\n", created)
    assert tables is not None, created
    applied = created.splitlines()[1:]
    assert [line.split()[0] for line in applied] == [f"{n:04d}" for n in range(1, int(head) + 1)]
    assert applied[0] == "  0001  Submissions, uploaded exercises and callback attempts."
    with sqlite3.connect(tmp_path / "grader.db") as db:
        count = db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()
        assert int(tables.group(1)) == count[0] > 2
    at_0002 = tmp_path / "at_0002"
    at_0002.mkdir()
    engine = make_engine(f"sqlite:///{at_0002 / 'grader.db'}")
    try:
        with engine.begin() as connection:  # a database of an older grader
            config = _alembic()
            config.attributes["connection"] = connection
            alembic_command.upgrade(config, "0002")
    finally:
        engine.dispose()
    with sqlite3.connect(at_0002 / "grader.db") as db:
        before = db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()
    env["GRADER_DATA_DIR"] = str(at_0002)
    upgraded = migrate().splitlines()
    assert upgraded[0] == (f"grader: upgraded the schema from revision 0002 to {head} "
                           f"({count[0]} tables, {count[0] - before[0]} new); applied:")
    assert [line.split()[0] for line in upgraded[1:]] == \
        [f"{n:04d}" for n in range(3, int(head) + 1)]
    assert migrate() == (f"grader: the database is already at revision {head} "
                         f"({count[0]} tables); nothing to do\n")
