import numpy as np


def conv2d(image, kernel, stride, padding):
    p = kernel.shape[0]
    size = (image.shape[0] - p) // stride + 1
    out = np.zeros((size, size))
    for i in range(size):
        for j in range(size):
            r, c = i * stride, j * stride
            out[i, j] = np.sum(image[r : r + p, c : c + p] * kernel)
    return out
