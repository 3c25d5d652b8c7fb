import numpy as np

WEIGHTS = np.load("weights.npy")


def conv(image, kernel):
    return image
