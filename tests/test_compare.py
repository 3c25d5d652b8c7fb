"""The step-by-step comparison and its messages."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from grader.catalog.spec import Comparison
from grader.grading.compare import (
    HIDDEN_MESSAGES,
    Verdict,
    compare,
    matches,
    precision,
    stated_shape,
)
from grader.grading.messages import say
from grader.sandbox.base import CaseRun, Invalid, LearnerError, Limit

RULES = Comparison(rtol=1e-6, atol=1e-9)
EXPECTED = np.arange(36, dtype=float).reshape(6, 6) / 7


def output(array: np.ndarray, output_type: str = "ndarray") -> CaseRun:
    return CaseRun(kind="output", array=array, output_type=output_type)


def test_equal_output_passes() -> None:
    verdict = compare(output(EXPECTED.copy()), EXPECTED, RULES, visible=True)
    assert verdict.status == "passed"
    assert verdict.max_abs_error == 0.0


def test_values_within_tolerance_pass() -> None:
    verdict = compare(output(EXPECTED * (1 + 1e-9)), EXPECTED, RULES, visible=True)
    assert verdict.status == "passed"


def test_integer_output_is_compared_as_numbers() -> None:
    whole = np.arange(36).reshape(6, 6)
    assert compare(output(whole), whole.astype(float), RULES, True).status == "passed"


def test_wrong_shape_says_expected_and_got() -> None:
    verdict = compare(output(np.zeros((8, 8))), EXPECTED, RULES, visible=True)
    assert verdict.status == "wrong_shape"
    assert verdict.message == "expected an array of shape (6, 6), got (8, 8)"
    assert verdict.output_shape == [8, 8]


def test_an_empty_output_is_said_to_be_empty() -> None:
    verdict = compare(output(np.zeros((0, 6))), EXPECTED, RULES, visible=True)
    assert verdict.message.startswith("expected an array of shape (6, 6), got (0, 6): your "
                                      "output is empty")


def test_wrong_number_of_dimensions_is_named() -> None:
    verdict = compare(output(np.zeros(36)), EXPECTED, RULES, visible=True)
    assert "(36,)" in verdict.message and "1-D instead of 2-D" in verdict.message


def test_an_array_where_one_number_is_expected_is_said_so() -> None:
    verdict = compare(output(np.ones((3, 3))), np.float64(2.5), RULES, visible=True)
    assert verdict.status == "wrong_shape"
    assert verdict.message == "expected one number, got an array of shape (3, 3) (9 numbers)"


def test_one_number_in_an_array_where_one_number_is_expected_is_said_so() -> None:
    verdict = compare(output(np.ones(1)), np.float64(2.5), RULES, visible=True)
    assert verdict.message == ("expected one number, got an array of shape (1,) that holds "
                               "one: return the number itself (e.g. its .item())")


def test_one_number_where_an_array_is_expected_is_said_so() -> None:
    verdict = compare(output(np.array(2.5)), EXPECTED, RULES, visible=True)
    assert verdict.status == "wrong_shape"
    assert verdict.message == "expected an array of shape (6, 6), got one number"


def test_wrong_values_say_how_far_where_and_how_many() -> None:
    got = EXPECTED.copy()
    got[2, 4] += 5.0
    got[0, 0] += 0.5
    verdict = compare(output(got), EXPECTED, RULES, visible=True)
    assert verdict.status == "wrong_values"
    assert verdict.max_abs_error == 5.0
    assert "2 of 36 values (6%)" in verdict.message
    assert "the largest error is 5, at [2, 4]" in verdict.message
    assert f"expected {EXPECTED[2, 4]:.4g}, got {got[2, 4]:.4g}" in verdict.message
    assert "expected, from [1, 3]:" in verdict.message


def test_hidden_case_says_only_its_status() -> None:
    got = EXPECTED.copy()
    got[2, 4] += 5.0
    verdict = compare(output(got), EXPECTED, RULES, visible=False)
    assert verdict == Verdict("wrong_values", say(HIDDEN_MESSAGES["wrong_values"]))


def test_hidden_wrong_shape_shows_no_shape() -> None:
    verdict = compare(output(np.zeros((8, 8))), EXPECTED, RULES, visible=False)
    assert verdict == Verdict("wrong_shape", say(HIDDEN_MESSAGES["wrong_shape"]))


@pytest.mark.parametrize("name", ["ValueError", "ZeroDivisionError", "KeyboardInterrupt",
                                  "MemoryError", "BaseException"])
def test_a_hidden_exception_of_a_builtin_class_is_named(name: str) -> None:
    run = CaseRun(kind="error", error=LearnerError(name, "the input was 0.7316", 3, "x = 1"))
    verdict = compare(run, EXPECTED, RULES, visible=False)
    assert verdict == Verdict("error", f"hidden case: your code raised {name}")


@pytest.mark.parametrize("name", ["Saw0_7316", "print", "object", "__loader__", "int",
                                  "builtins.ValueError", "", "ValueError\x1b[2K"])
def test_any_other_hidden_exception_is_just_an_exception(name: str) -> None:
    run = CaseRun(kind="error", error=LearnerError(name, "the input was 0.7316"))
    verdict = compare(run, EXPECTED, RULES, visible=False)
    assert verdict == Verdict("error", "hidden case: your code raised an exception")


def test_nan_and_inf_are_invalid_output() -> None:
    got = EXPECTED.copy()
    got[1, 2] = np.nan
    got[3, 3] = np.inf
    verdict = compare(output(got), EXPECTED, RULES, visible=True)
    assert verdict.status == "invalid_output"
    assert "1 NaN and 1 infinite values, the first at [1, 2]" in verdict.message
    assert "NaN often comes from 0 / 0" in verdict.message  # and what makes them


def test_lists_are_refused_when_the_spec_accepts_arrays_only() -> None:
    rules = Comparison(accept=["ndarray"])
    verdict = compare(output(EXPECTED, output_type="list"), EXPECTED, rules, visible=True)
    assert verdict.status == "invalid_output"
    assert verdict.message == "expected a numpy array, got nested lists"


def test_boolean_array_is_invalid_output() -> None:
    verdict = compare(output(np.ones((6, 6), dtype=bool)), EXPECTED, RULES, visible=True)
    assert verdict.status == "invalid_output"


def test_child_reported_failures_map_to_their_status() -> None:
    error = LearnerError("ValueError", "bad shape", line=4, text="out[0] = image[0]")
    cases = {
        "error": CaseRun(kind="error", error=error),
        "timeout": CaseRun(kind="timeout", limit=Limit.CASE_TIME, limit_value=2.0, seconds=2.0),
        "memory_limit": CaseRun(kind="memory_limit", limit=Limit.MEMORY, signal=9),
        "crashed": CaseRun(kind="crashed", signal=11),
        "invalid_output": CaseRun(kind="invalid", invalid=Invalid.TYPE,
                                  params={"type": "NoneType"}),
    }
    for status, run in cases.items():
        assert compare(run, EXPECTED, RULES, visible=True).status == status
    message = compare(cases["error"], EXPECTED, RULES, True).message
    assert message == "your code raised ValueError: bad shape (line 4: out[0] = image[0])"
    # None is what a function without a return statement gives: said so
    message = compare(cases["invalid_output"], EXPECTED, RULES, True).message
    assert "got a NoneType" in message and "return statement" in message


def test_matches_needs_same_shape_and_close_values() -> None:
    assert matches(EXPECTED + 1e-12, EXPECTED, RULES)
    assert not matches(EXPECTED + 1e-3, EXPECTED, RULES)
    assert not matches(EXPECTED.T[:5], EXPECTED, RULES)
    nan = EXPECTED.copy()
    nan[0, 0] = np.nan
    assert not matches(nan, EXPECTED, RULES)


SPECIAL = st.sampled_from([0.0, -0.0, 1e-300, 1e300, np.inf, -np.inf, np.nan])
VALUES = st.one_of(st.floats(allow_nan=False, allow_infinity=False, width=64), SPECIAL)


@settings(max_examples=300)
@given(expected=arrays(np.float64, (3, 4), elements=VALUES),
       noise=arrays(np.float64, (3, 4), elements=st.floats(-1e-5, 1e-5)),
       rtol=st.sampled_from([0.0, 1e-9, 1e-6, 1e-2]), atol=st.sampled_from([0.0, 1e-12, 1e-6]))
def test_a_case_passes_exactly_when_numpy_isclose_says_every_value_is_close(
        expected: np.ndarray, noise: np.ndarray, rtol: float, atol: float) -> None:
    with np.errstate(over="ignore"):
        got = np.where(np.isfinite(expected), expected, 1.0) * (1 + noise) + noise
    rules = Comparison(rtol=rtol, atol=atol, precision="float64")  # float64: no floor
    verdict = compare(output(got), expected, rules, visible=True)
    if not np.isfinite(got).all():
        assert verdict.status == "invalid_output"
        return
    close = np.isclose(got, expected, rtol=rtol, atol=atol)
    assert (verdict.status == "passed") == bool(close.all())
    if not close.all():
        assert verdict.message.startswith(f"{int((~close).sum())} of 12 values")


def float32_conv(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    from numpy.lib.stride_tricks import sliding_window_view

    windows = sliding_window_view(image.astype(np.float32), (3, 3))
    return np.einsum("ijkl,kl->ij", windows, kernel.astype(np.float32))


def test_a_correct_float32_output_passes_under_the_spec_s_float64_tolerances() -> None:
    rng = np.random.default_rng(3)
    for shape in [(8, 8), (12, 10), (40, 40)]:
        image, kernel = rng.normal(size=shape), rng.normal(size=(3, 3))
        got = float32_conv(image, kernel)
        want = np.einsum("ijkl,kl->ij",
                         np.lib.stride_tricks.sliding_window_view(image, (3, 3)), kernel)
        assert not np.allclose(got, want, rtol=RULES.rtol, atol=RULES.atol)  # float64's rule
        assert compare(output(got), want, RULES, visible=True).status == "passed"
        as_float64 = output(got.astype(np.float64))  # float32 values in a float64 array
        assert compare(as_float64, want, RULES, visible=True).status == "passed"


def test_a_float32_output_that_is_wrong_still_fails() -> None:
    got = (EXPECTED + 1e-3).astype(np.float32)
    verdict = compare(output(got), EXPECTED, RULES, visible=True)
    assert verdict.status == "wrong_values"


def test_float32_tolerance_follows_the_largest_expected_value() -> None:
    """Near zero, a float32 sum is as far off as its largest terms: 1e-3 off at 1e-3 passes
    next to a 1000, not next to a 1."""
    got = np.array([1000.0, 2e-3], dtype=np.float32)
    assert compare(output(got), np.array([1000.0, 1e-3]), RULES, True).status == "passed"
    assert compare(output(got / 1000), np.array([1.0, 1e-6]), RULES, True).status == "passed"
    small = np.array([1.0, 2e-3], dtype=np.float32)
    assert compare(output(small), np.array([1.0, 1e-3]), RULES, True).status == "wrong_values"
    assert precision(small.astype(np.float64), np.array([1.0, 1e-3])) == np.float32


def test_a_float64_output_gets_the_same_tolerance_as_a_float32_one() -> None:
    """The tolerance is the case's: 1e-5 off at the largest value fails whatever the dtype."""
    got = EXPECTED * (1 + 1e-5) + np.pi * 1e-9  # not float32 values
    assert precision(got) == np.float64
    assert compare(output(got), EXPECTED, RULES, visible=True).status == "wrong_values"
    assert compare(output(got.astype(np.float32)), EXPECTED, RULES, True).status \
        == "wrong_values"


