import os


def conv(image, kernel):
    return os.listdir("/proc")
