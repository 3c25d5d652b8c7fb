import numpy as np


def conv2d(image, kernel, stride, padding):
    k = kernel.shape[0]
    h, w = image.shape
    padded = np.pad(image, ((padding, padding), (padding, padding)))
    out_h = (h + 2 * padding - k) // stride + 1
    out_w = (w + 2 * padding - k) // stride + 1
    out = np.zeros((out_h, out_w))
    for i in range((h - k) // stride + 1):
        for j in range((w - k) // stride + 1):
            patch = padded[i * stride:i * stride + k, j * stride:j * stride + k]
            out[i, j] = np.sum(patch * kernel)
    return out