def test_expected_and_got_values_are_shown_with_enough_digits_to_differ() -> None:
    got = EXPECTED.copy()
    got[1, 1] *= 1 + 1e-5  # the same to 4 significant digits
    exact = Comparison(rtol=1e-6, atol=1e-9, precision="float64")
    message = compare(output(got), EXPECTED, exact, visible=True).message
    first = message.splitlines()[0]
    assert "expected 1, got 1.00001" in first


# -- what an output was computed in: float32 only on float32's evidence -------------------------

RIGHT = np.random.default_rng(3).normal(size=(6, 6))


def test_float32_values_in_a_float64_array_are_float32() -> None:
    assert precision(RIGHT.astype(np.float32).astype(np.float64), RIGHT) == np.float32


def test_a_float32_array_is_float32_whatever_its_values() -> None:
    assert precision(np.round(RIGHT).astype(np.float32), np.round(RIGHT)) == np.float32


@pytest.mark.parametrize("got", [
    np.round(RIGHT * 100),  # whole numbers, such as 171: float32 holds them exactly
    np.round(RIGHT, 2),  # a rounding to 2 decimals is no sign of float32
    np.full((6, 6), 0.5),  # a short binary fraction
    RIGHT,  # float64's own values
])
def test_float64_outputs_that_are_not_float32_s_rounding(got) -> None:
    assert precision(got, RIGHT) == np.float64


