# Sends itself SIGXCPU, the signal of the process's CPU limit, at once: contained, and told as
# a crash by signal 24, not as the limit reached (its CPU time is far from it).
import os
import signal


def conv(image, kernel):
    os.kill(os.getpid(), signal.SIGXCPU)
