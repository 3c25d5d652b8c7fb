# Tries to resize its pipes (F_SETPIPE_SZ: to a byte, to 1 MiB), to ask how much waits in them
# (FIONREAD) and to take them over (F_SETOWN, F_SETSIG, F_SETLEASE): none of these is allowed.
import ctypes
import os

F_SETOWN, F_SETSIG, F_SETLEASE, F_SETPIPE_SZ, FIONREAD = 8, 10, 1024, 1031, 0x541B
libc = ctypes.CDLL(None, use_errno=True)


def conv(image, kernel):
    worked = []
    for fd in (0, 1, 2, 3):
        for command, argument in ((F_SETPIPE_SZ, 1 << 20), (F_SETPIPE_SZ, 1),
                                  (F_SETOWN, 1), (F_SETSIG, 9), (F_SETLEASE, 1)):
            if libc.fcntl(fd, command, argument) >= 0:
                worked.append((fd, command))
        count = ctypes.c_int()
        if libc.ioctl(fd, FIONREAD, ctypes.byref(count)) >= 0:
            worked.append((fd, "FIONREAD"))
    if worked:
        raise RuntimeError(f"allowed: {worked}")
    raise PermissionError(os.strerror(ctypes.get_errno()))
