"""Pushed bundles against a real ``grader serve``: push with the CLI, grade, pull, roll back;
hostile references are refused in bounded time, and a pushed reference never runs in the
server's process."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from grader.catalog.bundle import BundleFiles
from tests.conftest import EXERCISES, REFERENCES, Server, copy_bundle

pytestmark = pytest.mark.processes

INSTRUCTOR = "instructor-token-pushed-0123456789"
AUTH = {"Authorization": f"Bearer {INSTRUCTOR}"}
HOSTILE_SECONDS = 20  # a refusal of a hostile reference comes within this
# lines of conv2d's reference.py: code appended to it starts after them
BASE = len((REFERENCES / "conv2d.py").read_text().splitlines())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server(tmp_path_factory.mktemp("pushed"), {
        "GRADER_INSTRUCTOR_TOKENS": INSTRUCTOR,
        "GRADER_HIDDEN_SECRET": "hidden-secret-of-the-pushed-tests"}).start()
    yield server
    server.stop()


def bundle(folder: Path, exercise_id: str, reference_tail: str = "", title: str | None = None,
           case_seconds: float | None = None) -> Path:
    """conv2d's bundle as ``exercise_id`` in ``folder``, with code added to reference.py."""
    target = folder / exercise_id
    copy_bundle("conv2d", target)
    spec = (target / "exercise.toml").read_text()
    spec = spec.replace('id = "conv2d"', f'id = "{exercise_id}"', 1)
    if title is not None:
        spec = spec.replace('title = "', f'title = "{title} ', 1)
    if case_seconds is not None:
        spec = spec.replace("case_seconds = 2.0", f"case_seconds = {case_seconds}", 1)
    (target / "exercise.toml").write_text(spec)
    with open(target / "reference.py", "a") as reference:
        reference.write(reference_tail)
    return target


def cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "grader.cli", "exercises", *map(str, args)],
                          capture_output=True, text=True, timeout=300)


def submit(server: Server, exercise_id: str, sample: str) -> dict:
    source = (EXERCISES / "conv2d" / "samples" / f"{sample}.py").read_text()
    response = httpx.post(f"{server.url}/v1/submissions", timeout=60, json={
        "exercise_id": exercise_id, "source": source, "learner_id": "ada"})
    assert response.status_code == 200, response.text
    return response.json()


def versions_of(server: Server, submission_ids: list[str]) -> list[int]:
    with sqlite3.connect(server.data_dir / "grader.db") as db:
        return [db.execute("SELECT exercise_version FROM submissions WHERE id = ?",
                           (i,)).fetchone()[0] for i in submission_ids]


def test_a_pushed_bundle_grades_and_its_reference_never_runs_in_the_server(
        server: Server, tmp_path: Path) -> None:
    marker = tmp_path / "imported-in-the-server"
    # in the server's process this would write the marker; in the sandbox it cannot
    folder = bundle(tmp_path, "pushed_conv", f"\ntry:\n    open({str(marker)!r}, 'w').close()\n"
                    "except OSError:\n    pass\n")
    pushed = cli("push", folder, "--url", server.url, "--token", INSTRUCTOR)
    assert pushed.returncode == 0, pushed.stderr
    assert pushed.stdout.strip() == "published pushed_conv version 1"

    correct = submit(server, "pushed_conv", "correct_numpy")
    assert correct["status"] == "done" and correct["report"]["passed"]
    flipped = submit(server, "pushed_conv", "flipped_kernel")
    assert not flipped["report"]["passed"]
    assert [f["code"] for f in flipped["report"]["diagnosis"]] == ["flipped_kernel"]
    assert versions_of(server, [correct["id"], flipped["id"]]) == [1, 1]
    page = httpx.get(f"{server.url}{flipped['report_url']}", timeout=60)
    assert page.status_code == 200 and "<svg" in page.text
    assert not marker.exists()


