# Handles SIGSEGV in Python, then reads address 0: the fault returns to the faulting
# instruction again and again, and the Python handler never gets to run.
import ctypes
import signal


def conv(image, kernel):
    signal.signal(signal.SIGSEGV, lambda signum, frame: None)
    return ctypes.string_at(8, 8)
