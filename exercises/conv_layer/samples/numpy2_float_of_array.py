import numpy as np


def conv_layer(x, weights, bias):
    b = bias[:, np.newaxis, np.newaxis, np.newaxis]
    n_c, _, f, _ = weights.shape
    out_h, out_w = x.shape[1] - f + 1, x.shape[2] - f + 1
    out = np.zeros((n_c, out_h, out_w))
    for c in range(n_c):
        for h in range(out_h):
            for w in range(out_w):
                value = np.sum(x[:, h:h + f, w:w + f] * weights[c])
                out[c, h, w] = value + float(b[c])
    return out
