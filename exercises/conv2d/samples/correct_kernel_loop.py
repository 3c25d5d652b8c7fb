import numpy as np


def conv(image, kernel):
    h, w = image.shape
    kh, kw = kernel.shape
    out = np.zeros((h - kh + 1, w - kw + 1))
    for a in range(kh):
        for b in range(kw):
            out += kernel[a, b] * image[a:a + h - kh + 1, b:b + w - kw + 1]
    return out
