"""The generic parts of an explanation: where values sit in an output, and what was done to them.

An explanation of a wrong output is a candidate array (the reference's output, or a known
mistake's) turned into the learner's output by at most a few parts:

- a *placement* says where the candidate's values sit in the output: as they are, transposed,
  inside a larger array (a ring of zeros, a corner), cut short of an edge, with edges left at
  zero, moved by a few rows or columns (the edge they left is anything) or rolled round
  (circular), or spread out at every s-th index;
- a *value* part says what was done to them: nothing, a constant factor, a truncation or a
  rounding (to whole numbers, in an integer array or not, or to a few decimals).

Each part is a plain function of arrays: nothing of the exercise but its inputs. A part also
says whether it can leave a case untouched (``keeps``): a placement that follows the case's
shape or padding can (a case whose shapes are right has nothing to place), a shift or a factor
cannot, so a passed case contradicts it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from grader.catalog.spec import Comparison
from grader.grading.compare import allowed_error

DECIMALS = (0, 1, 2, 3)  # roundings tried


@dataclass(frozen=True)
class Part:
    """One part of an explanation: its name, the words that fill its template, and whether a
    passed case may be left untouched by it (``keeps``: ``True``, ``False`` or ``"whole"``
    for a rounding, which leaves values that are already rounded)."""

    name: str
    fields: dict[str, object] = field(default_factory=dict)
    keeps: bool | str = False
    decimals: int = 0


@dataclass(frozen=True)
class View:
    """A placement's view of one output: the region of the output compared with the region of
    the candidate, and how many output values that leaves unexplained."""

    part: Part | None  # None: the values sit where they should
    got: np.ndarray
    candidate: np.ndarray
    loose: int = 0  # output values the placement lets be anything


def near(got: np.ndarray, candidate: np.ndarray, rules: Comparison) -> bool:
    """Equal within the comparison's tolerances for ``candidate`` (same shape)."""
    if got.shape != candidate.shape or got.size == 0:
        return False
    first, want = float(got.flat[0]), float(candidate.flat[0])
    if abs(first - want) > 1e-3 * (1 + abs(want)) + rules.atol + 1e-5 * float(
            np.max(np.abs(candidate))):
        return False  # a first look, looser than the tolerance: the full comparison follows
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.all(np.abs(got - candidate) <= allowed_error(candidate, rules)))


# ---- value parts: what was done to the candidate's values ------------------------------------

def variants(candidate: np.ndarray, dtype: np.dtype) -> Iterator[tuple[Part | None, np.ndarray]]:
    """The candidate as it is, then each rounding of it that changes it: truncated (as an
    integer array or int() does), rounded to whole numbers or to a few decimals."""
    yield None, candidate
    integer = dtype.kind in "iu"
    kind = str(dtype)
    seen = [candidate]
    for decimals in (None, *DECIMALS):
        if decimals and integer:
            break
        if decimals is None:
            part = Part("integer_truncated" if integer else "truncated", {"dtype": kind},
                        keeps="whole")
            values = np.trunc(candidate)
        else:
            part = Part("integer_rounded" if integer else "rounded",
                        {"dtype": kind, "decimals": decimals}, keeps="whole", decimals=decimals)
            values = np.round(candidate, decimals)
        if not any(np.array_equal(values, other) for other in seen):
            seen.append(values)
            yield part, values


def scaled(got: np.ndarray, candidate: np.ndarray, rules: Comparison) -> Part | None:
    """The candidate times a constant other than 1 (fitted on at least two values)."""
    energy = float(np.sum(candidate * candidate))
    if energy == 0.0:
        return None
    factor = float(np.sum(got * candidate)) / energy
    if factor == 0.0 or abs(factor - 1) < 1e-6 or not near(got, factor * candidate, rules):
        return None
    return Part("scaled_output", {"factor": factor})


def summed(got: np.ndarray, candidate: np.ndarray, rules: Comparison) -> Iterator[Part]:
    """One axis too many, whose sum is the candidate (maps kept apart that should be added
    up), or one too few, the candidate's sum along it (maps added up that should be kept)."""
    if got.ndim == candidate.ndim + 1:
        for axis in range(got.ndim):
            if got.shape[axis] > 1 and near(got.sum(axis=axis), candidate, rules):
                yield Part("not_summed", {"axis": axis, "got_shape": got.shape,
                                          "expected_shape": candidate.shape})
    elif got.ndim + 1 == candidate.ndim:
        for axis in range(candidate.ndim):
            if candidate.shape[axis] > 1 and near(got, candidate.sum(axis=axis), rules):
                yield Part("summed", {"axis": axis, "got_shape": got.shape,
                                      "expected_shape": candidate.shape})


def keeps(part: Part, expected: np.ndarray) -> bool:
    """Whether ``part`` could leave a case whose right output is ``expected`` as it is."""
    if part.keeps == "whole":
        return bool(np.array_equal(expected, np.round(expected, part.decimals)))
    return bool(part.keeps)
