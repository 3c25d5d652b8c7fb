"""Cheap tests that rule candidates out before the search tries them in full.

Each test is a necessary condition of ``grader.grading.parts.near``, checked on a few of the
output's values, so that a candidate it rules out could never have given a fit: the search
skips it and finds what it would have found, with fewer array operations. When a test cannot
tell (a dtype or magnitudes it does not cover), it lets the candidate through.

The condition: ``near(got, x)`` holds only when every value of ``x`` is within
``allowed_error(x)`` of got's, ``atol + rtol * |x_i| + k * m`` (``k``: the floor's units of
the tolerance precision's eps, 0 for float64; ``m``: the largest finite ``|x|``). Where that
largest value sits, got is within the same bound, so ``m * (1 - rtol - k) <= max|got| +
atol``: every finite value of ``x`` is within ``reach`` of got's, a bound of got and the rules
alone. (An infinite value of ``x`` is compared with an infinite bound: it is never ruled out.)
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from grader.catalog.spec import Comparison
from grader.grading.compare import PRECISION_ULPS, tolerance_precision
from grader.grading.parts import DECIMALS, clipped_as, stored_as

MARGIN = 1e-6  # relative slack for the rounding of a bound itself
UNIT = 2.0 ** -53  # float64's unit roundoff
TINY = 1e-290  # absolute slack, for values near float64's smallest
SCALES = 1e50  # magnitudes within which no fitted factor or term overflows (``may_scale``)


@dataclass
class Probe:
    """An output (float64, finite, not empty) as the tests see it: a few of its values (the
    first, the last and two between) and its centre value (``placements``'s shifts look it
    up), with the reach of candidates of each tolerance precision."""

    got: np.ndarray
    rules: Comparison
    places: np.ndarray = field(init=False)
    values: list[float] = field(init=False)
    centre: float = field(init=False)
    largest: float = field(init=False)
    reaches: dict[np.dtype, float] = field(default_factory=dict, init=False)
    ordered: list[float] | None = field(default=None, init=False)  # got's values, sorted

    def __post_init__(self) -> None:
        size = self.got.size
        self.places = np.unique(np.array([0, size // 3, 2 * size // 3, size - 1]))
        self.values = self.got.flat[self.places].tolist()
        self.centre = float(self.got[tuple(n // 2 for n in self.got.shape)])
        self.largest = float(np.abs(self.got).max())

    def holds(self, value: float, reach: float) -> bool:
        """Whether one of got's values may be within ``reach`` of ``value`` (the bounds
        widened by their own rounding)."""
        if self.ordered is None:
            self.ordered = sorted(self.got.ravel().tolist())
        slack = reach + 4 * UNIT * abs(value) + TINY
        at = bisect.bisect_left(self.ordered, value - slack)
        return at < len(self.ordered) and self.ordered[at] <= value + slack

    def reach(self, candidate: np.ndarray) -> float:
        """How far from got's value any finite value of ``candidate`` (or of an array of its
        dtype) may be, in its place, for ``near`` to hold; infinite when the rules allow
        any factor."""
        kind = tolerance_precision(candidate, self.rules)
        if kind not in self.reaches:
            floor = PRECISION_ULPS * float(np.finfo(kind).eps) if kind.itemsize < 8 else 0.0
            spread = self.rules.rtol + floor
            largest = (self.largest + self.rules.atol) / (1 - spread) if spread < 0.5 \
                else math.inf
            self.reaches[kind] = (self.rules.atol + spread * largest) * (1 + MARGIN) + TINY
        return self.reaches[kind]


def may_match(probe: Probe, candidates: Sequence[np.ndarray],
              dtype: np.dtype | None = None) -> tuple[list[bool], list[bool]]:
    """For each candidate, whether it may be ``near`` got as it is placed, and whether one
    of its value parts (``parts.variants``: negatives set to zero, truncated, rounded; stored
    in got's ``dtype``, or clipped to its range, when it is an integer one) may, each with no
    other placement: False only for a float64 candidate of got's shape whose values (or
    changed values) are not all within reach of got's on the probe, or for one of another
    shape."""
    as_is = [c.shape == probe.got.shape for c in candidates]
    changes = list(as_is)
    screened = [i for i, c in enumerate(candidates) if as_is[i] and c.dtype == np.float64]
    if not screened:
        return as_is, changes
    values = np.stack([candidates[i].flat[probe.places] for i in screened])
    stored = []
    if dtype is not None and dtype.kind in "iu":  # stored as it is, or clipped to its range
        stored = [stored_as(values, dtype), *(clipped for _, clipped in clipped_as(values, dtype))]
    every = np.stack([values, np.maximum(values, 0), np.trunc(values), *stored,
                      *(np.round(values, decimals) for decimals in DECIMALS)])
    far = (np.abs(every - probe.values) > probe.reach(values)) & np.isfinite(every)
    near = ~far.any(axis=2)  # (change, candidate): within reach on every probed value
    for i, same, changed in zip(screened, near[0], near[1:].any(axis=0), strict=True):
        as_is[i], changes[i] = bool(same), bool(changed)
    return as_is, changes


def may_hold(probe: Probe, candidate: np.ndarray, finite: bool) -> bool:
    """Whether a view that compares got's centre value with one of ``candidate``'s (as it
    is, transposed, shifted or cropped) may be ``near``: one of its values is within reach
    of that one. ``finite``: whether every value of the candidate is."""
    if not finite or candidate.dtype != np.float64:
        return True
    return bool((np.abs(candidate - probe.centre) <= probe.reach(candidate)).any())


def may_edge(probe: Probe, candidate: np.ndarray, bands: dict[tuple[int, int], int],
             finite: bool) -> bool:
    """Whether the view of ``candidate`` inside the output's zero bands (``placements``'s
    edges left at zero) may be ``near``: its first value is within reach of got's there."""
    if not finite or candidate.dtype != np.float64:
        return True
    place = tuple(bands.get((axis, 0), 0) for axis in range(probe.got.ndim))
    return abs(float(probe.got[place]) - float(candidate[place])) <= probe.reach(candidate)