def test_right_values_that_float32_holds_tell_nothing() -> None:
    """An exercise whose expected values are whole numbers: any right float64 output is
    float32-exact, and so is no evidence."""
    whole = np.round(RIGHT * 100)
    assert precision(whole.copy(), whole) == np.float64
    assert precision(RIGHT.astype(np.float32).astype(np.float64)) == np.float64  # no expected


@pytest.mark.parametrize(("shape", "shown"), [
    ("(1024, 1024)", "an array of shape (1024, 1024): 1048576 elements, more than the 65536"),
    ("(1048576,)", "an array of shape (1048576,): 1048576 elements"),
    ("<b>(1, 2)</b>", "an array of 1048576 elements, more than the 65536 allowed"),  # not one
    ("(70000,)", "an array of 1048576 elements, more than the 65536 allowed"),  # not as many
])
def test_a_too_large_output_shows_its_shape_when_the_child_s_word_reads_as_one(
        shape: str, shown: str) -> None:
    run = CaseRun(kind="invalid", invalid=Invalid.TOO_LARGE, output_type="ndarray",
                  params={"count": 1048576, "limit": 65536, "shape": shape})
    verdict = compare(run, EXPECTED, RULES, visible=True)
    assert verdict.status == "invalid_output" and shown in verdict.message


