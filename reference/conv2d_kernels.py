"""Trusted reference and mistake models for the conv2d_kernels exercise: a p x p kernel of
small integers over an N x N uint8 image, for a feature map of (N-p+1) x (N-p+1)."""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def conv2d(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Valid cross-correlation, in int64: out[i, j] = sum(image[i:i+p, j:j+p] * kernel)."""
    image = np.asarray(image, dtype=np.int64)
    kernel = np.asarray(kernel, dtype=np.int64)
    return np.einsum("ijkl,kl->ij", sliding_window_view(image, kernel.shape), kernel)


def flip_kernel(image: np.ndarray, kernel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The textbook convolution's kernel, turned by 180 degrees."""
    return image, np.asarray(kernel)[::-1, ::-1]


def off_by_one_size(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """A feature map of N-p instead of N-p+1: the last row and column of windows missed."""
    return conv2d(image, kernel)[:-1, :-1]


def same_padding(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Zero-padded so that the feature map is as large as the image ('same')."""
    p = np.shape(kernel)[0]
    before, after = (p - 1) // 2, p // 2
    return conv2d(np.pad(np.asarray(image, dtype=np.int64), [(before, after)] * 2), kernel)


def matrix_product(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Each window's matrix product with the kernel (np.dot, or @, of two p x p arrays),
    summed, where the element-wise product is meant."""
    image = np.asarray(image, dtype=np.int64)
    kernel = np.asarray(kernel, dtype=np.int64)
    windows = sliding_window_view(image, kernel.shape)
    return np.einsum("ijkl,l->ij", windows, kernel.sum(axis=1))


def negative_indices(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """image[i - a, j - b] * kernel[a, b]: the textbook formula's indices, which turn the
    kernel around and end each window at (i, j); a negative index wraps round to the other
    edge (np.roll moves the image so)."""
    image = np.asarray(image, dtype=np.int64)
    kernel = np.asarray(kernel, dtype=np.int64)
    rows, columns = image.shape[0] - kernel.shape[0] + 1, image.shape[1] - kernel.shape[1] + 1
    out = np.zeros((rows, columns), dtype=np.int64)
    for a in range(kernel.shape[0]):
        for b in range(kernel.shape[1]):
            out += kernel[a, b] * np.roll(image, (a, b), axis=(0, 1))[:rows, :columns]
    return out


def uint8_output(output: np.ndarray) -> np.ndarray:
    """Each value stored in a uint8 array (np.zeros_like(image)): kept modulo 256."""
    return np.mod(np.asarray(output, dtype=np.float64), 256)
