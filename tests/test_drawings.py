"""The visible cases' arrays a grading keeps for its report page: what is kept, and that a
damaged record reads back as less, never as an error."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.signal import convolve2d

from grader.catalog.exercises import Exercise
from grader.grading.drawings import FEW, GOT_FACTOR, MOST_ELEMENTS, Drawings
from grader.grading.grade import grade
from grader.grading.inputs import case_arguments
from grader.sandbox.base import LearnerError
from grader.sandbox.fake import FakeRunner
from tests.conftest import HIDDEN_SECRET


def test_the_arrays_read_back_as_they_were_kept() -> None:
    drawings = Drawings()
    expected = np.arange(12, dtype=np.float64).reshape(3, 4) / 7
    drawings.keep("a", expected, np.array([[1, 2], [3, 4]], dtype=np.int16),
                  LearnerError("ValueError", "no", 3, "x = y"))
    drawings.keep("b", np.array(2.5), None, None)
    drawings.keep("c", np.ones(5), np.array(["not", "numbers"]), None)
    back = Drawings.decode(drawings.encode())
    assert back is not None and list(back.cases) == ["a", "b", "c"]
    a = back.cases["a"]
    assert np.array_equal(a.expected, expected) and a.expected.dtype == np.float64
    assert a.got is not None and a.got.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert a.error == LearnerError("ValueError", "no", 3, "x = y")
    assert back.cases["b"].expected.shape == () and back.cases["b"].got is None
    assert back.cases["c"].got is None  # no real numbers to draw


def test_an_array_too_large_to_draw_is_not_kept_and_says_so() -> None:
    """A learner's output is kept up to a few times the expected one's size (at least FEW
    values): no submission makes its record much larger than an honest one's."""
    drawings = Drawings()
    drawings.keep("at the bound", np.ones(4), np.ones(FEW), None)
    drawings.keep("past it", np.ones(4), np.ones(FEW + 1), None)
    drawings.keep("four times", np.ones(2 * FEW), np.ones(GOT_FACTOR * 2 * FEW), None)
    drawings.keep("big expected", np.ones(MOST_ELEMENTS + 1), np.ones(4), None)
    drawings.keep("strings", np.ones(4), np.array(["a"] * (FEW + 1)), None)
    back = Drawings.decode(drawings.encode())
    assert back is not None
    assert list(back.cases) == ["at the bound", "past it", "four times", "strings"]
    assert [d.got is not None for d in back.cases.values()] == [True, False, True, False]
    assert [d.too_large for d in back.cases.values()] == [False, True, False, False]
    assert len(drawings.encode()) < 12 * (FEW + GOT_FACTOR * 2 * FEW + 2 * FEW)


def _entry(**changes: object) -> str:
    drawings = Drawings()
    drawings.keep("a", np.ones((2, 2)), np.zeros((2, 2)), None)
    data = json.loads(drawings.encode())
    data["cases"]["a"].update(changes)
    return json.dumps(data)


@pytest.mark.parametrize("text", [
    None, "", "not json", "[]", '{"format": 2, "cases": {}}', '{"format": 1, "cases": []}',
    "[" * 100_000])
def test_what_is_not_a_record_of_drawings_reads_as_none(text: str | None) -> None:
    assert Drawings.decode(text) is None


@pytest.mark.parametrize("damage", [
    {"expected": None}, {"expected": [1, 2]}, {"expected": {"shape": [2, 2], "data": "!!"}},
    {"expected": {"shape": [3, 3], "data": ""}}, {"got": {"shape": [-1], "data": ""}},
    {"got": {"shape": [2, 2], "data": 5}}, {"got": {"shape": "2x2", "data": ""}},
    {"got": {"shape": [1] * 40, "data": "AAAAAAAAAAA="}},
    {"expected": {"shape": [2 ** 70], "data": ""}}, {"expected": {"shape": [True], "data": ""}},
    {"got": {"shape": [2 ** 32, 2 ** 32, 0], "data": ""}}])
def test_a_damaged_case_is_left_out_and_the_others_kept(damage: dict[str, object]) -> None:
    data = json.loads(_entry(**damage))
    data["cases"]["b"] = json.loads(_entry())["cases"]["a"]
    back = Drawings.decode(json.dumps(data))
    assert back is not None and list(back.cases) == ["b"]


def test_a_malformed_error_is_kept_as_what_can_be_read_of_it() -> None:
    back = Drawings.decode(_entry(error={"type": 7, "message": "m", "line": -2}))
    assert back is not None
    assert back.cases["a"].error == LearnerError("Exception", "m", None, None)


def test_grading_keeps_the_visible_cases_arrays_and_nothing_of_a_hidden_one(
        conv2d: Exercise) -> None:
    def flipped(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
        if image.shape == (12, 10):
            raise ValueError("tall")
        return convolve2d(image, kernel, mode="valid")

    drawings = Drawings()
    report = grade(conv2d, "def conv(image, kernel): ...", FakeRunner(flipped), seed=5,
                   hidden_secret=HIDDEN_SECRET, drawings=drawings)
    visible = [c.name for c in report.cases if c.visible]
    assert list(drawings.cases) == visible == ["square 8x8", "tall 12x10"]
    arguments = case_arguments(conv2d.spec, 5, HIDDEN_SECRET)
    square = drawings.cases["square 8x8"]
    assert square.got is not None and np.allclose(square.got, convolve2d(*arguments[0], "valid"))
    assert square.expected.shape == (6, 6) and square.error is None
    tall = drawings.cases["tall 12x10"]
    assert tall.got is None and tall.error is not None and tall.error.message == "tall"
    text = drawings.encode()
    back = Drawings.decode(text)
    assert back is not None and list(back.cases) == visible
    kept = [a for d in back.cases.values() for a in (d.expected, d.got) if a is not None]
    for index, case in enumerate(conv2d.spec.cases):
        if not case.visible:  # no hidden case's input or output is in the record
            image, kernel = arguments[index]
            hidden = (image, kernel, convolve2d(image, kernel[::-1, ::-1], "valid"))
            assert case.name not in text
            assert not any(a.shape == h.shape and np.allclose(a, h) for a in kept
                           for h in hidden)
