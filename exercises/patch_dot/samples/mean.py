import numpy as np


def patch_dot(patch, kernel):
    return np.mean(patch * kernel)
