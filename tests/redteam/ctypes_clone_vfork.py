# Starts a process that the grader does not know of, through raw clone, fork and vfork.
import ctypes
import platform
import signal

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
CLONE, FORK, VFORK = 56, 57, 58  # x86_64


def syscall(number, *args):
    if libc.syscall(number, *args) == -1:
        raise OSError(ctypes.get_errno(), f"syscall {number}")


ATTEMPTS = {
    "clone": lambda: syscall(CLONE, int(signal.SIGCHLD), None, None, None, None),
    "fork": lambda: syscall(FORK),
    "vfork": lambda: syscall(VFORK),
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
