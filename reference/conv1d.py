"""Trusted reference and mistake models for the conv1d exercise: a kernel slid along a
sequence, valid positions only."""

import numpy as np


def conv1d(signal: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Valid cross-correlation: out[i] = sum(signal[i:i+p] * kernel), N - p + 1 values."""
    signal = np.asarray(signal, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    return np.correlate(signal, kernel, mode="valid")


def flip_kernel(signal: np.ndarray, kernel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.convolve's kernel: reversed."""
    return signal, np.asarray(kernel)[::-1]


def full_mode(signal: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Every overlap, N + p - 1 values (np.correlate's or np.convolve's 'full')."""
    return np.correlate(np.asarray(signal, dtype=np.float64),
                        np.asarray(kernel, dtype=np.float64), mode="full")


def same_mode(signal: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """As long as the signal, zero-padded (mode 'same')."""
    return np.correlate(np.asarray(signal, dtype=np.float64),
                        np.asarray(kernel, dtype=np.float64), mode="same")


def off_by_one_size(signal: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """N - p values instead of N - p + 1: the last window missed."""
    return conv1d(signal, kernel)[:-1]
