import numpy as np


def conv1d(signal, kernel):
    n, p = len(signal), len(kernel)
    out = np.zeros(n - p)
    for i in range(n - p):
        out[i] = np.dot(signal[i : i + p], kernel)
    return out