def test_pull_returns_what_was_pushed(server: Server, tmp_path: Path) -> None:
    folder = bundle(tmp_path / "mine", "pulled_conv")
    assert cli("push", folder, "--url", server.url, "--token", INSTRUCTOR).returncode == 0
    pulled = cli("pull", "pulled_conv", "--url", server.url, "--token", INSTRUCTOR,
                 "--dir", tmp_path / "theirs")
    assert pulled.returncode == 0, pulled.stderr
    assert BundleFiles.read(tmp_path / "theirs" / "pulled_conv") == BundleFiles.read(folder)
    assert httpx.get(f"{server.url}/v1/exercises/pulled_conv/bundle").status_code == 401


def test_pull_refuses_to_overwrite_local_edits_unless_forced(server: Server,
                                                             tmp_path: Path) -> None:
    folder = bundle(tmp_path / "mine", "edited_conv")
    assert cli("push", folder, "--url", server.url, "--token", INSTRUCTOR).returncode == 0
    pull = ("pull", "edited_conv", "--url", server.url, "--token", INSTRUCTOR,
            "--dir", tmp_path / "theirs")
    assert cli(*pull).returncode == 0
    local = tmp_path / "theirs" / "edited_conv"
    assert cli(*pull).returncode == 0  # the same files again: nothing to lose
    (local / "reference.py").write_text("# my edit\n")
    (local / "samples" / "mine.py").write_text("# my sample\n")
    (local / "samples" / "notes.txt").write_text("not a bundle's file\n")
    (local / "NOTES.md").write_text("mine\n")

    refused = cli(*pull)
    assert refused.returncode == 1
    assert "reference.py, samples/mine.py" in refused.stderr and "--force" in refused.stderr
    assert (local / "reference.py").read_text() == "# my edit\n"
    assert (local / "samples" / "mine.py").exists()

    forced = cli(*pull, "--force")
    assert forced.returncode == 0, forced.stderr
    assert BundleFiles.read(local) == BundleFiles.read(folder)
    assert not (local / "samples" / "mine.py").exists()
    assert (local / "samples" / "notes.txt").exists() and (local / "NOTES.md").exists()


@pytest.mark.parametrize(("name", "tail", "reason"), [
    ("loops", "\ndef conv(image, kernel):\n    while True:\n        pass\n",
     "ran past the case's time limit"),
    ("reads_passwd", "\ndef conv(image, kernel):\n    return open('/etc/passwd').read()\n",
     f"reference.py:{BASE + 3}: the reference 'conv' raised PermissionError"),
    ("forks", "\nimport os\n\n\ndef conv(image, kernel):\n    os.fork()\n    return image\n",
     f"reference.py:{BASE + 6}: the reference 'conv' raised PermissionError"),
    ("loops_on_import", "\nwhile True:\n    pass\n", "ran past the case's time limit"),
])
def test_a_hostile_reference_is_refused_in_bounded_time(
        server: Server, tmp_path: Path, name: str, tail: str, reason: str) -> None:
    folder = bundle(tmp_path, f"hostile_{name}", tail, case_seconds=0.5)
    files = BundleFiles.read(folder).files()
    started = time.monotonic()
    response = httpx.put(f"{server.url}/v1/exercises/hostile_{name}", headers=AUTH, timeout=120,
                         json={"files": files})
    assert time.monotonic() - started < HOSTILE_SECONDS
    assert response.status_code == 422, response.text
    assert reason in response.json()["detail"]
    # its CPU time, or on a busy machine the wall clock's limit: the number is the limit's
    assert ("in CPU time (0.5 s)" in response.json()["detail"]
            or "on the wall clock (2.5 s)" in response.json()["detail"]) or "time" not in reason
    assert httpx.get(f"{server.url}/v1/exercises/hostile_{name}").status_code == 404
    assert httpx.get(f"{server.url}/readyz").status_code == 200


