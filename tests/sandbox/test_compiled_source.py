"""The child loads code the grader compiled (``marshal``) instead of compiling the source
itself: every report is the one the child's own compile gives, byte for byte."""

from __future__ import annotations

import json

import pytest

from grader.catalog.exercises import Exercise
from grader.grading.grade import grade
from grader.grading.report import Report
from grader.sandbox import conversation, source
from grader.sandbox.forkserver import ForkServerRunner
from tests.conftest import EXERCISES, HIDDEN_SECRET, SUBMISSIONS

pytestmark = pytest.mark.processes

CORRECT_BODY = """
    h, w = image.shape
    out = np.zeros((h - 2, w - 2))
    for i in range(h - 2):
        for j in range(w - 2):
            out[i, j] = np.sum(image[i:i + 3, j:j + 3] * kernel)
"""
ODD = {
    # annotations are never evaluated: the harness has always compiled with that future
    "annotations": "import numpy as np\ndef conv(image: Undefined, kernel: 1 / 0) -> Nope:"
                   + CORRECT_BODY + "    return out\n",
    # no optimisation: an assert runs
    "assert": "import numpy as np\ndef conv(image, kernel):\n    assert image.shape[0] < 9, "
              "'too tall'" + CORRECT_BODY + "    return out\n",
    "filename": "def conv(image, kernel):\n    raise ValueError(conv.__code__.co_filename + "
                "' ' + __name__ + ' ' + str(conv.__code__.co_firstlineno))\n",
    "traceback_line": "import numpy as np\n\ndef conv(image, kernel):\n    x = 1\n"
                      "    return image / (x - 1) if x else None\n\nq = 1 // 0\n",
    # parsed by the grader's syntax check, refused by the compiler: the child's compile says so
    "return_outside_function": "def conv(image, kernel):\n    return image\nreturn 3\n",
    "nonlocal_at_module_level": "nonlocal x\ndef conv(image, kernel):\n    return image\n",
    "await_outside_async": "def conv(image, kernel):\n    await image\n",
    # compile-time warnings: the child gives them, on the run's stderr
    "is_literal": "import numpy as np\ndef conv(image, kernel):\n    if image is 1:\n        pass"
                  + CORRECT_BODY + "    return out\n",
    "invalid_escape": "import numpy as np\ndef conv(image, kernel):\n    s = '\\d'"
                      + CORRECT_BODY + "    return out\n",
    "unicode": "import numpy as np\n# école ☃\ndef conv(image, kernel):\n    s = 'é☃'"
               + CORRECT_BODY + "    return out + len(s) - 2\n",
}


def _timeless(report: Report) -> str:
    def strip(value: object) -> object:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "duration_ms"}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value
    return json.dumps(strip(json.loads(report.model_dump_json())))


def _sources() -> dict[str, str]:
    sources = dict(ODD)
    for path in sorted((EXERCISES / "conv2d" / "samples").glob("*.py")):
        sources[f"sample {path.stem}"] = path.read_text()
    for name in ("raises", "load_error", "no_entry_point", "prints_everywhere", "mutates_input",
                 "terminal_escapes", "returns_none", "sys_exit", "leaks_hidden_input"):
        sources[name] = (SUBMISSIONS / f"{name}.py").read_text()
    return sources


def test_the_compiler_s_own_errors_are_left_to_the_child() -> None:
    assert source.compiled(ODD["annotations"]) is not None
    for name in ("return_outside_function", "nonlocal_at_module_level", "await_outside_async"):
        assert source.compiled(ODD[name]) is None, name
    assert source.compiled("def conv(:\n") is None


def test_a_source_whose_compiling_warns_is_left_to_the_child_and_the_grader_prints_nothing(
        capfd: pytest.CaptureFixture[str]) -> None:
    assert source.compiled(ODD["is_literal"]) is None
    assert source.compiled(ODD["invalid_escape"]) is None
    assert capfd.readouterr() == ("", "")


def test_a_report_is_the_same_whether_the_grader_or_the_child_compiles(
        conv2d: Exercise, runner: ForkServerRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    sources = _sources()
    by_grader = {name: _timeless(grade(conv2d, text, runner, seed=5,
                                       hidden_secret=HIDDEN_SECRET))
                 for name, text in sources.items()}
    monkeypatch.setattr(conversation, "compiled", lambda text: None)
    for name, text in sources.items():
        by_child = _timeless(grade(conv2d, text, runner, seed=5, hidden_secret=HIDDEN_SECRET))
        assert by_grader[name] == by_child, name
    # the odd ones say what they are about
    assert "too tall" in by_grader["assert"]
    assert "submission.py submission 1" in by_grader["filename"]
    assert "outside function" in by_grader["return_outside_function"]
    assert json.loads(by_grader["annotations"])["passed"]
    assert '"is" with a literal' in json.loads(by_grader["is_literal"])["stderr"]
