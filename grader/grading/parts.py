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

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from grader.catalog.spec import Comparison
from grader.grading.compare import allowed_error

MAX_OFFSETS = 4096  # placements of a candidate tried inside (or around) an output
MAX_SHIFT = 3  # rows or columns a shift may move values by
SPREADS = (2, 3)  # strides a spread output may use
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
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.all(np.abs(got - candidate) <= allowed_error(candidate, rules)))


def _probe(got: np.ndarray, candidate: np.ndarray, rules: Comparison) -> bool:
    """A cheap first look: the first and the last value agree within a loose bound."""
    a, b = float(got.flat[0]), float(candidate.flat[0])
    c, d = float(got.flat[-1]), float(candidate.flat[-1])
    slack = 1e-3 * (1.0 + abs(b) + abs(d)) + rules.atol
    return abs(a - b) <= slack and abs(c - d) <= slack


# ---- value parts: (got region, candidate region) -> the part, or None ------------------------

Value = Callable[[np.ndarray, np.ndarray, Comparison, np.dtype], Part | None]


def same(got: np.ndarray, candidate: np.ndarray, rules: Comparison, _: np.dtype) -> Part | None:
    """No value part: the values are the candidate's."""
    if not _probe(got, candidate, rules) or not near(got, candidate, rules):
        return None
    return Part("")


def scaled(got: np.ndarray, candidate: np.ndarray, rules: Comparison,
           _: np.dtype) -> Part | None:
    """The candidate times a constant other than 1."""
    energy = float(np.sum(candidate * candidate))
    if energy == 0.0:
        return None
    factor = float(np.sum(got * candidate)) / energy
    if factor == 0.0 or abs(factor - 1) < 1e-6 or not near(got, factor * candidate, rules):
        return None
    return Part("scaled_output", {"factor": factor})


def _rounded_to(got: np.ndarray, candidate: np.ndarray, target: np.ndarray) -> bool:
    """``got`` is ``target`` (a rounding of ``candidate``), except where ``candidate`` sits
    so close to a rounding boundary that float error may tip it either way; and the rounding
    changed something."""
    moved = np.abs(target - candidate) > 1e-9 * (1 + np.abs(candidate))
    if not moved.any():
        return False
    off = np.abs(got - target) > 1e-9 * (1 + np.abs(target))
    if not off.any():
        return True
    scale = np.abs(candidate) + 1
    edge = np.abs(np.abs(candidate - np.trunc(candidate)) - np.round(
        np.abs(candidate - np.trunc(candidate)))) < 1e-6 * scale
    return bool(np.all(edge[off]))


def truncated(got: np.ndarray, candidate: np.ndarray, _: Comparison,
              dtype: np.dtype) -> Part | None:
    """Every fraction dropped (towards zero), as storing into an integer array does."""
    if not _rounded_to(got, candidate, np.trunc(candidate)):
        return None
    name = "integer_truncated" if dtype.kind in "iu" else "truncated"
    return Part(name, {"dtype": dtype.name}, keeps="whole")


def rounded(decimals: int) -> Value:
    def value(got: np.ndarray, candidate: np.ndarray, _: Comparison,
              dtype: np.dtype) -> Part | None:
        target = np.round(candidate, decimals)
        if decimals and dtype.kind in "iu" or not _rounded_to(got, candidate, target):
            return None
        name = "integer_rounded" if dtype.kind in "iu" else "rounded"
        return Part(name, {"dtype": dtype.name, "decimals": decimals}, keeps="whole",
                    decimals=decimals)
    value.__name__ = f"rounded_{decimals}"
    return value


VALUES: tuple[Value, ...] = (same, truncated, *(rounded(d) for d in DECIMALS), scaled)


def keeps(part: Part, expected: np.ndarray) -> bool:
    """Whether ``part`` could leave a case whose right output is ``expected`` as it is."""
    if part.keeps == "whole":
        return bool(np.array_equal(expected, np.round(expected, part.decimals)))
    return bool(part.keeps)


# ---- placements: (got, candidate) -> views ---------------------------------------------------

def placements(got: np.ndarray, candidate: np.ndarray) -> Iterator[View]:
    """Every placement of ``candidate``'s values that the shapes allow, the plain one first."""
    if got.ndim != candidate.ndim or candidate.size == 0:
        return
    if got.shape == candidate.shape:
        yield View(None, got, candidate)
    if got.ndim == 0:
        return
    if got.shape == candidate.shape:
        yield from _edges_zero(got, candidate)
        yield from _shifted(got, candidate)
    if got.ndim >= 2 and got.shape == candidate.shape[:-2] + candidate.shape[:-3:-1]:
        yield View(Part("transposed"), got, np.swapaxes(candidate, -1, -2))
    spare = [g - c for g, c in zip(got.shape, candidate.shape, strict=True)]
    if min(spare) >= 0 and max(spare) > 0:
        yield from _inside(got, candidate, spare)
        yield from _spread(got, candidate)
    if max(spare) <= 0 and min(spare) < 0:
        yield from _cropped(got, candidate, [-s for s in spare])


def _window(offset: tuple[int, ...], shape: tuple[int, ...]) -> tuple[slice, ...]:
    return tuple(slice(o, o + n) for o, n in zip(offset, shape, strict=True))


