
def pool(image):
    out = image.copy()  # the input's size: each window's max is written over the window
    for i in range(0, image.shape[0] - 1, 2):
        for j in range(0, image.shape[1] - 1, 2):
            out[i : i + 2, j : j + 2] = image[i : i + 2, j : j + 2].max()
    return out
