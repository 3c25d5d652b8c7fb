import numpy as np


def conv_layer(x, weights, bias):
    c_out, c_in, p, _ = weights.shape
    out = np.zeros((c_out, x.shape[1] - p + 1, x.shape[2] - p + 1))
    for o in range(c_out):
        for i in range(out.shape[1]):
            for j in range(out.shape[2]):
                out[:, i, j] = np.sum(x[:, i:i + p, j:j + p] * weights[o]) + bias[o]
    return out
