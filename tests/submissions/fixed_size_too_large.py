"""An output of a size written in the code, far larger than any case's: each case's output is
refused as too large, and its shape alone tells the mistake."""
import numpy as np


def conv(image, kernel):
    out = np.zeros((1024, 1024), dtype=np.uint8)
    for i in range(image.shape[0] - 2):
        for j in range(image.shape[1] - 2):
            out[i, j] = np.sum(image[i:i + 3, j:j + 3] * kernel)
    return out
