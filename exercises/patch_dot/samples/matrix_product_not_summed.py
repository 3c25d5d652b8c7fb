import numpy as np


def patch_dot(patch, kernel):
    # the "dot product" of the patch and the kernel
    return np.dot(patch, kernel)
