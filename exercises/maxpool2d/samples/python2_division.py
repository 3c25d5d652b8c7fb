import numpy as np


def pool(image):
    h, w = image.shape
    out = np.zeros((h / 2, w / 2))
    for i in range(0, h - 1, 2):
        for j in range(0, w - 1, 2):
            out[i / 2, j / 2] = max(image[i, j], image[i + 1, j], image[i, j + 1],
                                    image[i + 1, j + 1])
    return out
