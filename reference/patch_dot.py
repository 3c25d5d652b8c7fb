"""Trusted reference and mistake models for the patch_dot exercise: the first step of a
convolution, one 3x3 patch of an image against the kernel."""

import numpy as np


def _floats(*arrays: np.ndarray) -> list[np.ndarray]:
    return [np.asarray(a, dtype=np.float64) for a in arrays]


def patch_dot(patch: np.ndarray, kernel: np.ndarray) -> float:
    """The sum of the element-wise products: one value of the feature map."""
    patch, kernel = _floats(patch, kernel)
    return float(np.sum(patch * kernel))


def flipped_kernel(patch: np.ndarray, kernel: np.ndarray) -> float:
    """The kernel turned by 180 degrees first, as the textbook convolution does."""
    return patch_dot(patch, np.asarray(kernel)[::-1, ::-1])


def matrix_product(patch: np.ndarray, kernel: np.ndarray) -> float:
    """np.dot (or @) of the two 3x3 arrays, a matrix product, then summed."""
    patch, kernel = _floats(patch, kernel)
    return float(np.sum(patch @ kernel))


def matrix_product_not_summed(patch: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """np.dot (or @) of the two 3x3 arrays returned as it is: a 3x3 matrix product."""
    patch, kernel = _floats(patch, kernel)
    return patch @ kernel


def no_sum(patch: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """The element-wise products, never added up."""
    patch, kernel = _floats(patch, kernel)
    return patch * kernel


def mean_not_sum(patch: np.ndarray, kernel: np.ndarray) -> float:
    """The mean of the products instead of their sum."""
    patch, kernel = _floats(patch, kernel)
    return float(np.mean(patch * kernel))
