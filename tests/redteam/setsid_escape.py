import os


def conv(image, kernel):
    os.setsid()
