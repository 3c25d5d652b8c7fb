# Calls getpid through the x32 ABI (syscall number | 0x40000000), which the filter answers by
# killing the process.
import ctypes
import platform

libc = ctypes.CDLL(None, use_errno=True)


def conv(image, kernel):
    if platform.machine() != "x86_64":
        raise PermissionError("x86_64 only")
    libc.syscall(0x40000000 | 39)
    return image
