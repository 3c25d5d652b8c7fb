# Floods stdout with short lines of bytes that are not UTF-8 (b"\xff"), never stopping.
import os


def conv(image, kernel):
    junk = (b"\xff" * 31 + b"\n") * 2048
    while True:
        os.write(1, junk)
