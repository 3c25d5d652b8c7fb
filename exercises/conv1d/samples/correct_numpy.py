import numpy as np


def conv1d(signal, kernel):
    return np.correlate(signal, kernel, mode="valid")
