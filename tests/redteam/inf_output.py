import numpy as np


def conv(image, kernel):
    return np.full((image.shape[0] - 2, image.shape[1] - 2), np.inf)
