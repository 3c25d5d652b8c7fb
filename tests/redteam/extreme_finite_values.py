# The right shape, filled with the largest finite floats of both signs, the smallest subnormal
# and negative zero: every difference, range and scale the grader works out from it overflows,
# and the heatmaps of the report page must still be drawn.
import numpy as np

BIG = np.finfo(np.float64).max


def conv(image, kernel):
    out = np.full((image.shape[0] - 2, image.shape[1] - 2), BIG)
    out[::2] = -BIG
    out[:, ::3] = 5e-324
    out[1, 1] = -0.0
    return out
