import numpy as np


def conv_single_step(a_slice_prev, W, b):
    s = a_slice_prev * W
    Z = np.sum(s)
    Z = Z + b
    return Z


def conv_layer(x, weights, bias):
    (n_C, n_C_prev, f, f) = weights.shape
    (n_C_prev, n_H_prev, n_W_prev) = x.shape
    b = bias.reshape(n_C, 1, 1, 1)
    n_H = n_H_prev - f + 1
    n_W = n_W_prev - f + 1
    Z = np.zeros((n_C, n_H, n_W))
    for c in range(n_C):
        for h in range(n_H):
            for w in range(n_W):
                a_slice_prev = x[:, h:h + f, w:w + f]
                Z[c, h, w] = conv_single_step(a_slice_prev, weights[c], b[c])
    return Z
