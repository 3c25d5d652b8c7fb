"""Arrays as heatmaps: inline SVG, drawn in Python, with a text alternative.

A heatmap is a grid of rects, one per value (blocks of values past ``MAX_CELLS`` a side), in a
colour-blind-safe palette: viridis for values, a blue-white-red diverging palette for
differences (blue where the learner's value is below the expected one, red where above). The
palettes are data, below. Every picture carries a ``<title>`` and an ``aria-label`` that say
its shape, its range and, for a difference, where the largest one is.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np

# Colour stops, evenly spaced from the low end to the high end.
VIRIDIS = ("#440154", "#482878", "#3e4989", "#31688e", "#26828e",
           "#1f9e89", "#35b779", "#6ece58", "#b5de2b", "#fde725")
# ColorBrewer's RdBu, reversed: blue for negative, white for zero, red for positive.
BLUE_WHITE_RED = ("#2166ac", "#4393c3", "#92c5de", "#d1e5f0", "#f7f7f7",
                  "#fddbc7", "#f4a582", "#d6604d", "#b2182b")
NOT_FINITE = "#7f7f7f"  # NaN and infinities: a grey that neither palette uses
MAX_CELLS = 48  # per side; a larger array is shown in blocks


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def colours(stops: tuple[str, ...], t: np.ndarray) -> list[str]:
    """The colour at each of ``t`` (fractions, clipped to [0, 1]; NaN counts as 0) along
    ``stops``, interpolated in RGB, in ``t``'s order."""
    where = np.clip(np.nan_to_num(np.asarray(t, dtype=np.float64), nan=0.0), 0.0, 1.0)
    scaled = where.ravel() * (len(stops) - 1)
    below = np.minimum(scaled.astype(np.int64), len(stops) - 2)
    frac = (scaled - below)[:, None]
    rgb = np.array([_rgb(stop) for stop in stops], dtype=np.float64)
    channels = np.rint(rgb[below] + (rgb[below + 1] - rgb[below]) * frac).astype(np.int64)
    return [f"#{r:02x}{g:02x}{b:02x}" for r, g, b in channels.tolist()]


def position(values: np.ndarray | float, low: float, high: float) -> np.ndarray:
    """Where each finite value lies from ``low`` to ``high``, as a fraction (0.5 for no
    range). Each is halved first: the difference of two finite floats can overflow (a
    learner's output may hold the largest ones of both signs), half of it cannot."""
    values = np.asarray(values, dtype=np.float64)
    span = high / 2 - low / 2
    if span <= 0:
        return np.full(values.shape, 0.5)
    with np.errstate(invalid="ignore", over="ignore"):
        return (values / 2 - low / 2) / span


