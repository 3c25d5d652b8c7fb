import numpy as np


def conv1d(signal, kernel):
    return np.convolve(signal, kernel, mode="valid")  # np.convolve reverses the kernel