CONV2D_SPEC = (EXERCISES / "conv2d" / "exercise.toml").read_text()
IMAGE_DRAW = 'distribution = "normal"\nmean = 0.0\nstd = 1.0'
HOSTILE_SPECS = {  # name -> (what replaces what in conv2d's spec, what the refusal says)
    "nested_arrays": (("statement = ", "x = " + "[" * 5000 + "]" * 5000 + "\nstatement = "),
                      "nest 5000 deep"),
    "nested_tables": (("statement = ", "x = " + "{a = " * 3000 + "1" + "}" * 3000
                       + "\nstatement = "), "nest 3000 deep"),
    "uniform_overflow": ((IMAGE_DRAW, 'distribution = "uniform"\nlow = -1e308\nhigh = 1e308'),
                         "uniform low and high must be within"),
    "infinite_std": ((IMAGE_DRAW, 'distribution = "normal"\nmean = 0.0\nstd = inf'),
                     "arguments.0.std: Input should be a finite number"),
    "nan_low": ((IMAGE_DRAW, 'distribution = "uniform"\nlow = nan\nhigh = 1.0'),
                "arguments.0.low: Input should be a finite number"),
    "huge_integer": ((IMAGE_DRAW, "distribution = \"normal\"\nmean = 1" + "0" * 400
                      + "\nstd = 1.0"), "arguments.0.mean"),
    # three cases of 2000x2000: each within a case's limit, all three over a submission's
    "inputs_of_gigabytes": (("shapes = { image = [8, 8] }", "shapes = { image = [2000, 2000] }"
                             + "\npoints = 1\nvisible = true\n\n[[cases]]\nname = \"b\""
                             + "\nshapes = { image = [2000, 2000] }\npoints = 1\nvisible = true"
                             + "\n\n[[cases]]\nname = \"c\"\nshapes = { image = [2000, 2000] }"),
                            "more than the 8388608"),
    "case_too_large": (("shapes = { image = [8, 8] }", "shapes = { image = [4096, 4096] }"),
                       "argument 'image' is too large: [4096, 4096]"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_SPECS))
def test_a_hostile_spec_is_refused_with_its_file_and_line(server: Server, tmp_path: Path,
                                                          name: str) -> None:
    """Refused when it is read, before anything is drawn or run: 422 naming exercise.toml and
    a line, never a 500, and the server stays ready."""
    (old, new), reason = HOSTILE_SPECS[name]
    exercise_id = f"hostile_spec_{name}"
    folder = bundle(tmp_path, exercise_id)
    spec = (folder / "exercise.toml").read_text()
    assert old in spec
    (folder / "exercise.toml").write_text(spec.replace(old, new, 1))
    response = httpx.put(f"{server.url}/v1/exercises/{exercise_id}", headers=AUTH, timeout=60,
                         json={"files": BundleFiles.read(folder).files()})
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert re.search(r"exercise\.toml:\d+", detail), detail
    assert reason in detail
    assert httpx.get(f"{server.url}/v1/exercises/{exercise_id}").status_code == 404
    assert httpx.get(f"{server.url}/readyz").status_code == 200


def test_a_refusal_names_the_bundle_file_and_line(server: Server, tmp_path: Path) -> None:
    folder = bundle(tmp_path, "broken_conv", "\ndef oops(:\n")
    pushed = cli("push", folder, "--url", server.url, "--token", INSTRUCTOR)
    assert pushed.returncode == 1
    assert f"reference.py:{BASE + 2}: reference.py does not parse" in pushed.stderr
    (folder / "reference.py").write_text((REFERENCES / "conv2d.py").read_text())
    spec = (folder / "exercise.toml").read_text()
    (folder / "exercise.toml").write_text(spec.replace('function = "same_padding"',
                                                       'function = "same_paddin"'))
    pushed = cli("push", folder, "--url", server.url, "--token", INSTRUCTOR)
    line = spec.splitlines().index('function = "same_padding"') + 1
    assert f"exercise.toml:{line}: mistakes[1].function: reference.py defines no " \
        "'same_paddin'" in pushed.stderr


