"""Trusted reference and mistake models for the conv2d exercise.

The convolution of deep learning is a cross-correlation: the kernel is not flipped, and the
output is "valid", with no padding.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def conv(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Valid cross-correlation, float64: out[i, j] = sum(image[i:i+kh, j:j+kw] * kernel)."""
    image = np.asarray(image, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    windows = sliding_window_view(image, kernel.shape)
    return np.einsum("ijkl,kl->ij", windows, kernel)


def flipped_kernel(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """True convolution: the kernel flipped on both axes."""
    return conv(image, np.asarray(kernel)[::-1, ::-1])


def matrix_product(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Each window's matrix product with the kernel (np.dot, or @, of two 2-D arrays), summed,
    where the element-wise product is meant: sum over a, b of window[a, b] * kernel[b, :].sum()."""
    image = np.asarray(image, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    windows = sliding_window_view(image, kernel.shape)
    return np.einsum("ijkl,l->ij", windows, kernel.sum(axis=1))


def _padded(image: np.ndarray, kernel: np.ndarray, pad: tuple[int, int]) -> np.ndarray:
    return conv(np.pad(np.asarray(image, dtype=np.float64), [(pad[0], pad[0]), (pad[1], pad[1])]),
                kernel)


def same_padding(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Zero-padded so that the output is as large as the image."""
    kh, kw = np.shape(kernel)
    return _padded(image, kernel, (kh // 2, kw // 2))


def full_padding(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Zero-padded by the kernel size less one: every overlap, output (H+kh-1, W+kw-1)."""
    kh, kw = np.shape(kernel)
    return _padded(image, kernel, (kh - 1, kw - 1))


def transposed_output(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """The right values, with rows and columns swapped."""
    return conv(image, kernel).T


# Stages of mistakes that combine (see the spec's ``stage``): a change to the arguments, a
# change to the output.


def flip_kernel(image: np.ndarray, kernel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """True convolution's kernel, flipped on both axes."""
    return image, np.asarray(kernel)[::-1, ::-1]


def truncate(output: np.ndarray) -> np.ndarray:
    """Every value's fraction dropped, as an integer array does."""
    return np.trunc(output)


def transpose(output: np.ndarray) -> np.ndarray:
    return np.asarray(output).T


def circular(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """The FFT route left uncropped: a circular cross-correlation of the image's shape, where
    windows past the last row or column wrap to the first ones."""
    image = np.asarray(image, dtype=np.float64)
    kh, kw = np.shape(kernel)
    wrapped = np.pad(image, [(0, kh - 1), (0, kw - 1)], mode="wrap")
    return conv(wrapped, kernel)


def wrapped_indices(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Windows centred on each output index, image[i - 1 + a, j - 1 + b]: index -1 wraps to
    the last row or column (Python's negative indices, or an FFT result cropped at the
    centre). The valid shape, its first row and column wrong, the rest moved by one."""
    image = np.asarray(image, dtype=np.float64)
    kh, kw = np.shape(kernel)
    h, w = image.shape
    rolled = np.roll(image, (kh // 2, kw // 2), axis=(0, 1))
    return conv(rolled, kernel)[: h - kh + 1, : w - kw + 1]
