def conv(image, kernel):
    return conv(image, kernel)