def may_sit(probe: Probe, candidate: np.ndarray, finite: bool) -> bool:
    """Whether a view that compares the whole of ``candidate`` with a region of got (inside
    it, or spread over it) may be ``near``: its first, largest and smallest values are each
    within reach of one of got's. ``finite``: whether every value of the candidate is."""
    if not finite or candidate.dtype != np.float64:
        return True
    reach = probe.reach(candidate)
    return all(probe.holds(float(value), reach)
               for value in (candidate.flat[0], candidate.max(), candidate.min()))


def may_scale(probe: Probe, candidate: np.ndarray) -> bool:
    """Whether got may be ``near`` ``factor * candidate + term`` for any finite factor and
    term (``parts.scaled``, ``offset`` and ``rescaled`` fit one or both), candidate and got of
    one shape. On three of the probed values, in order of the candidate's, the middle one's
    distance from the line through the other two is at most what ``reach``, and the
    rounding of ``factor * candidate + term``, allow; the factor is bounded by the same two.
    Magnitudes are bounded (``SCALES``) so that no fitted factor or term is infinite."""
    if candidate.dtype != np.float64 or len(probe.values) < 3 or probe.largest > SCALES:
        return True
    points = sorted(zip(candidate.flat[probe.places].tolist(), probe.values, strict=True))
    (c0, g0), (c1, g1) = points[0], points[-1]
    size = max(abs(c0), abs(c1))
    spread = c1 - c0
    if not (size >= 1 / SCALES and spread > 1e-10 * size):
        return True
    reach = probe.reach(candidate)
    slack = reach + 2 * UNIT * (max(abs(g) for _, g in points) + reach)
    factor = 2 * (abs(g1 - g0) + 2 * slack) / spread  # at most |factor|
    error = slack + UNIT * factor * size  # at most each value's distance from the line
    for c, g in points[1:-1]:
        off = (g - g0) * spread - (g1 - g0) * (c - c0)
        rounding = 8 * UNIT * (abs(g - g0) * spread + abs(g1 - g0) * abs(c - c0))
        allowed = 2 * error * (spread + abs(c - c0)) + rounding
        if abs(off) > allowed * (1 + MARGIN) + TINY:
            # ruled out, if no value of the candidate is large enough to overflow a fit
            return not float(np.abs(candidate).max()) <= SCALES
    return True
