import numpy as np


def patch_dot(patch, kernel):
    return np.sum(patch * kernel)
