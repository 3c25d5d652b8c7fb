import numpy as np


def conv2d(image, kernel):
    p = kernel.shape[0]
    size = image.shape[0] - p + 1
    out = np.zeros((size, size))
    for i in range(size):
        for j in range(size):
            for a in range(p):
                for b in range(p):
                    out[i, j] += image[i - a, j - b] * kernel[a, b]  # as in the textbook
    return out
