import numpy as np


def conv(image, kernel):
    flipped = np.flipud(np.fliplr(kernel))
    output = np.zeros_like(image)
    for y in range(1, image.shape[0] - 1):
        for x in range(1, image.shape[1] - 1):
            output[y, x] = (image[y - 1 : y + 2, x - 1 : x + 2] * flipped).sum()
    return output
