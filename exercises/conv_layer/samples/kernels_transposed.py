import numpy as np


def conv_layer(x, weights, bias):
    c_out, c_in, p, _ = weights.shape
    h, w = x.shape[1] - p + 1, x.shape[2] - p + 1
    out = np.zeros((c_out, h, w))
    for o in range(c_out):
        for c in range(c_in):
            k = weights[o, c].T
            for i in range(h):
                for j in range(w):
                    out[o, i, j] += np.sum(x[c, i:i+p, j:j+p] * k)
        out[o] += bias[o]
    return out
