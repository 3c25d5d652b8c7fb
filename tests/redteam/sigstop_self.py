# Stops itself with SIGSTOP, so that nothing of it runs until it is killed.
import os
import signal


def conv(image, kernel):
    os.kill(os.getpid(), signal.SIGSTOP)
    return image
