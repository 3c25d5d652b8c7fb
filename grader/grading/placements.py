"""Where a candidate's values may sit in an output: the placements of an explanation.

As they are; transposed; inside a larger output (a ring of zeros, a corner, elsewhere); cut
short of an edge (or cut from inside the candidate); with rows or columns at its edges left at
zero (in an output of the candidate's shape, or in the corner of a larger one); moved by a few
rows or columns (the edge they left holds anything); spread out at every s-th row and column
of a zero-filled output; each row or column repeated, or each value over a block. Rows and
columns are an output's last two axes.

Offsets and shifts are not tried one by one: a distinctive value (the largest in magnitude) of
one array is looked up in the other, and only the offsets that puts it at are compared in full,
so a placement costs a few array operations whatever the output's size.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np

from grader.catalog.spec import Comparison
from grader.grading.parts import Part, View, near

MAX_SHIFT = 3  # rows or columns a shift may move values by
MAX_LOOKUPS = 64  # offsets a looked-up value may point at before every offset is tried
MAX_OFFSETS = 256  # offsets tried one by one, at most, when a looked-up value tells nothing
SPREADS = (2, 3)  # strides a spread output may use
MAX_MOVED_AXES = 4  # outputs of up to this many axes are tried with their axes in every order

Bands = dict[tuple[int, int], int]  # (axis, 0 first / 1 last) -> zero rows or columns there


def spatial_axes(ndim: int) -> list[int]:
    return list(range(max(0, ndim - 2), ndim))


def zero_bands(got: np.ndarray) -> Bands | None:
    """The rows and columns at each edge of ``got`` that are all zero, or None when there are
    none, or nothing but them."""
    bands: Bands = {}
    for axis in spatial_axes(got.ndim):
        n = got.shape[axis]
        zero = np.logical_not(np.moveaxis(got, axis, 0).reshape(n, -1).any(axis=1))
        if zero.all():
            return None
        bands[(axis, 0)], bands[(axis, 1)] = int(np.argmin(zero)), int(np.argmin(zero[::-1]))
    return bands if any(bands.values()) else None


def inside_bands(shape: tuple[int, ...], bands: Bands) -> tuple[slice, ...]:
    """The region of an array of ``shape`` within its zero ``bands``."""
    inner = [slice(None)] * len(shape)
    for axis in spatial_axes(len(shape)):
        inner[axis] = slice(bands[(axis, 0)], shape[axis] - bands[(axis, 1)])
    return tuple(inner)


def placements(got: np.ndarray, candidate: np.ndarray, rules: Comparison,
               bands: Bands | None, plain: bool = False, centred: bool = True,
               inside: bool = True) -> Iterator[View]:
    """Every placement of ``candidate``'s values that the shapes (and a looked-up value)
    allow, the plain one first (``plain``: that one only). ``bands``: ``zero_bands(got)``.
    Not ``centred`` (no value of the candidate can be near got's centre value): the shifts
    and the crops, whose views compare that value, are left out; not ``inside`` (nor near
    any of got's values, the candidate's first one), the placements inside got and the
    spread one, whose views compare the whole candidate."""
    if got.ndim != candidate.ndim or candidate.size == 0:
        return
    if got.shape == candidate.shape:
        yield View(None, got, candidate)
    if got.ndim == 0 or plain:
        return
    if got.shape == candidate.shape and inside:
        yield from _spread_cut(got, candidate)
    if got.shape == candidate.shape:
        if bands is not None:
            yield from _edges_zero(got, candidate, bands)
        if centred:
            yield from _shifted(got, candidate, rules)
    yield from _repeated(got, candidate)
    yield from _blocks(got, candidate)
    if got.ndim >= 2 and got.shape == candidate.shape[:-2] + candidate.shape[:-3:-1]:
        yield View(Part("transposed"), got, np.swapaxes(candidate, -1, -2))
    if 3 <= got.ndim <= MAX_MOVED_AXES:
        yield from _axes_moved(got, candidate)
    spare = [g - c for g, c in zip(got.shape, candidate.shape, strict=True)]
    if min(spare) >= 0 and max(spare) > 0 and inside:
        yield from _inside(got, candidate, spare, rules)
        yield from _spread(got, candidate)
    if min(spare) >= 0 and max(spare) > 0 and bands is not None:
        yield from _corner_short(got, candidate, bands)  # compares only a part of candidate
    if max(spare) <= 0 and min(spare) < 0 and centred:
        yield from _cropped(got, candidate, [-s for s in spare], rules)


def _axes_moved(got: np.ndarray, candidate: np.ndarray) -> Iterator[View]:
    """The candidate with its axes in another order (channels last where they come first,
    say), of got's shape; the last two swapped alone are ``transposed``."""
    same = tuple(range(got.ndim))
    swap = (*same[:-2], same[-1], same[-2])
    for order in itertools.permutations(same):
        moved = np.transpose(candidate, order)
        if order not in (same, swap) and moved.shape == got.shape:
            yield View(Part("axes_moved", {"order": order, "got_shape": got.shape,
                                           "expected_shape": candidate.shape}), got, moved)


def window(offset: tuple[int, ...], shape: tuple[int, ...]) -> tuple[slice, ...]:
    return tuple(slice(o, o + n) for o, n in zip(offset, shape, strict=True))


def _lookup(value: float, array: np.ndarray, rules: Comparison) -> np.ndarray | None:
    """Where ``array`` holds ``value`` (within a loose bound: the full comparison follows), or
    None when too many places do for the value to tell anything."""
    slack = rules.atol + max(rules.rtol, 1e-5) * abs(value) + 1e-6 * float(
        np.max(np.abs(array)))
    found = np.argwhere(np.abs(array - value) <= slack)
    return found if len(found) <= MAX_LOOKUPS else None


def offsets_of(source: np.ndarray, target: np.ndarray, limits: list[int],
             rules: Comparison) -> list[tuple[int, ...]]:
    """Offsets o (0 <= o <= limits) at which ``source``'s largest value lands on the same
    value in ``target``: target[p + o] == source[p]."""
    probe = np.unravel_index(int(np.argmax(np.abs(source))), source.shape)
    found = _lookup(float(source[probe]), target, rules)
    if found is None:
        if np.prod([s + 1 for s in limits]) > MAX_OFFSETS:
            return []
        return list(itertools.product(*(range(s + 1) for s in limits)))
    offsets = {tuple(int(q) - int(p) for q, p in zip(place, probe, strict=True))
               for place in found}
    return sorted(o for o in offsets
                  if all(0 <= x <= s for x, s in zip(o, limits, strict=True)))


def _inside(got: np.ndarray, candidate: np.ndarray, spare: list[int],
            rules: Comparison) -> Iterator[View]:
    """The candidate whole, somewhere inside a larger output."""
    for offset in offsets_of(candidate, got, spare, rules):
        placed = window(offset, candidate.shape)
        outside = np.ones(got.shape, dtype=bool)
        outside[placed] = False
        zeros = not np.any(got[outside])
        # the axes it is larger along (not a channel axis of the same length): on each, as
        # far from one edge as from the other, one border all round (a ring when all zeros)
        larger = [axis for axis, s in enumerate(spare) if s > 0]
        middle = bool(larger) and all(0 < offset[a] == spare[a] - offset[a] for a in larger)
        ring = zeros and middle and len({offset[a] for a in larger}) == 1
        name = "valid_in_zero_ring" if ring else "valid_in_corner" if not any(offset) \
            else "valid_inside"
        # in the middle of other values, larger along each of its last two axes (or its one):
        # what an input padded on every side gives
        centred = middle and not zeros and larger[-2:] == list(range(got.ndim))[-2:]
        fields = {"border": offset[larger[0]] if larger else 0, "offset": offset,
                  "zeros": zeros, "centred": centred,
                  "got_shape": got.shape, "expected_shape": candidate.shape}
        yield View(Part(name, fields, keeps=True), got[placed], candidate,
                   0 if zeros else int(outside.sum()))


def _cropped(got: np.ndarray, candidate: np.ndarray, short: list[int],
             rules: Comparison) -> Iterator[View]:
    """The output is a part of the candidate: short of its last rows or columns (or cut from
    elsewhere in it)."""
    for offset in offsets_of(got, candidate, short, rules):
        name = "missing_edge" if not any(offset) else "cropped"
        fields: dict[str, object] = {"short": tuple(short), "offset": offset,
                                     "got_shape": got.shape, "expected_shape": candidate.shape}
        yield View(Part(name, fields, keeps=True), got,
                   candidate[window(offset, got.shape)])


def _edges_zero(got: np.ndarray, candidate: np.ndarray, bands: Bands) -> Iterator[View]:
    """Rows or columns at the output's edges left at zero where the candidate has values:
    a loop that stops short, or starts late, on a zero-filled output."""
    region = inside_bands(got.shape, bands)
    outside = np.ones(got.shape, dtype=bool)
    outside[region] = False
    if not np.any(candidate[outside]):
        return  # the candidate is zero there too: nothing was left out
    yield View(Part("edges_zero", {"bands": bands, "ndim": got.ndim}, keeps=True),
               got[region], candidate[region])


def _repeated(got: np.ndarray, candidate: np.ndarray) -> Iterator[View]:
    """Each row (or column) of the candidate there several times in a row: a row appended
    inside the loop that fills it, once per column, each time the same list."""
    for axis in spatial_axes(got.ndim):
        n, m = got.shape[axis], candidate.shape[axis]
        others = got.shape[:axis] + got.shape[axis + 1:] == \
            candidate.shape[:axis] + candidate.shape[axis + 1:]
        if others and m and n > m and n % m == 0:
            fields: dict[str, object] = {"axis": axis, "count": n // m, "ndim": got.ndim,
                                         "got_shape": got.shape,
                                         "expected_shape": candidate.shape}
            yield View(Part("repeated", fields), got, np.repeat(candidate, n // m, axis=axis))


def _blocks(got: np.ndarray, candidate: np.ndarray) -> Iterator[View]:
    """Each value of the candidate over a block of rows and columns (np.repeat along both, a
    pooling that writes each window's result over the whole window); an odd size's last rows
    or columns, short of a block, are anything (a copy of the input, where it started)."""
    counts = [0] * got.ndim
    for axis in range(got.ndim):
        n, m = got.shape[axis], candidate.shape[axis]
        counts[axis] = n // m if m and axis in spatial_axes(got.ndim) else int(n == m)
        if counts[axis] < 1 or n - counts[axis] * m >= max(counts[axis], 2) \
                or axis not in spatial_axes(got.ndim) and n != m:
            return
    if got.ndim < 2 or min(counts[-2:]) < 2:
        return  # one axis alone is ``repeated``'s
    block = tuple(m * c for m, c in zip(candidate.shape, counts, strict=True))
    repeated = candidate
    for axis in spatial_axes(got.ndim):
        repeated = np.repeat(repeated, counts[axis], axis=axis)
    fields: dict[str, object] = {"counts": tuple(counts[-2:]), "tail": block != got.shape,
                                 "got_shape": got.shape, "expected_shape": candidate.shape}
    yield View(Part("blocks", fields), got[window((0,) * got.ndim, block)], repeated,
               loose=got.size - repeated.size)


def _corner_short(got: np.ndarray, candidate: np.ndarray, bands: Bands) -> Iterator[View]:
    """The candidate's values in the top-left corner of a larger, zero-filled output, its last
    rows or columns left at zero too: an output made as large as the input, and loops that
    stop short of the candidate's edge (``range(h - 3)`` for a window of 3)."""
    axes = spatial_axes(got.ndim)
    if any(bands[(axis, 0)] for axis in axes):
        return  # values from the first row and column on only: a corner
    core = got[inside_bands(got.shape, bands)].shape
    short = tuple(c - n for c, n in zip(candidate.shape, core, strict=True))
    if min(short) < 0 or max(short) == 0 or max(short) > MAX_SHIFT:
        return  # the whole candidate fits (a corner), or more than a loop's few steps are gone
    for axis in axes:  # what it says is missing holds values: else nothing was left out there
        if short[axis] and not np.any(np.moveaxis(candidate, axis, 0)[core[axis]:]):
            return
    corner = window((0,) * got.ndim, core)
    fields: dict[str, object] = {"short": tuple(short[axis] for axis in axes),
                                 "got_shape": got.shape, "expected_shape": candidate.shape}
    yield View(Part("corner_short", fields), got[corner], candidate[corner])


def _shifted(got: np.ndarray, candidate: np.ndarray, rules: Comparison) -> Iterator[View]:
    """The candidate's values moved by a few rows or columns; the edge they left is anything.
    (Whether it holds the values that left at the other edge, a roll, is ``rolled``'s.)"""
    axes = spatial_axes(got.ndim)
    limits = {a: min(MAX_SHIFT, (got.shape[a] - 1) // 2) for a in axes}
    centre = tuple(n // 2 for n in got.shape)
    found = _lookup(float(got[centre]), candidate, rules)
    if found is None:
        return
    for place in found:
        moves = tuple(int(c) - int(p) for c, p in zip(centre, place, strict=True))
        if any(m and a not in limits for a, m in enumerate(moves)) or not any(moves) \
                or any(abs(moves[a]) > limits[a] for a in axes):
            continue
        dst = [slice(None)] * got.ndim
        src = [slice(None)] * got.ndim
        for axis in axes:
            n, move = got.shape[axis], moves[axis]
            dst[axis], src[axis] = (slice(move, n), slice(0, n - move)) if move >= 0 \
                else (slice(0, n + move), slice(-move, n))
        shift = {a: moves[a] for a in axes}
        left = got.size - got[tuple(dst)].size
        yield View(Part("shifted_by_one" if max(map(abs, moves)) == 1 else "shifted",
                        {"shift": shift}), got[tuple(dst)], candidate[tuple(src)], left)


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


def _spread_cut(got: np.ndarray, candidate: np.ndarray) -> Iterator[View]:
    """The candidate's first values at every s-th index of an output as large as it, zero
    between them, the rest of them left out: each stored at its window's start in the input
    instead of at its own index (the stride applied where it was not due)."""
    if got.ndim < 2 or got.shape != candidate.shape or min(got.shape[-2:]) < 2 \
            or np.any(got[..., 0, 1]) or np.any(got[..., 1, 0]):
        return  # a value between the first ones: no stride spread them
    for stride in SPREADS:
        picked = got[..., ::stride, ::stride]
        rows, cols = picked.shape[-2:]
        if rows * cols < 4 or (rows, cols) == candidate.shape[-2:]:
            continue  # too few values to tell; or nothing left out: a spread, not this
        rest = np.ones(got.shape, dtype=bool)
        rest[..., ::stride, ::stride] = False
        if np.any(got[rest]):
            continue
        yield View(Part("spread_cut", {"stride": stride}, keeps=True), picked,
                   candidate[..., :rows, :cols])


def rolled(part: Part, got: np.ndarray, candidate: np.ndarray, rules: Comparison) -> Part:
    """A shift whose left edge holds the values that left at the other edge is a roll
    (circular): every value explained."""
    shift: dict[int, int] = part.fields["shift"]  # type: ignore[assignment]
    whole = np.roll(candidate, tuple(shift.values()), axis=tuple(shift))
    return Part("rolled", part.fields) if near(got, whole, rules) else part
