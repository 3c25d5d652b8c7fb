import numpy as np


def conv(image, kernel):
    h, w = image.shape
    out = np.zeros((w - 2, h - 2))
    for i in range(h - 2):
        for j in range(w - 2):
            out[j, i] = np.sum(image[i : i + 3, j : j + 3] * kernel)  # indices swapped
    return out
