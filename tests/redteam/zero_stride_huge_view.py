# A view of one float as a trillion elements (zero strides): no memory, but converting or
# sending it would need terabytes. The harness counts elements before it copies anything.
import numpy as np
from numpy.lib.stride_tricks import as_strided


def conv(image, kernel):
    return as_strided(np.zeros(1), shape=(10**6, 10**6), strides=(0, 0))
