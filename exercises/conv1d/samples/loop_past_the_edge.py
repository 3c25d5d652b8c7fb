"""The loop runs over every index of the signal, not only where the kernel fits: near the end
the slice is cut short, and multiplying it by the kernel fails."""
import numpy as np


def conv1d(signal, kernel):
    out = []
    for i in range(len(signal)):
        out.append(np.sum(signal[i:i + len(kernel)] * kernel))
    return np.array(out)
