"""Heatmaps: palettes as data, one rect per value, and a summary for the text alternative."""

from __future__ import annotations

import re

import numpy as np
import pytest

from grader.pages.heatmap import (
    BLUE_WHITE_RED,
    MAX_CELLS,
    NOT_FINITE,
    VIRIDIS,
    _blocks,
    _fills,
    colours,
    heatmap,
)


def test_the_palettes_ends_and_middle_are_their_stops() -> None:
    assert colours(VIRIDIS, np.array([0.0, 1.0])) == [VIRIDIS[0], VIRIDIS[-1]]
    assert colours(BLUE_WHITE_RED, np.array([0.5])) == ["#f7f7f7"]


def test_one_rect_per_value_in_the_arrays_shape() -> None:
    drawn = heatmap(np.arange(12.0).reshape(3, 4), "Expected output")
    assert drawn.svg.count("<rect ") == 12 and 'viewBox="0 0 4 3"' in drawn.svg
    assert drawn.summary == "Expected output: 3 by 4, values from 0 to 11"
    assert f"<title>{drawn.summary}</title>" in drawn.svg
    assert f'aria-label="{drawn.summary}"' in drawn.svg


def test_a_difference_says_where_its_largest_value_is_and_outlines_it() -> None:
    difference = np.zeros((4, 5))
    difference[2, 3] = -7.5
    drawn = heatmap(difference, "Difference", diverging=True)
    assert "the largest difference, -7.5, is at [2, 3]" in drawn.summary
    assert '<rect class="peak" x="3.06" y="2.06"' in drawn.svg
    assert f'fill="{BLUE_WHITE_RED[0]}"' in drawn.svg  # the most negative value, deepest blue


def test_values_that_are_not_finite_are_grey_and_counted() -> None:
    drawn = heatmap(np.array([[1.0, np.nan], [np.inf, 2.0]]), "Your output")
    assert "2 values are not finite (grey)" in drawn.summary
    assert drawn.svg.count('fill="#7f7f7f"') == 2


def test_a_large_array_is_drawn_in_blocks_that_keep_the_largest_difference() -> None:
    difference = np.zeros((200, 100))
    difference[123, 45] = 9.0
    drawn = heatmap(difference, "Difference", diverging=True)
    assert drawn.svg.count("<rect ") <= MAX_CELLS * MAX_CELLS
    assert "drawn as" in drawn.summary and "is at [123, 45]" in drawn.summary
    assert f'fill="{BLUE_WHITE_RED[-1]}"' in drawn.svg


def test_vectors_and_scalars_are_drawn_as_one_row() -> None:
    assert 'viewBox="0 0 5 1"' in heatmap(np.arange(5.0), "v").svg
    assert 'viewBox="0 0 1 1"' in heatmap(np.float64(3.0), "s").svg


def test_the_largest_finite_floats_of_both_signs_are_drawn_at_the_palettes_ends() -> None:
    # a learner's output: their range, and every block's sum, overflows a float
    big = np.finfo(np.float64).max
    values = np.full((4, 4), big)
    values[::2] = -big
    for drawn in (heatmap(values, "Yours"), heatmap(values, "Difference", diverging=True)):
        assert "NaN" not in drawn.svg and drawn.svg.count("<rect ") >= 16
    plain = heatmap(values, "Yours").svg
    assert f'fill="{VIRIDIS[0]}"' in plain and f'fill="{VIRIDIS[-1]}"' in plain
    blocks = heatmap(np.full((200, 200), big), "Yours", low=-1.0, high=1.0).svg
    assert f'fill="{VIRIDIS[-1]}"' in blocks and "#7f7f7f" not in blocks  # finite, not grey


def test_an_array_with_no_values_is_an_empty_picture() -> None:
    # a side of no values beside one too long to draw cell by cell too, up to 2**48 rows of
    # nothing: no blocks, no rows to go through, a picture of at most MAX_CELLS a side
    for shape in [(0,), (0, 6), (6, 0), (0, 0, 3), (0, 100), (100, 0), (2, 0, 100),
                  (65536, 65536, 65536, 0)]:
        for diverging in (False, True):
            drawn = heatmap(np.zeros(shape), "Yours", diverging=diverging)
            assert drawn.summary.endswith(", empty") and "<rect " not in drawn.svg
            assert re.search(r'viewBox="0 0 \d{1,2} \d{1,2}"', drawn.svg), drawn.svg[:80]


def _blocks_one_by_one(grid: np.ndarray, signed: bool) -> np.ndarray:
    """What each block shows, computed block by block (the definition ``_blocks`` meets)."""
    rows, cols = grid.shape
    step_r, step_c = -(-rows // MAX_CELLS), -(-cols // MAX_CELLS)
    out = np.full((-(-rows // step_r), -(-cols // step_c)), np.nan)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            block = grid[i * step_r:(i + 1) * step_r, j * step_c:(j + 1) * step_c]
            finite = block[np.isfinite(block)]
            if finite.size:
                scale = float(np.abs(finite).max())
                out[i, j] = finite[np.argmax(np.abs(finite))] if signed else \
                    (float((finite / scale).mean()) * scale if scale > 0 else 0.0)
    return out


@pytest.mark.parametrize("shape", [(96, 42), (50, 49), (200, 3), (7, 500), (49, 49)])
@pytest.mark.parametrize("signed", [False, True])
def test_blocks_and_colours_computed_at_once_are_those_of_one_at_a_time(
        shape: tuple[int, int], signed: bool) -> None:
    rng = np.random.default_rng(sum(shape))
    grid = rng.normal(size=shape) * 10.0 ** rng.integers(-3, 300, size=shape)
    grid[rng.random(shape) < 0.2] = np.nan
    grid[rng.random(shape) < 0.05] = np.inf
    grid[: min(shape[0], 8), : min(shape[1], 8)] = np.nan  # a block with no finite value
    shown = _blocks(grid, signed)
    assert np.allclose(shown, _blocks_one_by_one(grid, signed), rtol=1e-12, equal_nan=True)
    finite = shown[np.isfinite(shown)]
    low, high = float(finite.min()), float(finite.max())
    stops = BLUE_WHITE_RED if signed else VIRIDIS
    expected = [_colour_one(stops, float(v), low, high) if np.isfinite(v)
                else NOT_FINITE for v in shown.ravel()]
    assert _fills(shown, stops, low, high) == expected
    assert _fills(shown, stops, 1.0, 1.0) == [_colour_one(stops, 0.0, 1.0, 1.0)
                                                if np.isfinite(v) else NOT_FINITE
                                                for v in shown.ravel()]


def _colour_one(stops: tuple[str, ...], value: float, low: float, high: float) -> str:
    """One finite value's colour, computed alone (the definition ``_fills`` meets): its
    place from ``low`` to ``high`` (0.5 for no range), halved against overflow, then
    interpolated in RGB between the two stops around it."""
    span = high / 2 - low / 2
    t = 0.5 if span <= 0 else (value / 2 - low / 2) / span
    t = min(max(t, 0.0), 1.0) * (len(stops) - 1)
    below = min(int(t), len(stops) - 2)
    a, b = (tuple(int(stop[k:k + 2], 16) for k in (1, 3, 5)) for stop in stops[below:below + 2])
    r, g, bl = (round(x + (y - x) * (t - below)) for x, y in zip(a, b, strict=True))
    return f"#{r:02x}{g:02x}{bl:02x}"
