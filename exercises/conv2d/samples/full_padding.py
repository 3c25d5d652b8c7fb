import numpy as np


def conv(image, kernel):
    padded = np.pad(image, 2)
    out = np.zeros((image.shape[0] + 2, image.shape[1] + 2))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(padded[i : i + 3, j : j + 3] * kernel)
    return out
