import numpy as np


def pool(image):
    h, w = image.shape
    out = np.empty((h - 1, w - 1))
    for i in range(h - 1):
        for j in range(w - 1):
            out[i, j] = image[i : i + 2, j : j + 2].max()
    return out
