import numpy as np


def conv_layer(x, weights, bias):
    c_out, c_in, p, _ = weights.shape
    half = p // 2                   # windows centred on each pixel
    _, h, w = x.shape
    out = np.zeros((c_out, h - p + 1, w - p + 1))
    for o in range(c_out):
        for i in range(half, h - half):
            for j in range(half, w - half):
                window = x[:, i - half:i + half + 1, j - half:j + half + 1]
                out[o, i - half, j - half] = np.sum(window * weights[o]) + bias[o]
    return out
