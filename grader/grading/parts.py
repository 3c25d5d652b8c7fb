"""The generic parts of an explanation: where values sit in an output, and what was done to them.

An explanation of a wrong output is a candidate array (the reference's output, or a known
mistake's) turned into the learner's output by at most a few parts:

- a *placement* says where the candidate's values sit in the output: as they are, transposed,
  inside a larger array (a ring of zeros, a corner), cut short of an edge, with edges left at
  zero, moved by a few rows or columns (the edge they left is anything) or rolled round
  (circular), or spread out at every s-th index;
- a *value* part says what was done to them: nothing, a constant factor or term or both, a
  truncation or a
  rounding (to whole numbers, in an integer array or not, or to a few decimals), negative
  values set to zero (a ReLU);
- an *input* part says what was done to an argument before the right computation ran on it:
  transposed, or flipped along its rows, its columns or both (``transformed_arguments``).

Each part is a plain function of arrays: nothing of the exercise but its inputs. A part also
says whether it can leave a case untouched (``keeps``): a placement that follows the case's
shape or padding can (a case whose shapes are right has nothing to place), a shift or a factor
cannot, so a passed case contradicts it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from grader.catalog.spec import Comparison
from grader.grading.compare import allowed_error

MAX_STACKED = 8  # items along an output's first axis looked at for the right values
DECIMALS = (0, 1, 2, 3)  # roundings tried


@dataclass(frozen=True)
class Part:
    """One part of an explanation: its name, the words that fill its template, and whether a
    passed case may be left untouched by it (``keeps``: ``True``, ``False``, ``"whole"``
    for a rounding, which leaves values that are already rounded, or ``"nonnegative"`` for
    negatives set to zero, which leaves an output with none)."""

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
    """The candidate as it is, then its negative values set to zero (a ReLU applied), then
    each rounding of it that changes it: truncated (as an integer array or int() does),
    rounded to whole numbers or to a few decimals; for an integer output, also cut off at its
    dtype's range and rounded or truncated (clipped, then stored)."""
    yield None, candidate
    clipped = np.maximum(candidate, 0)
    if np.any(candidate < 0) and np.any(candidate > 0):
        yield Part("negatives_zeroed", keeps="nonnegative"), clipped
    integer = dtype.kind in "iu"
    kind = str(dtype)
    seen = [candidate, clipped]
    for decimals in (None, *DECIMALS):
        if decimals and integer:
            break
        if decimals is None:
            narrow = integer and dtype.itemsize <= 2  # wraps round: uint8, int16 ...
            part = Part("integer_wrapped" if narrow else "integer_truncated" if integer
                        else "truncated", {"dtype": kind}, keeps="whole")
            values = stored_as(candidate, dtype) if integer else np.trunc(candidate)
        else:
            part = Part("integer_rounded" if integer else "rounded",
                        {"dtype": kind, "decimals": decimals}, keeps="whole", decimals=decimals)
            values = np.round(candidate, decimals)
        if not any(np.array_equal(values, other) for other in seen):
            seen.append(values)
            yield part, values
    if integer:  # cut off at the dtype's range first: np.clip(out, 0, 255).astype(np.uint8)
        info = np.iinfo(dtype)
        for how, values in clipped_as(candidate, dtype):
            if not any(np.array_equal(values, other) for other in seen):
                seen.append(values)
                yield Part("integer_clipped", {"dtype": kind, "rounding": how, "low": info.min,
                                               "high": info.max}, keeps="whole"), values


def clipped_as(candidate: np.ndarray, dtype: np.dtype) -> list[tuple[str, np.ndarray]]:
    """The candidate cut off at integer ``dtype``'s range, rounded, then truncated (how, values):
    what np.clip before a cast to it stores."""
    info = np.iinfo(dtype)
    with np.errstate(invalid="ignore"):
        return [(how, np.clip(rounding(candidate), info.min, info.max))
                for rounding, how in ((np.rint, "rounded"), (np.trunc, "truncated"))]


