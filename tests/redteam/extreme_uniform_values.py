# The right shape, every value the largest finite float: no range at all for a heatmap's
# scale, and an error that overflows against every expected value.
import numpy as np


def conv(image, kernel):
    return np.full((image.shape[0] - 2, image.shape[1] - 2), np.finfo(np.float64).max)
