def largest(window):
    best = -1.0  # (also wrong: every value may be below -1)
    for row in window:
        for value in row:
            if value > best:
                best = value
    return value  # the loop's variable: the last value seen, not the largest


def pool(image):
    h, w = image.shape[0] // 2, image.shape[1] // 2
    return [[largest(image[2 * i : 2 * i + 2, 2 * j : 2 * j + 2]) for j in range(w)]
            for i in range(h)]
