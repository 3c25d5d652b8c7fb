# Floods stdout with bytes that are not UTF-8 (b"\xff"), with no newline, never stopping.
import os


def conv(image, kernel):
    junk = b"\xff" * 65536
    while True:
        os.write(1, junk)
