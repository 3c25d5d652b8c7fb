# Right answers, each after a sleep: it computes next to nothing, yet would hold a place of the
# fast lane for most of its time limit if only CPU time were charged.
import time

import numpy as np


def conv(image, kernel):
    time.sleep(0.2)
    kh, kw = kernel.shape
    h, w = image.shape[0] - kh + 1, image.shape[1] - kw + 1
    out = np.zeros((h, w))
    for a in range(kh):
        for b in range(kw):
            out += kernel[a, b] * image[a : a + h, b : b + w]
    return out
