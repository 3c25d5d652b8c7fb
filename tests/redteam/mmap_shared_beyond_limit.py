# Maps 300 MiB of shared anonymous memory (shmem, MAP_NORESERVE), past its 64 MiB limit, and
# touches all of it.
import ctypes
import os

libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                      ctypes.c_int, ctypes.c_long]
PROT_READ_WRITE, MAP_SHARED_ANONYMOUS_NORESERVE = 3, 0x01 | 0x20 | 0x4000
SIZE = 300 << 20


def conv(image, kernel):
    address = libc.mmap(None, SIZE, PROT_READ_WRITE, MAP_SHARED_ANONYMOUS_NORESERVE, -1, 0)
    if address is None or address == ctypes.c_void_p(-1).value:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    ctypes.memset(address, 1, SIZE)