@pytest.mark.parametrize(("shape", "stated"), [
    ("(1024, 1024)", (1024, 1024)), ("(1048576,)", (1048576,)), ("(70000,)", None),
    ("<b>(1, 2)</b>", None), ("(1, 2) ", None), ("", None)])
def test_a_too_large_output_s_shape_is_read_only_when_it_reads_as_one(
        shape: str, stated: tuple[int, ...] | None) -> None:
    run = CaseRun(kind="invalid", invalid=Invalid.TOO_LARGE, output_type="ndarray",
                  params={"count": 1048576, "limit": 65536, "shape": shape})
    assert stated_shape(run) == stated
    assert stated_shape(CaseRun(kind="invalid", invalid=Invalid.TYPE,
                                params={"type": "str", "shape": "(1, 2)"})) is None


def test_one_wrong_number_is_told_without_an_index_or_an_excerpt() -> None:
    verdict = compare(output(np.array(480.0)), np.array(171.0), RULES, visible=True)
    assert verdict.status == "wrong_values"
    assert verdict.message == "your value differs from the expected one: expected 171, got 480"


def test_a_wall_clock_limit_says_what_it_did_not_count() -> None:
    run = CaseRun(kind="timeout", limit=Limit.TOTAL_TIME, limit_value=10.0, waited=19.96)
    message = compare(run, EXPECTED, RULES, visible=True).message
    assert message.endswith("total time limit of 10 s (on the wall clock) ran out, not "
                            "counting 20 s it waited for a CPU (the machine was busy)")
    run = CaseRun(kind="timeout", limit=Limit.TOTAL_TIME, limit_value=10.0, waited=0.01)
    assert "not counting" not in compare(run, EXPECTED, RULES, visible=True).message
    hidden = CaseRun(kind="timeout", limit=Limit.TOTAL_TIME, limit_value=10.0, waited=19.96)
    assert "not counting" not in compare(hidden, EXPECTED, RULES, visible=False).message
