import numpy as np


def conv_layer(x, weights, bias):
    c_out, c_in, p, _ = weights.shape
    out = np.zeros((c_out, x.shape[1] - p + 1, x.shape[2] - p + 1))
    for i in range(out.shape[1]):
        for j in range(out.shape[2]):
            for a in range(p):
                for b in range(p):
                    for o in range(c_out):
                        for c in range(c_in):
                            out[o, i, j] += x[c, i + a, j + b] * weights[o, c, a, b]
                        out[o, i, j] += bias[o]  # once per kernel position
    return out