def test_versions_rollback_and_a_regrade_with_the_newest(server: Server, tmp_path: Path) -> None:
    first = bundle(tmp_path / "1", "versioned_conv", title="First:")
    assert cli("push", first, "--url", server.url, "--token", INSTRUCTOR).returncode == 0
    graded = submit(server, "versioned_conv", "correct_numpy")
    second = bundle(tmp_path / "2", "versioned_conv", title="Second:")
    assert cli("push", second, "--url", server.url, "--token", INSTRUCTOR).returncode == 0
    assert httpx.get(f"{server.url}/v1/exercises/versioned_conv").json()["title"].startswith(
        "Second:")
    restored = httpx.post(f"{server.url}/v1/exercises/versioned_conv/versions/1/restore",
                          headers=AUTH)
    assert restored.status_code == 201, restored.text
    assert restored.json()["version"] == 3 and restored.json()["title"].startswith("First:")
    versions = httpx.get(f"{server.url}/v1/exercises/versioned_conv/versions", headers=AUTH).json()
    assert [(v["version"], v["bundle"], v["restored_from"]) for v in versions["items"]] == [
        (1, True, None), (2, True, None), (3, True, 1)]
    again = submit(server, "versioned_conv", "same_padding")
    assert versions_of(server, [graded["id"], again["id"]]) == [1, 3]
    assert [f["code"] for f in again["report"]["diagnosis"]] == ["same_padding"]

    regrade = httpx.post(f"{server.url}/v1/exercises/versioned_conv/regrade", headers=AUTH)
    assert regrade.status_code == 202 and regrade.json()["queued"] == 2
    end = time.monotonic() + 60
    while versions_of(server, [graded["id"], again["id"]]) != [3, 3] or any(
            httpx.get(f"{server.url}/v1/submissions/{i}").json()["status"] != "done"
            for i in (graded["id"], again["id"])):
        assert time.monotonic() < end
        time.sleep(0.2)
    missing = httpx.post(f"{server.url}/v1/exercises/versioned_conv/versions/9/restore",
                         headers=AUTH)
    assert missing.status_code == 404


def test_versions_restore_and_regrade_from_the_command_line(server: Server,
                                                            tmp_path: Path) -> None:
    token = ("--url", server.url, "--token", INSTRUCTOR)
    for n, title in ((1, "First:"), (2, "Second:")):
        folder = bundle(tmp_path / str(n), "cli_versioned", title=title)
        message = ("--message", "a second title") if n == 2 else ()
        assert cli("push", folder, *message, *token).returncode == 0
    graded = submit(server, "cli_versioned", "correct_numpy")

    restored = cli("restore", "cli_versioned", "1", *token)
    assert restored.returncode == 0, restored.stderr
    assert restored.stdout == "restored cli_versioned version 1 as version 3\n"
    assert httpx.get(f"{server.url}/v1/exercises/cli_versioned").json()["title"].startswith(
        "First:")
    listed = cli("versions", "cli_versioned", *token)
    assert listed.returncode == 0, listed.stderr
    rows = [(line.split()[0], line.split()[2]) for line in listed.stdout.splitlines()]
    assert rows == [("1", "bundle"), ("2", "bundle:"), ("3", "bundle,")]
    assert listed.stdout.splitlines()[1].endswith("bundle: a second title")
    assert listed.stdout.splitlines()[2].endswith("bundle, restored from version 1")

    regraded = cli("regrade", "cli_versioned", *token)
    assert regraded.returncode == 0, regraded.stderr
    assert regraded.stdout == "regrading cli_versioned: 1 submissions queued\n"
    end = time.monotonic() + 60
    while versions_of(server, [graded["id"]]) != [3]:
        assert time.monotonic() < end
        time.sleep(0.2)

    missing = cli("restore", "cli_versioned", "9", *token)
    assert missing.returncode == 1 and "refused (404)" in missing.stderr
    wrong_token = cli("versions", "cli_versioned", "--url", server.url, "--token", "nope")
    assert wrong_token.returncode == 1 and "(401)" in wrong_token.stderr
