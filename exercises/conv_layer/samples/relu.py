import numpy as np


def conv_layer(x, weights, bias):
    c_out, c_in, p, _ = weights.shape
    h, w = x.shape[1] - p + 1, x.shape[2] - p + 1
    out = np.zeros((c_out, h, w))
    for o in range(c_out):
        for i in range(h):
            for j in range(w):
                out[o, i, j] = np.sum(x[:, i:i+p, j:j+p] * weights[o]) + bias[o]
    return np.maximum(out, 0)