def _inside(got: np.ndarray, candidate: np.ndarray, spare: list[int]) -> Iterator[View]:
    """The candidate whole, somewhere inside a larger output."""
    if np.prod([s + 1 for s in spare]) > MAX_OFFSETS:
        return
    for offset in itertools.product(*(range(s + 1) for s in spare)):
        window = _window(offset, candidate.shape)
        outside = np.ones(got.shape, dtype=bool)
        outside[window] = False
        zeros = not np.any(got[outside])
        ring = zeros and len(set(offset)) == 1 and offset[0] > 0 \
            and all(o == s - o for o, s in zip(offset, spare, strict=True))
        name = "valid_in_zero_ring" if ring else "valid_in_corner" if not any(offset) \
            else "valid_inside"
        fields = {"border": offset[0], "offset": offset, "zeros": zeros,
                  "got_shape": got.shape, "expected_shape": candidate.shape}
        yield View(Part(name, fields, keeps=True), got[window], candidate,
                   0 if zeros else int(outside.sum()))


def _cropped(got: np.ndarray, candidate: np.ndarray, short: list[int]) -> Iterator[View]:
    """The output is a part of the candidate: short of its last rows or columns (or cut from
    elsewhere in it)."""
    if np.prod([s + 1 for s in short]) > MAX_OFFSETS:
        return
    for offset in itertools.product(*(range(s + 1) for s in short)):
        name = "missing_edge" if not any(offset) else "cropped"
        fields: dict[str, object] = {"short": tuple(short), "offset": offset,
                                     "got_shape": got.shape, "expected_shape": candidate.shape}
        yield View(Part(name, fields, keeps=True), got,
                   candidate[_window(offset, got.shape)])


def _edges_zero(got: np.ndarray, candidate: np.ndarray) -> Iterator[View]:
    """Rows or columns at the output's edges left at zero where the candidate has values:
    a loop that stops short, or starts late, on a zero-filled output."""
    axes = range(max(0, got.ndim - 2), got.ndim)
    bands: dict[tuple[int, int], int] = {}
    for axis in axes:
        n = got.shape[axis]
        moved = np.moveaxis(got, axis, 0).reshape(n, -1)
        zero = np.logical_not(moved.any(axis=1))
        lead = int(np.argmin(zero)) if not zero.all() else n
        trail = int(np.argmin(zero[::-1])) if not zero.all() else n
        if lead + trail >= n:
            return
        bands[(axis, 0)], bands[(axis, 1)] = lead, trail
    if not any(bands.values()):
        return
    inner = [slice(None)] * got.ndim
    for axis in axes:
        inner[axis] = slice(bands[(axis, 0)], got.shape[axis] - bands[(axis, 1)])
    region = tuple(inner)
    if not np.any(_outside_values(candidate, region)):
        return
    yield View(Part("edges_zero", {"bands": bands, "ndim": got.ndim}, keeps=True),
               got[region], candidate[region])


def _outside_values(candidate: np.ndarray, region: tuple[slice, ...]) -> np.ndarray:
    """The candidate's values outside ``region``."""
    mask = np.ones(candidate.shape, dtype=bool)
    mask[region] = False
    return candidate[mask]


def _shifted(got: np.ndarray, candidate: np.ndarray) -> Iterator[View]:
    """The candidate's values moved by a few rows or columns; the edge they left is anything,
    unless it holds the values that left at the other edge (rolled round: circular)."""
    axes = list(range(max(0, got.ndim - 2), got.ndim))
    steps = range(-MAX_SHIFT, MAX_SHIFT + 1)
    for moves in itertools.product(steps, repeat=len(axes)):
        if not any(moves) or any(abs(m) * 2 > got.shape[a] for a, m in zip(axes, moves,
                                                                           strict=True)):
            continue
        dst = [slice(None)] * got.ndim
        src = [slice(None)] * got.ndim
        for axis, move in zip(axes, moves, strict=True):
            n = got.shape[axis]
            dst[axis], src[axis] = (slice(move, n), slice(0, n - move)) if move > 0 \
                else (slice(0, n + move), slice(-move, n))
        shift = dict(zip(axes, moves, strict=True))
        left = got.size - got[tuple(dst)].size
        yield View(Part("shifted_by_one" if max(map(abs, moves)) == 1 else "shifted",
                        {"shift": shift}), got[tuple(dst)], candidate[tuple(src)], left)


def rolled(part: Part, got: np.ndarray, candidate: np.ndarray, rules: Comparison) -> Part:
    """A shift whose left edge holds the values that left at the other edge is a roll
    (circular): every value explained."""
    shift: dict[int, int] = part.fields["shift"]  # type: ignore[assignment]
    whole = np.roll(candidate, tuple(shift.values()), axis=tuple(shift))
    return Part("rolled", part.fields) if near(got, whole, rules) else part


def _spread(got: np.ndarray, candidate: np.ndarray) -> Iterator[View]:
    """The candidate's values at every s-th index of a larger, zero-filled output (a stride
    applied to the output's index)."""
    if got.ndim < 2:
        return
    for stride in SPREADS:
        picked = got[..., ::stride, ::stride]
        if picked.shape[:-2] != candidate.shape[:-2] \
                or any(p < c for p, c in zip(picked.shape[-2:], candidate.shape[-2:],
                                             strict=True)):
            continue
        region = (Ellipsis, slice(0, candidate.shape[-2] * stride, stride),
                  slice(0, candidate.shape[-1] * stride, stride))
        rest = np.ones(got.shape, dtype=bool)
        rest[region] = False
        if np.any(got[rest]):
            continue
        yield View(Part("spread", {"stride": stride}, keeps=True), got[region], candidate)
