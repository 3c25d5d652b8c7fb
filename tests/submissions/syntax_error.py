import numpy as np


def conv(image kernel):
    return image
