def conv(image, kernel):
    raise KeyboardInterrupt
