"""Every output dtype against the tolerance: the tolerance is the case's (the spec's precision
and the expected output), never the learner's, and a float shorter than the spec's precision
is refused."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from grader.catalog.spec import Comparison
from grader.grading.compare import allowed_error, compare, matches
from grader.grading.diagnose import diagnose
from grader.grading.messages import Msg, say
from grader.sandbox.base import CaseRun

DEFAULT = Comparison()  # precision float32: float64 or float32 outputs
FLOAT64 = Comparison(precision="float64")
FLOAT16 = Comparison(precision="float16")
RNG = np.random.default_rng(5)
EXPECTED = RNG.normal(size=(6, 6)) * 3  # a float64 exercise's outputs
WHOLE = np.arange(36, dtype=np.float64).reshape(6, 6) * 3  # whole numbers 0..105


def run(array: np.ndarray) -> CaseRun:
    return CaseRun(kind="output", array=array, output_type="ndarray")


def three_percent_off(expected: np.ndarray) -> np.ndarray:
    """The escape: every value 3% off, and the small ones zeroed."""
    wrong = expected * 1.03
    wrong[np.abs(wrong) < 0.05 * np.abs(wrong).max()] = 0.0
    return wrong


FLOAT_VERDICTS = [  # dtype, rules, status of the right values, status of 3% off
    ("float64", DEFAULT, "passed", "wrong_values"),
    ("float32", DEFAULT, "passed", "wrong_values"),
    ("float16", DEFAULT, "invalid_output", "invalid_output"),
    ("longdouble", DEFAULT, "passed", "wrong_values"),
    ("float64", FLOAT64, "passed", "wrong_values"),
    ("float32", FLOAT64, "invalid_output", "invalid_output"),
    ("float16", FLOAT64, "invalid_output", "invalid_output"),
    ("longdouble", FLOAT64, "passed", "wrong_values"),
    ("float16", FLOAT16, "passed", "passed"),  # the spec asked for float16's 6% of the largest
]


@pytest.mark.parametrize(("dtype", "rules", "right", "off"), FLOAT_VERDICTS)
def test_each_float_dtype_gets_its_verdict(dtype: str, rules: Comparison, right: str,
                                           off: str) -> None:
    for got, status in ((EXPECTED, right), (three_percent_off(EXPECTED), off)):
        verdict = compare(run(got.astype(dtype)), EXPECTED, rules, visible=True)
        assert verdict.status == status, (dtype, rules.precision, status)
        if status == "invalid_output":
            wanted = "float64" if rules.precision == "float64" else "float64 (or float32)"
            assert verdict.message.startswith(f"expected {wanted} values, got {dtype}")


def test_a_float16_spec_still_refuses_ten_percent_off() -> None:
    wrong = (EXPECTED * 1.1).astype(np.float16)
    assert compare(run(wrong), EXPECTED, FLOAT16, visible=True).status == "wrong_values"


def test_a_refused_float16_hidden_case_says_only_its_status() -> None:
    verdict = compare(run(EXPECTED.astype(np.float16)), EXPECTED, DEFAULT, visible=False)
    assert (verdict.status, verdict.message) == ("invalid_output",
                                                 say(Msg.HIDDEN_INVALID_OUTPUT))


INTEGERS = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]


@pytest.mark.parametrize("dtype", INTEGERS)
@pytest.mark.parametrize("rules", [DEFAULT, FLOAT64, FLOAT16], ids=lambda r: r.precision)
def test_each_integer_dtype_is_exact(dtype: str, rules: Comparison) -> None:
    """Whole expected values: right as they are, wrong 20 off; fractions: wrong truncated (but
    for float16's tolerance)."""
    exact = compare(run(WHOLE.astype(dtype)), WHOLE, rules, visible=True)
    assert exact.status == "passed" and exact.max_abs_error == 0.0
    one_off = WHOLE.astype(dtype)
    one_off[2, 3] += 20  # more than float16's 6% of the largest (105)
    verdict = compare(run(one_off), WHOLE, rules, visible=True)
    assert verdict.status == "wrong_values"
    assert verdict.message.startswith("1 of 36 values")
    fractions = WHOLE + 0.5
    truncated = compare(run(fractions.astype(dtype)), fractions, rules, visible=True)
    if rules is FLOAT16:  # 0.5 off is within float16's rounding of 105.5
        assert truncated.status == "passed"
    else:
        assert truncated.status == "wrong_values"
        assert truncated.message.startswith("36 of 36 values")


@pytest.mark.parametrize("rules", [DEFAULT, FLOAT64, FLOAT16], ids=lambda r: r.precision)
def test_booleans_are_not_numbers(rules: Comparison) -> None:
    verdict = compare(run(WHOLE.astype(bool)), WHOLE, rules, visible=True)
    assert (verdict.status, verdict.message) == (
        "invalid_output", "expected numbers, got an array of dtype bool")


def test_the_tolerance_is_a_function_of_the_expected_output_and_the_spec_only() -> None:
    """The floor is the spec's precision's: float32's by default, none for float64."""
    scale = float(np.abs(EXPECTED).max())
    floor32 = 64 * float(np.finfo(np.float32).eps) * scale
    base = DEFAULT.atol + DEFAULT.rtol * np.abs(EXPECTED)
    assert np.allclose(allowed_error(EXPECTED, DEFAULT), base + floor32, rtol=1e-12, atol=0)
    assert np.array_equal(allowed_error(EXPECTED, FLOAT64), base)
    # a float32 expected output (a float32 reference) allows float32's rounding at least
    assert np.allclose(allowed_error(EXPECTED.astype(np.float32), FLOAT64),
                       FLOAT64.atol + FLOAT64.rtol * np.abs(EXPECTED.astype(np.float32))
                       + floor32, rtol=1e-6, atol=0)


@settings(max_examples=200, derandomize=True)
@given(values=arrays(np.float32, (4, 5), elements=st.floats(-1e4, 1e4, width=32)),
       noise=arrays(np.float64, (4, 5), elements=st.floats(-1e-3, 1e-3)),
       rules=st.sampled_from([DEFAULT, FLOAT64, FLOAT16]))
def test_the_same_values_get_the_same_verdict_in_any_accepted_dtype(
        values: np.ndarray, noise: np.ndarray, rules: Comparison) -> None:
    """Values that float32, float64 and longdouble all hold exactly are judged alike: the
    dtype a learner returns chooses no tolerance."""
    expected = values.astype(np.float64) * (1 + noise)
    verdicts = set()
    for dtype in ("float32", "float64", "longdouble"):
        if rules.precision == "float64" and dtype == "float32":
            continue  # refused
        verdicts.add(compare(run(values.astype(dtype)), expected, rules, True).status)
        verdicts.add(matches(values.astype(dtype), expected, rules))
    assert len(verdicts) == 2  # one status and one match, the same for every dtype


def test_mistakes_and_diagnoses_are_not_looked_for_in_a_refused_output() -> None:
    scaled = EXPECTED * 2.5
    assert not matches(scaled.astype(np.float16), scaled, DEFAULT)
    assert matches(scaled.astype(np.float16), scaled, FLOAT16)
    assert diagnose(scaled.astype(np.float16), EXPECTED, [EXPECTED], DEFAULT) is None
    found = diagnose(scaled.astype(np.float16), EXPECTED, [EXPECTED], FLOAT16)
    assert found is not None and found.code == "scaled_output"
    assert diagnose(scaled.astype(np.float32), EXPECTED, [EXPECTED], DEFAULT) is not None
