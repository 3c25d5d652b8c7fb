# A window three values wide whatever the kernel, as in a tutorial written for one kernel size,
# and the kernel read backwards (a true convolution): the cases with a kernel of 3 run and give
# flipped values; every other kernel raises where np.dot meets arrays of two lengths.
import numpy as np


def conv1d(signal, kernel):
    width = 1  # values on each side of the centre
    out = np.zeros(len(signal) - len(kernel) + 1)
    for i in range(len(out)):
        centre = i + width
        out[i] = np.dot(kernel[::-1], signal[centre - width:centre + width + 1])
    return out
