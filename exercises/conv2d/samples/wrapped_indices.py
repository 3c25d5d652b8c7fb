import numpy as np


def conv(image, kernel):
    h, w = image.shape
    out = np.zeros((h - 2, w - 2))
    for i in range(h - 2):
        for j in range(w - 2):
            for a in range(3):
                for b in range(3):
                    out[i, j] += image[i - 1 + a, j - 1 + b] * kernel[a, b]  # -1 wraps
    return out
