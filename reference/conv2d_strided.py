"""Trusted reference and mistake models for the conv2d_strided exercise: zero padding on every
side, then the kernel moved by ``stride`` rows and columns at a time."""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _windows(image: np.ndarray, kernel: np.ndarray, pads: tuple[int, int]) -> np.ndarray:
    """Every valid window of the image padded by pads (before, after) on both axes."""
    padded = np.pad(np.asarray(image, dtype=np.float64), [pads, pads])
    return sliding_window_view(padded, np.shape(kernel))


def _apply(windows: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    return np.einsum("ijkl,kl->ij", windows, np.asarray(kernel, dtype=np.float64))


def conv2d(image: np.ndarray, kernel: np.ndarray, stride: int, padding: int) -> np.ndarray:
    """Output (N + 2P - p) // S + 1 square: window (i, j) starts at (i * S, j * S)."""
    windows = _windows(image, kernel, (padding, padding))
    return _apply(windows[::stride, ::stride], kernel)


def stride_not_in_index(image: np.ndarray, kernel: np.ndarray, stride: int,
                        padding: int) -> np.ndarray:
    """The right output size, but window (i, j) starts at (i, j): the stride is left out of
    the index."""
    size = conv2d(image, kernel, stride, padding).shape
    windows = _windows(image, kernel, (padding, padding))
    return _apply(windows[: size[0], : size[1]], kernel)


def padding_one_side(image: np.ndarray, kernel: np.ndarray, stride: int,
                     padding: int) -> np.ndarray:
    """Zeros added before the first row and column only, none after the last."""
    windows = _windows(image, kernel, (padding, 0))
    return _apply(windows[::stride, ::stride], kernel)


def no_padding(image: np.ndarray, kernel: np.ndarray, stride: int, padding: int) -> np.ndarray:
    """The padding left out."""
    return conv2d(image, kernel, stride, 0)


def off_by_one_size(image: np.ndarray, kernel: np.ndarray, stride: int,
                    padding: int) -> np.ndarray:
    """(N + 2P - p) // S values a side: the formula's + 1 forgotten."""
    return conv2d(image, kernel, stride, padding)[:-1, :-1]
