import numpy as np


def conv2d(image, kernel):
    n, p = image.shape[0], kernel.shape[0]
    padded = np.pad(image.astype(int), ((p - 1) // 2, p // 2))
    out = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            out[i, j] = np.sum(padded[i : i + p, j : j + p] * kernel)
    return out
