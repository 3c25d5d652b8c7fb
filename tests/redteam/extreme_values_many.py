# An output of the wrong shape, too large to draw value by value, holding only the largest
# finite float: the report page draws it in blocks, each the mean of its values, and a mean of
# such values overflows unless it is taken with care.
import numpy as np


def conv(image, kernel):
    return np.full((100, 100), np.finfo(np.float64).max)
