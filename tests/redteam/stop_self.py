# Stops itself with SIGSTOP while it loads, before any case: nothing of it runs, and it answers
# nothing, until it is killed.
import os
import signal

os.kill(os.getpid(), signal.SIGSTOP)


def conv(image, kernel):
    return image
