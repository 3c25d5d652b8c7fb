"""The trusted references, checked against independent implementations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import convolve2d, correlate2d

from grader.catalog.exercises import Catalog

SHAPES = [(8, 8), (12, 10), (10, 10), (12, 8), (3, 3), (5, 9)]


@pytest.mark.parametrize("shape", SHAPES)
def test_conv2d_reference_is_valid_cross_correlation(catalog: Catalog, shape) -> None:
    rng = np.random.default_rng(1)
    image, kernel = rng.normal(size=shape), rng.normal(size=(3, 3))
    got = catalog.get("conv2d").reference(image, kernel)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, correlate2d(image, kernel, mode="valid"), rtol=1e-12)


def test_conv2d_mistake_models_are_what_they_say(catalog: Catalog) -> None:
    rng = np.random.default_rng(2)
    image, kernel = rng.normal(size=(12, 10)), rng.normal(size=(3, 3))
    m = catalog.get("conv2d").mistakes
    np.testing.assert_allclose(correlate2d(*m["flipped_kernel"](image, kernel), mode="valid"),
                               convolve2d(image, kernel, mode="valid"))
    np.testing.assert_allclose(m["same_padding"](image, kernel),
                               correlate2d(image, kernel, mode="same"))
    np.testing.assert_allclose(m["full_padding"](image, kernel),
                               correlate2d(image, kernel, mode="full"))
    valid = correlate2d(image, kernel, mode="valid")
    np.testing.assert_allclose(m["transposed_output"](valid), valid.T)
    np.testing.assert_array_equal(m["integer_truncation"](np.array([1.7, -1.7])), [1.0, -1.0])
    np.testing.assert_allclose(m["circular"](image, kernel),
                               correlate2d(np.pad(image, [(0, 2), (0, 2)], mode="wrap"), kernel,
                                           mode="valid"))
    wrapped = m["wrapped_indices"](image, kernel)
    np.testing.assert_allclose(wrapped[1:, 1:], valid[:-1, :-1])
    h, w = image.shape
    np.testing.assert_allclose(wrapped[0, 0], sum(
        image[(a - 1) % h, (b - 1) % w] * kernel[a, b] for a in range(3) for b in range(3)))


@pytest.mark.parametrize("shape", [(6, 6), (8, 12), (9, 7)])
def test_maxpool_reference_matches_a_plain_loop(catalog: Catalog, shape) -> None:
    image = np.random.default_rng(3).uniform(-10, 10, size=shape)
    h, w = shape[0] // 2, shape[1] // 2
    expected = np.array([[image[2 * i : 2 * i + 2, 2 * j : 2 * j + 2].max() for j in range(w)]
                         for i in range(h)])
    np.testing.assert_array_equal(catalog.get("maxpool2d").reference(image), expected)
