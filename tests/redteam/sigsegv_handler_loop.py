# Handles SIGSEGV by raising it again, forever.
import os
import signal


def again(signum, frame):
    os.kill(os.getpid(), signal.SIGSEGV)


def conv(image, kernel):
    signal.signal(signal.SIGSEGV, again)
    os.kill(os.getpid(), signal.SIGSEGV)
    while True:
        pass
