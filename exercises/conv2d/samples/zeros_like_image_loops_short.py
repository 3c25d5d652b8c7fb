import numpy as np


def conv(im, kernel):
    # the output made as large as the image, and each loop one window short
    result = np.zeros(im.shape)
    for ii in range(im.shape[0] - 3):
        for jj in range(im.shape[1] - 3):
            result[ii, jj] = (im[ii:ii + 3, jj:jj + 3] * kernel).sum()
    return result
