# Holds 300 MiB in a memfd, which RLIMIT_AS does not count: written to it, or mapped.
import ctypes
import os
import platform

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                      ctypes.c_int, ctypes.c_long]
MEMFD_CREATE, SIZE = 319, 300 << 20  # x86_64


def write_300_mib():
    fd = os.memfd_create("grader-pwned")
    chunk = b"x" * (1 << 20)
    for _ in range(300):
        os.write(fd, chunk)


def map_300_mib():
    fd = libc.syscall(MEMFD_CREATE, b"grader-pwned", 0)
    if fd < 0:
        raise OSError(ctypes.get_errno(), "memfd_create")
    os.ftruncate(fd, SIZE)
    address = libc.mmap(None, SIZE, 3, 1, fd, 0)  # PROT_READ | PROT_WRITE, MAP_SHARED
    ctypes.memset(address, 1, SIZE)


ATTEMPTS = {"write 300 MiB to a memfd": write_300_mib, "map 300 MiB of a memfd": map_300_mib}


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