def as_grid(values: np.ndarray) -> np.ndarray:
    """A 2D float view of any array: a scalar is 1x1, a vector one row, and leading axes of a
    higher-dimensional array are stacked as rows."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 0:
        return array.reshape(1, 1)
    if array.ndim == 1:
        return array.reshape(1, -1)
    # the rows' count spelled out: -1 cannot be inferred for an array with no values
    return array.reshape(int(np.prod(array.shape[:-1])), array.shape[-1])


def _blocks(grid: np.ndarray, signed: bool) -> np.ndarray:
    """At most MAX_CELLS a side: each block shows its mean, or for a difference its value of
    largest magnitude, so that no large difference is averaged away. A block with no finite
    value is NaN. Computed for every block at once: a learner's output of a few thousand
    values, NaN among them, costs its page no loop over blocks."""
    rows, cols = grid.shape
    if grid.size == 0:  # no values to block, however long a side: drawn as at most MAX_CELLS
        return grid.reshape(min(rows, MAX_CELLS), min(cols, MAX_CELLS))
    step_r, step_c = -(-rows // MAX_CELLS), -(-cols // MAX_CELLS)
    if step_r <= 1 and step_c <= 1:
        return grid
    out_r, out_c = -(-rows // step_r), -(-cols // step_c)
    padded = np.full((out_r * step_r, out_c * step_c), np.nan)
    padded[:rows, :cols] = grid
    blocks = padded.reshape(out_r, step_r, out_c, step_c).transpose(0, 2, 1, 3) \
        .reshape(out_r, out_c, step_r * step_c)
    finite = np.isfinite(blocks)
    magnitude = np.where(finite, np.abs(blocks), -1.0)
    if signed:
        largest = magnitude.argmax(axis=2)[..., None]
        shown = np.take_along_axis(blocks, largest, axis=2)[..., 0]
    else:  # the mean of values scaled into [-1, 1], which never overflows
        scale = magnitude.max(axis=2)
        safe = np.where(scale > 0, scale, 1.0)[..., None]
        with np.errstate(invalid="ignore", over="ignore"):
            scaled = np.where(finite, blocks / safe, 0.0)
        count = np.maximum(finite.sum(axis=2), 1)
        shown = np.where(scale > 0, scaled.sum(axis=2) / count * safe[..., 0], 0.0)
    return np.where(finite.any(axis=2), shown, np.nan)


def _fills(shown: np.ndarray, stops: tuple[str, ...], low: float, high: float) -> list[str]:
    """Each value's colour, row by row, along ``stops`` from ``low`` to ``high`` (grey where
    it is not finite), computed for every value at once."""
    fills = colours(stops, position(shown, low, high))
    return [fill if good else NOT_FINITE
            for fill, good in zip(fills, np.isfinite(shown).ravel().tolist(), strict=True)]


def _number(value: float) -> str:
    return f"{value:.4g}"


def _shape(shape: tuple[int, ...]) -> str:
    return " by ".join(map(str, shape)) if shape else "a single value"


@dataclass(frozen=True)
class Heatmap:
    svg: str
    summary: str


def heatmap(values: np.ndarray, label: str, *, low: float | None = None,
            high: float | None = None, diverging: bool = False) -> Heatmap:
    """``values`` as an SVG heatmap, with a summary for its text alternative. ``low`` and
    ``high`` fix the colour range (to share one between two pictures); a diverging map is
    centred on zero and marks its largest magnitude with an outline."""
    original = np.asarray(values, dtype=np.float64)
    grid = as_grid(original)
    finite = grid[np.isfinite(grid)]
    bad = grid.size - finite.size
    summary = f"{label}: {_shape(original.shape)}"
    largest: tuple[int, int] | None = None
    if finite.size == 0:
        summary += ", no finite value" if grid.size else ", empty"
        low = high = 0.0
    elif diverging:
        flat = int(np.nanargmax(np.where(np.isfinite(grid), np.abs(grid), -1.0)))
        largest = (flat // grid.shape[1], flat % grid.shape[1])
        peak = float(np.abs(finite).max())
        high = peak if high is None else high
        low = -high
        where = np.unravel_index(flat, original.shape) if original.ndim else ()
        index = ", ".join(str(int(i)) for i in where)
        summary += (f", from {_number(float(finite.min()))} to {_number(float(finite.max()))}"
                    + (f"; the largest difference, {_number(float(grid[largest]))}, is at "
                       f"[{index}]" if peak > 0 else "; no difference at all"))
    else:
        low = float(finite.min()) if low is None else low
        high = float(finite.max()) if high is None else high
        summary += f", values from {_number(float(finite.min()))} to " \
                   f"{_number(float(finite.max()))}"
    if bad:
        summary += f"; {bad} value{'s are' if bad > 1 else ' is'} not finite (grey)"
    assert low is not None and high is not None
    shown = _blocks(grid, diverging)
    rows, cols = shown.shape
    if grid.size and (rows, cols) != grid.shape:
        summary += f"; drawn as {rows} by {cols} blocks"
    fills = _fills(shown, BLUE_WHITE_RED if diverging else VIRIDIS, low, high)
    cells = [f'<rect x="{k % cols}" y="{k // cols}" width="1" height="1" fill="{fill}"/>'
             for k, fill in enumerate(fills)]
    if largest is not None and (rows, cols) == grid.shape:
        i, j = largest
        cells.append(f'<rect class="peak" x="{j + 0.06}" y="{i + 0.06}" width="0.88" '
                     'height="0.88" fill="none" stroke="#000" stroke-width="0.12"/>')
    text = html.escape(summary)
    svg = (f'<svg class="heatmap" role="img" aria-label="{text}" viewBox="0 0 {cols} {rows}" '
           f'preserveAspectRatio="xMidYMid meet" shape-rendering="crispEdges" '
           f'xmlns="http://www.w3.org/2000/svg"><title>{text}</title>{"".join(cells)}</svg>')
    return Heatmap(svg=svg, summary=summary)


def colour_bar(low: float, high: float, diverging: bool = False) -> str:
    """A legend: the palette from ``low`` to ``high`` as a strip of rects, with its ends."""
    stops = BLUE_WHITE_RED if diverging else VIRIDIS
    steps = 32
    rects = "".join(f'<rect x="{k}" y="0" width="1" height="1" fill="{fill}"/>'
                    for k, fill in enumerate(colours(stops, np.arange(steps) / (steps - 1))))
    label = html.escape(f"colour scale from {_number(low)} to {_number(high)}")
    return (f'<div class="bar"><span>{html.escape(_number(low))}</span>'
            f'<svg role="img" aria-label="{label}" viewBox="0 0 {steps} 1" '
            f'preserveAspectRatio="none" shape-rendering="crispEdges" '
            f'xmlns="http://www.w3.org/2000/svg"><title>{label}</title>{rects}</svg>'
            f'<span>{html.escape(_number(high))}</span></div>')
