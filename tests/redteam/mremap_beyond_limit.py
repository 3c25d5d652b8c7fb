# Grows a one-page mapping to 1 GiB with mremap, past its address space limit.
import ctypes
import os

libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = libc.mremap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                      ctypes.c_int, ctypes.c_long]
libc.mremap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t, ctypes.c_int]
FAILED = ctypes.c_void_p(-1).value


def conv(image, kernel):
    page = libc.mmap(None, 4096, 3, 0x22, -1, 0)  # read-write, private, anonymous
    grown = libc.mremap(page, 4096, 1 << 30, 1)  # MREMAP_MAYMOVE
    if grown in (None, FAILED):
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    ctypes.memset(grown, 1, 1 << 30)
