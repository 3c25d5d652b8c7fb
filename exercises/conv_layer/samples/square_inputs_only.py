import numpy as np


def conv_layer(x, weights, bias):
    c_out, c_in, p, _ = weights.shape
    n = x.shape[1] - p + 1          # the image is n x n
    out = np.zeros((c_out, n, n))
    for o in range(c_out):
        for i in range(n):
            for j in range(n):
                out[o, i, j] = np.sum(x[:, i:i + p, j:j + p] * weights[o]) + bias[o]
    return out
