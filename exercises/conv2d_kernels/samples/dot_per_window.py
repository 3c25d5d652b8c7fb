import numpy as np


def conv2d(image, kernel):
    n, p = image.shape[0], kernel.shape[0]
    out = np.zeros((n - p + 1, n - p + 1), dtype=int)
    for i in range(n - p + 1):
        for j in range(n - p + 1):
            out[i, j] = np.sum(image[i : i + p, j : j + p].astype(int) @ kernel)
    return out