def stored_as(candidate: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """The candidate stored in an integer array of ``dtype``: truncated, and in a narrow one
    (uint8, int16 ...) wrapped round its range, as a whole number modulo 2**bits."""
    whole = np.trunc(candidate)
    info = np.iinfo(dtype)
    if dtype.itemsize > 2 or not np.isfinite(whole).all() \
            or (whole.min(initial=0) >= info.min and whole.max(initial=0) <= info.max):
        return whole
    return whole.astype(np.int64).astype(dtype).astype(np.float64)


def scaled(got: np.ndarray, candidate: np.ndarray, rules: Comparison) -> Part | None:
    """The candidate times a constant other than 1 (fitted on at least two values)."""
    energy = float(np.sum(candidate * candidate))
    if energy == 0.0:
        return None
    factor = float(np.sum(got * candidate)) / energy
    if factor == 0.0 or abs(factor - 1) < 1e-6 or not near(got, factor * candidate, rules):
        return None
    return Part("scaled_output", {"factor": factor})


def offset(got: np.ndarray, candidate: np.ndarray, rules: Comparison) -> Part | None:
    """The candidate plus a constant other than 0 (the mean difference, fitted on at least
    two values): a bias added, or the input's mean taken off, once for every value."""
    if got.size < 2:
        return None
    shift = float(np.mean(got - candidate))
    if abs(shift) <= float(np.max(allowed_error(candidate, rules))) \
            or not near(got, candidate + shift, rules):
        return None
    return Part("offset_output", {"offset": shift})


def rescaled(got: np.ndarray, candidate: np.ndarray, rules: Comparison) -> Part | None:
    """The candidate times a constant plus another, both fitted on the values (a min-max
    normalisation, for instance): only when neither alone fits, on at least three values."""
    if got.size < 3 or not np.isfinite(candidate).all():
        return None
    centred = candidate - np.mean(candidate)
    energy = float(np.sum(centred * centred))
    if energy == 0.0 or not np.isfinite(energy):
        return None
    factor = float(np.sum(centred * (got - np.mean(got)))) / energy
    shift = float(np.mean(got)) - factor * float(np.mean(candidate))
    if factor == 0.0 or not near(got, factor * candidate + shift, rules):
        return None
    return Part("rescaled_output", {"factor": float(factor), "offset": float(shift),
                                    "low": float(got.min()), "high": float(got.max())})


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


# How a window is reduced to one value, by the name a learner writes it with
_REDUCTIONS: dict[str, Callable[..., np.ndarray]] = {"max": np.max, "min": np.min,
                                                     "mean": np.mean}


def reduced(got: np.ndarray, candidate: np.ndarray, rules: Comparison) -> Iterator[Part]:
    """One or two axes too many at the end, whose max (min, mean) is the candidate: each
    window's values returned whole, never reduced to one (a pooling's windows)."""
    extra = got.ndim - candidate.ndim
    if extra not in (1, 2) or got.shape[:candidate.ndim] != candidate.shape \
            or got.size <= candidate.size:
        return
    axes = tuple(range(candidate.ndim, got.ndim))
    with np.errstate(all="ignore"):
        for how, reduce in _REDUCTIONS.items():
            if near(reduce(got, axis=axes), candidate, rules):
                yield Part("not_reduced", {"how": how, "axes": axes, "got_shape": got.shape,
                                           "expected_shape": candidate.shape})
                return


def axes_of_one(got: np.ndarray, candidate: np.ndarray, rules: Comparison) -> Part | None:
    """The candidate's values in the same order, with axes of length 1 more (a batch's or a
    channel's kept) or fewer (left out) than its shape has."""
    if got.ndim == candidate.ndim or got.size != candidate.size \
            or [n for n in got.shape if n != 1] != [n for n in candidate.shape if n != 1]:
        return None
    if not near(got.reshape(candidate.shape), candidate, rules):
        return None
    return Part("extra_axes" if got.ndim > candidate.ndim else "missing_axes",
                {"count": abs(got.ndim - candidate.ndim), "got_shape": got.shape,
                 "expected_shape": candidate.shape})


def stacked(got: np.ndarray, candidate: np.ndarray, rules: Comparison) -> Part | None:
    """The candidate as one item along got's first axis, beside others: ``return out, cache``
    whose items have one shape, so that they make one array."""
    if got.ndim != candidate.ndim + 1 or got.shape[1:] != candidate.shape or got.shape[0] < 2:
        return None
    for index in range(min(got.shape[0], MAX_STACKED)):
        if near(got[index], candidate, rules):
            return Part("stacked", {"index": index, "count": got.shape[0],
                                    "got_shape": got.shape, "expected_shape": candidate.shape})
    return None


def keeps(part: Part, expected: np.ndarray) -> bool:
    """Whether ``part`` could leave a case whose right output is ``expected`` as it is."""
    if part.keeps == "whole":
        return bool(np.array_equal(expected, np.round(expected, part.decimals)))
    if part.keeps == "nonnegative":
        return not bool(np.any(expected < 0))
    return bool(part.keeps)


# ---- input parts: what was done to an argument before the computation ------------------------

TRANSFORMS = {  # an input part's name -> what it does to an argument's last two axes
    "transposed": lambda a: np.swapaxes(a, -1, -2),
    "flipped": lambda a: a[..., ::-1, ::-1],
    "flipped_rows": lambda a: a[..., ::-1, :],
    "flipped_columns": lambda a: a[..., :, ::-1],
}


def transformed_arguments(args: tuple[np.ndarray, ...], names: Sequence[str]
                          ) -> Iterator[tuple[Part, tuple[np.ndarray, ...]]]:
    """The arguments with one of them transposed, or flipped (along both spatial axes, its
    rows only or its columns only), each change that keeps its shape and changes its values:
    a learner's kernel.T, kernel[::-1] or np.flip(kernel), fed to the right computation. The
    part is named after the argument ("kernel_transposed") so that a change to one argument
    is never taken for the same change to another. A passed case contradicts it: random
    inputs are never left as they are by it."""
    for number, argument in enumerate(args):
        if argument.ndim < 2 or min(argument.shape[-2:]) < 2:
            continue
        name = names[number] if number < len(names) else f"argument {number + 1}"
        for kind, change in TRANSFORMS.items():
            changed = np.ascontiguousarray(change(argument))
            if changed.shape != argument.shape or np.array_equal(changed, argument):
                continue
            part = Part(f"{name}_{kind}", {"transform": kind, "argument": name,
                                           "ndim": argument.ndim})
            yield part, args[:number] + (changed,) + args[number + 1:]
