import ctypes


def conv(image, kernel):
    # Reads a kernel address, which always faults in user mode.
    return ctypes.cast(0xFFFFFFFFFFFFF000, ctypes.POINTER(ctypes.c_double))[0]
