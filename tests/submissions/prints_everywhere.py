import numpy as np

print("loading")


def conv(image, kernel):
    print("case", image.shape, "first value", image[0, 0])
    h, w = image.shape
    out = np.zeros((h - 2, w - 2))
    for i in range(h - 2):
        for j in range(w - 2):
            out[i, j] = np.sum(image[i : i + 3, j : j + 3] * kernel)
    return out
