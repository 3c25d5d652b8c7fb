# Blocks on another process's CPU clock: clock_nanosleep until the parent (the zygote) or pid 1
# (the grader's server in a container) has used some CPU time, a wait keyed on another process.
# The deadline is already past, so an allowed sleep returns at once, with 0.
import ctypes
import os

libc = ctypes.CDLL(None, use_errno=True)
TIMER_ABSTIME = 1


class Timespec(ctypes.Structure):
    _fields_ = [("sec", ctypes.c_long), ("nsec", ctypes.c_long)]


def process_clock(pid):
    return ((~pid) << 3) | 2  # CPUCLOCK_SCHED


def conv(image, kernel):
    for name, pid in (("the parent", os.getppid()), ("pid 1", 1)):
        for flags, when in ((TIMER_ABSTIME, Timespec(0, 0)), (0, Timespec(0, 1))):
            # returns the error number itself, not -1
            error = libc.clock_nanosleep(ctypes.c_int(process_clock(pid)), flags,
                                         ctypes.byref(when), None)
            if error == 0:
                raise RuntimeError(f"allowed: clock_nanosleep on {name}'s CPU clock")
            refused = OSError(error, os.strerror(error))
    raise refused
