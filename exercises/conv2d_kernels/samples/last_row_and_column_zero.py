import numpy as np


def conv2d(image, kernel):
    size = image.shape[0] - kernel.shape[0] + 1
    feature_map = np.zeros((size, size), dtype=np.int64)
    p = kernel.shape[0]
    for i in range(0, size - 1):
        for j in range(0, size - 1):
            feature_map[i, j] = int(np.sum(image[i:i + p, j:j + p].astype(int) * kernel))
    return feature_map
