# Creates /dev/shm/grader-pwned through raw open, openat, openat2 and creat.
import ctypes
import platform
import struct

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
PATH, AT_FDCWD, WRITE_CREATE = b"/dev/shm/grader-pwned", -100, 0o101  # O_WRONLY | O_CREAT
HOW = struct.pack("<QQQ", WRITE_CREATE, 0o666, 0)  # struct open_how


def syscall(number, *args):
    if libc.syscall(number, *args) == -1:
        raise OSError(ctypes.get_errno(), f"syscall {number}")


ATTEMPTS = {  # x86_64 numbers
    "open": lambda: syscall(2, PATH, WRITE_CREATE, 0o666),
    "openat": lambda: syscall(257, AT_FDCWD, PATH, WRITE_CREATE, 0o666),
    "openat2": lambda: syscall(437, AT_FDCWD, PATH, HOW, len(HOW)),
    "creat": lambda: syscall(85, PATH, 0o666),
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
