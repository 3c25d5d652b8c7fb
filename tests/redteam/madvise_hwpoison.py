# Marks a page as hardware-poisoned, or soft-offlines it (pages can be shared with the zygote
# and every other child); on a page of its own, so that a failure of the test harms nobody.
import ctypes

libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                      ctypes.c_int, ctypes.c_long]
libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
MADV_DONTNEED, MADV_HWPOISON, MADV_SOFT_OFFLINE = 4, 100, 101


def conv(image, kernel):
    page = libc.mmap(None, 4096, 3, 0x22, -1, 0)  # read-write, private, anonymous
    ctypes.memset(page, 1, 4096)
    if libc.madvise(page, 4096, MADV_DONTNEED) != 0:  # harmless, and allowed
        raise OSError(ctypes.get_errno(), "MADV_DONTNEED")
    for advice in (MADV_HWPOISON, MADV_SOFT_OFFLINE):
        if libc.madvise(page, 4096, advice) == 0:
            raise RuntimeError(f"madvise({advice}) was allowed")
    # EPERM without CAP_SYS_ADMIN, EINVAL where the kernel has no memory-failure support
    raise OSError(ctypes.get_errno(), "madvise refused both")
