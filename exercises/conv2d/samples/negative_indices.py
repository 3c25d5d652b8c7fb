import numpy as np


def conv(img, k):
    rows, cols = img.shape[0] - 2, img.shape[1] - 2
    result = np.zeros((rows, cols))
    for r in range(rows):
        for c in range(cols):
            total = 0.0
            for dr in range(3):
                for dc in range(3):
                    total += img[r - dr, c - dc] * k[dr, dc]   # the textbook formula
            result[r, c] = total
    return result
