import numpy as np


def conv2d(image, kernel, stride, padding):
    k = len(kernel)
    img = np.pad(image, padding, mode="constant")
    size = (image.shape[0] - k + 2 * padding + 1) // stride
    result = np.empty((size, size))
    for row in range(size):
        for col in range(size):
            top, left = row * stride, col * stride
            result[row, col] = (img[top:top + k, left:left + k] * kernel).sum()
    return result
