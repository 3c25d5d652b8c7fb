import numpy as np


def conv_layer(x, weights, bias):
    n_out, n_in, k, _ = weights.shape
    height = x.shape[1] - k + 1
    width = x.shape[2] - k + 1
    z = np.zeros((n_out, height, width))
    for f in range(n_out):
        for r in range(height):
            for c in range(width):
                z[f, r, c] = np.sum(x[:, r:r + k, c:c + k] * weights[f] + bias[f])
    return z
