"""Trusted reference and mistake models for the conv_layer exercise: several input channels
summed into each of several output channels, plus a bias per output channel."""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _maps(x: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Each output channel's cross-correlation with each input channel: (C_out, C_in, H', W')."""
    x = np.asarray(x, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    windows = sliding_window_view(x, weights.shape[2:], axis=(1, 2))
    return np.einsum("chwkl,ockl->ochw", windows, weights)


def conv_layer(x: np.ndarray, weights: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """out[o] = sum over c of xcorr(x[c], weights[o, c]) + bias[o]: (C_out, H-p+1, W-p+1)."""
    return _maps(x, weights).sum(axis=1) + np.asarray(bias, dtype=np.float64)[:, None, None]


def no_bias(x: np.ndarray, weights: np.ndarray, bias: np.ndarray) -> np.ndarray:
    return _maps(x, weights).sum(axis=1)


def channels_not_summed(x: np.ndarray, weights: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """One map per output and input channel, (C_out, C_in, H', W'), never added up."""
    return _maps(x, weights) + np.asarray(bias, dtype=np.float64)[:, None, None, None]


def channel_axes_swapped(x: np.ndarray, weights: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """weights[c, o] instead of weights[o, c]: only possible when C_in == C_out (otherwise
    an index error, which this model raises as a ValueError)."""
    weights = np.asarray(weights)
    if weights.shape[0] != weights.shape[1]:
        raise ValueError("the channel counts differ")
    return conv_layer(x, weights.transpose(1, 0, 2, 3), bias)


def first_channel_only(x: np.ndarray, weights: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Only the first input channel, as if the input were a grey image."""
    return conv_layer(np.asarray(x)[:1], np.asarray(weights)[:, :1], bias)


def bias_per_product(x: np.ndarray, weights: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """The bias added to every product of a window (inside the sum) rather than once per
    output value: bias[o] times C_in * p * p."""
    weights = np.asarray(weights)
    count = weights.shape[1] * weights.shape[2] * weights.shape[3]
    return no_bias(x, weights, bias) + count * np.asarray(bias, dtype=np.float64)[:, None, None]


def bias_per_position(x: np.ndarray, weights: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """The bias added once for each position of the kernel (inside the loops over the
    kernel's rows and columns, outside the one over the input channels): p * p times."""
    weights = np.asarray(weights)
    count = weights.shape[2] * weights.shape[3]
    return no_bias(x, weights, bias) + count * np.asarray(bias, dtype=np.float64)[:, None, None]


def last_kernel_everywhere(x: np.ndarray, weights: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Each output channel's result written into every output channel (out[:, i, j] = ...
    inside the loop over them): all of them end as the last one's, bias included."""
    out = conv_layer(x, weights, bias)
    return np.broadcast_to(out[-1], out.shape).copy()
