import numpy as np


def conv(image, kernel):
    kh, kw = kernel.shape
    oh, ow = image.shape[0] - kh + 1, image.shape[1] - kw + 1
    out = np.zeros((oh, ow))
    for i in range(oh - 1):
        for j in range(ow - 1):
            out[i][j] = np.sum(image[i:i + kh, j:j + kw] * kernel)
    return out
