"""Structural diagnoses of a wrong array output, for any exercise.

Each check looks only at the output, the expected output and the inputs (never at the
exercise), and names a shape of mistake: the right values inside a larger array (a ring of
zeros, a corner), the right values short of an edge or moved by one, the right values times a
constant, an integer array. ``square_only`` looks across cases: right on square inputs only.

The grader calls these for visible cases only; what they say quotes that case's data.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from grader.catalog.spec import Comparison
from grader.grading.compare import allowed_error, too_coarse
from grader.grading.messages import Msg, say
from grader.grading.messages import index as show_index
from grader.grading.messages import shape as show_shape

RULES = Comparison()
MAX_OFFSETS = 4096  # placements of the expected array tried inside a larger output


@dataclass(frozen=True)
class Diagnosis:
    code: str
    message: str


def close(got: np.ndarray, expected: np.ndarray, rules: Comparison = RULES) -> bool:
    """Same shape and equal within the tolerances the comparison uses (``compare``'s, of
    ``expected`` and the rules, never of got's dtype)."""
    if got.shape != expected.shape or got.size == 0:
        return False
    with np.errstate(over="ignore", invalid="ignore"):
        error = np.abs(got.astype(np.float64) - expected)
        return bool(np.all(error <= allowed_error(expected, rules)))


def diagnose(got: np.ndarray, expected: np.ndarray, inputs: Sequence[np.ndarray],
             rules: Comparison = RULES) -> Diagnosis | None:
    """The first structural diagnosis that fits a wrong output, or None. An output the
    comparison refuses for its dtype (``too_coarse``) gets none: its values were not looked at."""
    if got.dtype.kind not in "iuf" or too_coarse(got, rules) or not np.isfinite(got).all() \
            or got.ndim != expected.ndim or got.ndim == 0:
        return None
    for check in (_integer, _inside, _missing_edge, _shifted, _scaled):
        found = check(got, expected, inputs, rules)
        if found is not None:
            return found
    return None


def _integer(got: np.ndarray, expected: np.ndarray, _: Sequence[np.ndarray],
             __: Comparison) -> Diagnosis | None:
    if got.dtype.kind not in "iu" or got.shape != expected.shape \
            or np.array_equal(expected, np.round(expected)):
        return None
    if np.array_equal(got, np.trunc(expected)):
        return Diagnosis("integer_truncated", say(Msg.INTEGER_TRUNCATED, dtype=got.dtype))
    if np.array_equal(got, np.round(expected)):
        return Diagnosis("integer_rounded", say(Msg.INTEGER_ROUNDED, dtype=got.dtype))
    return Diagnosis("integer_output", say(Msg.INTEGER_OUTPUT, dtype=got.dtype))


def _inside(got: np.ndarray, expected: np.ndarray, _: Sequence[np.ndarray],
            rules: Comparison) -> Diagnosis | None:
    """The expected array whole, somewhere inside a larger output."""
    spare = [g - e for g, e in zip(got.shape, expected.shape, strict=True)]
    if min(spare) < 0 or max(spare) == 0 or np.prod([s + 1 for s in spare]) > MAX_OFFSETS:
        return None
    for offset in itertools.product(*(range(s + 1) for s in spare)):
        window = tuple(slice(o, o + e) for o, e in zip(offset, expected.shape, strict=True))
        if not close(got[window], expected, rules):
            continue
        outside = np.ones(got.shape, dtype=bool)
        outside[window] = False
        zeros = not np.any(got[outside])
        shapes = {"got_shape": show_shape(got.shape), "expected_shape": show_shape(expected.shape)}
        if zeros and all(o > 0 and o == s - o for o, s in zip(offset, spare, strict=True)) \
                and len(set(offset)) == 1:
            return Diagnosis("valid_in_zero_ring",
                             say(Msg.VALID_IN_ZERO_RING, border=offset[0], **shapes))
        if not any(offset):
            rest = " (the rest is zeros)" if zeros else ""
            return Diagnosis("valid_in_corner", say(Msg.VALID_IN_CORNER, rest=rest, **shapes))
        return Diagnosis("valid_inside",
                         say(Msg.VALID_INSIDE, offset=show_index(offset), **shapes))
    return None


def _missing_edge(got: np.ndarray, expected: np.ndarray, _: Sequence[np.ndarray],
                  rules: Comparison) -> Diagnosis | None:
    """The expected array less its last rows or columns."""
    short = [e - g for g, e in zip(got.shape, expected.shape, strict=True)]
    if min(short) < 0 or max(short) == 0 or got.size == 0:
        return None
    if not close(got, expected[tuple(slice(0, g) for g in got.shape)], rules):
        return None
    words = [_axis_word(axis, n) for axis, n in enumerate(short) if n]
    return Diagnosis("missing_edge", say(
        Msg.MISSING_EDGE, what=" and ".join(words), got_shape=show_shape(got.shape),
        expected_shape=show_shape(expected.shape)))


def _axis_word(axis: int, count: int) -> str:
    word = say(Msg.AXIS_ROWS if axis == 0 else Msg.AXIS_COLUMNS if axis == 1 else Msg.AXIS_N,
               axis=axis)
    return word if count == 1 else f"{count} {word}s"


def _shifted(got: np.ndarray, expected: np.ndarray, _: Sequence[np.ndarray],
             rules: Comparison) -> Diagnosis | None:
    """The expected values moved by one along one axis (the edge they left is anything)."""
    if got.shape != expected.shape:
        return None
    for axis, step in itertools.product(range(got.ndim), (1, -1)):
        n = got.shape[axis]
        if n < 3:
            continue
        moved = [slice(None)] * got.ndim
        source = [slice(None)] * got.ndim
        moved[axis], source[axis] = (slice(1, n), slice(0, n - 1)) if step > 0 \
            else (slice(0, n - 1), slice(1, n))
        if not close(got[tuple(moved)], expected[tuple(source)], rules):
            continue
        got_index = [0] * got.ndim
        expected_index = [0] * got.ndim
        got_index[axis], expected_index[axis] = (1, 0) if step > 0 else (0, 1)
        return Diagnosis("shifted_by_one", say(
            Msg.SHIFTED, axis=_axis_word(axis, 1),
            direction=say(Msg.DIRECTION_DOWN if step > 0 else Msg.DIRECTION_UP),
            got_index=show_index(got_index), expected_index=show_index(expected_index)))
    return None


def _scaled(got: np.ndarray, expected: np.ndarray, inputs: Sequence[np.ndarray],
            rules: Comparison) -> Diagnosis | None:
    """The expected array times a constant other than 1."""
    if got.shape != expected.shape:
        return None
    energy = float(np.sum(expected * expected))
    if energy == 0.0:
        return None
    factor = float(np.sum(got * expected)) / energy
    if factor == 0.0 or abs(factor - 1) < 1e-6 or not close(got, factor * expected, rules):
        return None
    shown = f"{factor:.6g}"
    for number, argument in enumerate(inputs, start=1):
        n = argument.size
        if n > 1 and abs(factor * n - 1) < 1e-6:
            return Diagnosis("scaled_output", say(Msg.SCALED_MEAN, factor=shown, n=n))
        total = float(np.sum(argument))
        if total != 0 and abs(factor * total - 1) < 1e-6:
            return Diagnosis("scaled_output", say(
                Msg.SCALED_SUM, factor=shown, name=f"argument {number}"))
    return Diagnosis("scaled_output", say(Msg.SCALED, factor=shown))


@dataclass(frozen=True)
class CaseOutcome:
    """What ``square_only`` needs of a visible case."""

    name: str
    input_shape: tuple[int, ...]
    expected_shape: tuple[int, ...]
    got_shape: tuple[int, ...] | None
    passed: bool


def square_only(cases: Sequence[CaseOutcome]) -> Diagnosis | None:
    """Right on every case whose first input is square, wrong on every other one."""
    square = [c for c in cases if len(set(c.input_shape)) == 1]
    other = [c for c in cases if len(set(c.input_shape)) > 1]
    if not square or not other or not all(c.passed for c in square) \
            or any(c.passed for c in other):
        return None
    symptoms = []
    for case in other:
        got, want = case.got_shape, case.expected_shape
        if got is None or got == want or len(got) != len(want):
            continue
        shapes = {"case": case.name, "got_shape": show_shape(got),
                  "expected_shape": show_shape(want)}
        if got == want[::-1]:
            symptoms.append(say(Msg.SHAPE_SWAPPED, **shapes))
        elif len(set(got)) == 1 and got[0] in want:
            symptoms.append(say(Msg.SHAPE_ONE_DIMENSION, **shapes))
        else:
            return None  # a shape that neither mix-up explains
    why = "".join(f"; {s}" for s in symptoms)
    return Diagnosis("square_inputs_only", say(
        Msg.SQUARE_ONLY, passed=", ".join(c.name for c in square),
        failed=", ".join(c.name for c in other), why=why))
