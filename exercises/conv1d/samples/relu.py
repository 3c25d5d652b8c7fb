import numpy as np


def conv1d(signal, kernel):
    p = len(kernel)
    out = np.array([np.dot(signal[i:i+p], kernel) for i in range(len(signal) - p + 1)])
    return np.maximum(out, 0)
