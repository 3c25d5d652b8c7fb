import ctypes

libc = ctypes.CDLL(None, use_errno=True)


def conv(image, kernel):
    params = ctypes.create_string_buffer(120)
    fd = libc.syscall(425, 8, params)  # io_uring_setup
    if fd < 0:
        raise OSError(ctypes.get_errno(), "io_uring_setup")
    return fd
