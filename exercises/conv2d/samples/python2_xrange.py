import numpy as np


def conv(image, kernel):
    h, w = image.shape
    out = np.zeros((h - 2, w - 2))
    for i in xrange(h - 2):  # noqa: F821 (Python 2)
        for j in xrange(w - 2):  # noqa: F821
            out[i, j] = np.sum(image[i:i+3, j:j+3] * kernel)
    return out
