def conv(image, kernel):
    out = image[1:-1, 1:-1] * 0
    out.sum()
