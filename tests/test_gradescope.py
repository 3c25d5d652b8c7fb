"""Gradescope's autograder format: ``grader grade --format gradescope`` and the zip of
``grader export gradescope``, whose ``run_autograder`` is run here on a folder laid out as
Gradescope's (``scripts/docker-smoke`` runs it in a Debian container, from setup.sh on)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from grader.catalog.exercises import Exercise
from grader.grading.gradescope import results
from grader.grading.report import Report
from tests.conftest import EXERCISES, ROOT, SUBMISSIONS
from tests.gradescope_format import problems

pytestmark = pytest.mark.processes

SAMPLES = EXERCISES / "conv2d" / "samples"
SECRET = {"GRADER_HIDDEN_SECRET": "gradescope-tests-hidden-secret-0123"}


def gradescope(path: Path) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-m", "grader.cli", "grade", "conv2d", str(path),
                           "--format", "gradescope", "--seed", "5"], capture_output=True,
                          text=True, timeout=120, env={**os.environ, **SECRET})
    assert done.returncode in (0, 1), done.stderr
    found: dict[str, object] = json.loads(done.stdout)
    assert problems(found) == []
    return found


def cases_of(found: dict[str, object]) -> list[dict[str, object]]:
    tests = found["tests"]
    assert isinstance(tests, list)
    return tests


def test_a_pass_scores_every_case_and_hides_the_hidden_ones_until_published() -> None:
    found = gradescope(SAMPLES / "correct_loops.py")
    tests = cases_of(found)
    assert found["score"] == 4 and [t["status"] for t in tests] == ["passed"] * 4
    assert [t["visibility"] for t in tests] == ["visible", "visible", "after_published",
                                                "after_published"]
    assert sum(t["score"] for t in tests) == found["score"]  # type: ignore[misc]
    assert found["stdout_visibility"] == "hidden"


def test_a_fail_names_the_mistake_and_gives_no_hidden_values() -> None:
    found = gradescope(SAMPLES / "flipped_kernel.py")
    tests = cases_of(found)
    assert found["score"] == 0 and {t["status"] for t in tests} == {"failed"}
    assert "flipped_kernel" in str(found["output"]) and "flipped_kernel" in str(tests[0]["output"])
    hidden = [str(t["output"]) for t in tests if t["visibility"] == "after_published"]
    assert len(hidden) == 2 and all("[" not in text for text in hidden)  # no array printed


def test_a_syntax_error_is_shown_once_with_its_line_and_caret() -> None:
    found = gradescope(SUBMISSIONS / "syntax_error.py")
    assert found["score"] == 0
    assert "(line 4)\n    def conv(image kernel):\n" in str(found["output"])
    assert [t["output"] for t in cases_of(found)][:2] == ["the submission has a syntax error"] * 2


def test_a_timeout_is_a_failed_test_that_says_so(
        quick_conv2d: Exercise, grade_file: Callable[..., Report]) -> None:
    report = grade_file("infinite_loop", quick_conv2d)
    found = results(report, quick_conv2d.spec.title)
    assert problems(found) == []
    assert [t["status"] for t in found["tests"]] == ["failed"] * 4
    assert all(case.status == "timeout" for case in report.cases)
    assert all(t["output"] == case.message for t, case in zip(found["tests"], report.cases,
                                                                   strict=True))


def test_the_format_check_itself_refuses_what_gradescope_would() -> None:
    assert problems({"tests": [{"status": "ok", "score": "1", "visibility": "public"}]}) == [
        "tests[0].score: str where (<class 'int'>, <class 'float'>) belongs",
        "tests[0].visibility: 'public'", "tests[0].status: 'ok' is not passed or failed"]
    assert problems({"score": 1, "surprise": 2}) == ["unknown key 'surprise'"]


@pytest.fixture(scope="module")
def autograder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The exported zip, unpacked as Gradescope does into ``source/``."""
    root = tmp_path_factory.mktemp("autograder")
    out = root / "autograder.zip"
    done = subprocess.run([sys.executable, "-m", "grader.cli", "export", "gradescope",
                           "conv2d", "--out", str(out)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(out) as archive:
        modes = {info.filename: info.external_attr >> 16 for info in archive.infolist()}
        assert modes["setup.sh"] & stat.S_IXUSR and modes["run_autograder"] & stat.S_IXUSR
        archive.extractall(root / "source")
    for script in ("setup.sh", "run_autograder"):
        (root / "source" / script).chmod(0o755)
    return root


def test_the_zip_holds_the_bundle_self_contained_and_the_package(autograder: Path) -> None:
    source = autograder / "source"
    bundle = source / "exercises" / "conv2d"
    assert "reference_file" not in tomllib.loads((bundle / "exercise.toml").read_text())
    assert (bundle / "reference.py").read_text() == (ROOT / "reference" / "conv2d.py").read_text()
    assert (source / "grader-src" / "grader" / "cli" / "autograder" / "run_autograder").is_file()
    assert '"numpy>=' in (source / "grader-src" / "pyproject.toml").read_text()


def run_autograder(autograder: Path, files: dict[str, str], name: str) -> dict[str, object]:
    """run_autograder on a fresh ``/autograder``-like folder; its results.json."""
    root = autograder / name
    (root / "submission").mkdir(parents=True)
    (root / "source").symlink_to(autograder / "source")
    for file, text in files.items():
        (root / "submission" / file).write_text(text)
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "GRADER_RUN_AS": "",
           "GRADER_BIN": str(Path(sys.executable).with_name("grader"))}
    done = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    found: dict[str, object] = json.loads((root / "results" / "results.json").read_text())
    assert problems(found) == []
    return found


def test_run_autograder_grades_the_one_file_that_defines_the_function(
        autograder: Path) -> None:
    found = run_autograder(autograder, {"notes.py": "x = 1\n",
                                        "mine.py": (SAMPLES / "flipped_kernel.py").read_text()},
                           "flipped")
    assert found["score"] == 0 and "flipped_kernel" in str(found["output"])
    found = run_autograder(autograder, {"conv.py": (SAMPLES / "correct_loops.py").read_text()},
                           "correct")
    assert found["score"] == 4


def test_run_autograder_explains_a_submission_it_cannot_choose_from(autograder: Path) -> None:
    correct = (SAMPLES / "correct_loops.py").read_text()
    found = run_autograder(autograder, {"a.py": correct, "b.py": correct}, "two")
    assert found["score"] == 0 and found["tests"] == []
    assert "2 Python files and 2 of them define it" in str(found["output"])
    found = run_autograder(autograder, {"readme.txt": "hi"}, "none")
    assert "No Python file was submitted" in str(found["output"])
