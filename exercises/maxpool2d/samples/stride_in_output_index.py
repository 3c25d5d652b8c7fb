import numpy as np


def pool(image):
    rows, cols = image.shape[0] // 2, image.shape[1] // 2
    pooled = np.zeros((rows, cols))
    for r in range(rows):
        for c in range(cols):
            pooled[r, c] = np.max(image[r:r + 2, c:c + 2])
    return pooled
