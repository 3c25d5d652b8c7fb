"""Trusted reference and mistake models for the maxpool2d exercise: 2x2 windows, stride 2."""

import numpy as np


def _windows(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image, dtype=np.float64)
    h, w = image.shape[0] // 2 * 2, image.shape[1] // 2 * 2
    return image[:h, :w].reshape(h // 2, 2, w // 2, 2)


def pool(image: np.ndarray) -> np.ndarray:
    """Max over non-overlapping 2x2 windows; an odd last row or column is dropped."""
    return _windows(image).max(axis=(1, 3))


def average_pooling(image: np.ndarray) -> np.ndarray:
    """The mean of each window instead of its maximum."""
    return _windows(image).mean(axis=(1, 3))


def last_in_window(image: np.ndarray) -> np.ndarray:
    """Each window's last (bottom-right) value: a loop that keeps the value it saw last, or
    returns the loop's variable, instead of the largest."""
    return _windows(image)[:, 1, :, 1]


def stride_one(image: np.ndarray) -> np.ndarray:
    """Overlapping windows: stride 1 instead of 2."""
    from numpy.lib.stride_tricks import sliding_window_view

    return sliding_window_view(np.asarray(image, dtype=np.float64), (2, 2)).max(axis=(2, 3))


def stride_not_in_index(image: np.ndarray) -> np.ndarray:
    """The right output size, but window (i, j) starts at (i, j): the stride is left out of
    the input's index (image[i:i + 2], not image[2 * i:2 * i + 2])."""
    h, w = image.shape[0] // 2, image.shape[1] // 2
    return stride_one(image)[:h, :w]


def partial_windows(image: np.ndarray) -> np.ndarray:
    """An odd last row or column kept, as a window of its own ('ceil mode'): (H+1)//2 x
    (W+1)//2."""
    image = np.asarray(image, dtype=np.float64)
    h, w = image.shape
    padded = np.pad(image, [(0, h % 2), (0, w % 2)], constant_values=-np.inf)
    return _windows(padded).max(axis=(1, 3))
