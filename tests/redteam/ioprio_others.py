# Sets the idle I/O class for every process of its uid, its process group and the parent, and
# reads pid 1's, with raw ioprio_set / ioprio_get.
import ctypes
import os
import platform

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
IOPRIO_SET, IOPRIO_GET = 251, 252  # x86_64
WHO_PROCESS, WHO_PGRP, WHO_USER = 1, 2, 3
IDLE = 3 << 13


def syscall(number, *args):
    if libc.syscall(number, *args) == -1:
        raise OSError(ctypes.get_errno(), f"syscall {number}")


ATTEMPTS = {
    "idle I/O for its uid": lambda: syscall(IOPRIO_SET, WHO_USER, 0, IDLE),
    "idle I/O for its process group": lambda: syscall(IOPRIO_SET, WHO_PGRP, 0, IDLE),
    "idle I/O for process group 1": lambda: syscall(IOPRIO_SET, WHO_PGRP, 1, IDLE),
    "idle I/O for the parent": lambda: syscall(IOPRIO_SET, WHO_PROCESS, os.getppid(), IDLE),
    "read pid 1's I/O priority": lambda: syscall(IOPRIO_GET, WHO_PROCESS, 1),
    "read its uid's I/O priority": lambda: syscall(IOPRIO_GET, WHO_USER, 0),
}


def conv(image, kernel):
    if platform.machine() != "x86_64":
        raise PermissionError("syscall numbers for x86_64 only")
    for name, attempt in ATTEMPTS.items():
        try:
            attempt()
        except PermissionError as error:
            refused = error
        else:
            raise RuntimeError(f"allowed: {name}")
    raise refused
