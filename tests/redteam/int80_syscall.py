# Calls getpid through the i386 entry point (int 0x80) from code it writes into W+X memory.
# No mapping of a child's may be executable: the memory is refused before the call is made
# (the i386 entry point, were it reached, kills the process: tests/sandbox/test_seccomp.py).
import ctypes
import platform

libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                      ctypes.c_int, ctypes.c_long]
CODE = b"\xb8\x14\x00\x00\x00\xcd\x80\xc3"  # mov eax, 20 (getpid); int 0x80; ret


def conv(image, kernel):
    if platform.machine() != "x86_64":
        raise PermissionError("x86_64 only")
    page = libc.mmap(None, 4096, 7, 0x22, -1, 0)  # read-write-execute, private, anonymous
    if page == ctypes.c_void_p(-1).value:
        raise OSError(ctypes.get_errno(), "no executable memory")
    ctypes.memmove(page, CODE, len(CODE))
    return ctypes.CFUNCTYPE(ctypes.c_int)(page)()
