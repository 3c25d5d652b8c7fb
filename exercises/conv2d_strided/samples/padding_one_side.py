import numpy as np


def conv2d(image, kernel, stride, padding):
    n, p = image.shape[0], kernel.shape[0]
    padded = np.zeros((n + padding, n + padding))
    padded[padding:, padding:] = image  # zeros before, none after
    size = (n + padding - p) // stride + 1
    out = np.zeros((size, size))
    for i in range(size):
        for j in range(size):
            r, c = i * stride, j * stride
            out[i, j] = np.sum(padded[r : r + p, c : c + p] * kernel)
    return out
