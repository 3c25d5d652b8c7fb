import numpy as np


def patch_dot(patch, kernel):
    return np.dot(patch, kernel).sum()  # a matrix product, not element by element
