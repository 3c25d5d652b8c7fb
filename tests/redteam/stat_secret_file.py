# Reads metadata of the secret file and of links in /proc, without opening them: os.stat and
# os.readlink, then raw stat, lstat, newfstatat, statx, access, faccessat2, readlink(at).
import ctypes
import os
import platform

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
SECRET = "__SECRET_FILE__"
PATH, EXE, AT_FDCWD = SECRET.encode(), b"/proc/self/exe", -100
BUF = ctypes.create_string_buffer(4096)


def syscall(number, *args):
    if libc.syscall(number, *args) == -1:
        raise OSError(ctypes.get_errno(), f"syscall {number}")


ATTEMPTS = {  # x86_64 numbers
    "os.stat": lambda: os.stat(SECRET),
    "os.readlink": lambda: os.readlink("/proc/self/cwd"),
    "stat": lambda: syscall(4, PATH, BUF),
    "lstat": lambda: syscall(6, PATH, BUF),
    "newfstatat": lambda: syscall(262, AT_FDCWD, PATH, BUF, 0),
    "statx": lambda: syscall(332, AT_FDCWD, PATH, 0, 0xFFF, BUF),
    "access": lambda: syscall(21, PATH, os.R_OK),
    "faccessat2": lambda: syscall(439, AT_FDCWD, PATH, os.R_OK, 0),
    "readlink": lambda: syscall(89, EXE, BUF, 4096),
    "readlinkat": lambda: syscall(267, AT_FDCWD, EXE, BUF, 4096),
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
