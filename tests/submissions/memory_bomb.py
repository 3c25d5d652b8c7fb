import numpy as np


def conv(image, kernel):
    big = np.ones((1 << 30,))  # 8 GiB
    return big
