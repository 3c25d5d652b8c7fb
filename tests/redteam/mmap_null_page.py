# Maps the page at address zero (MAP_FIXED, and MAP_FIXED_NOREPLACE), readable, writable and
# executable: with a null page of its own, a kernel bug that follows a null pointer would run
# the child's data. Below the kernel's mmap_min_addr the map is refused (EPERM) for a process
# without CAP_SYS_RAWIO.
import ctypes

libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                      ctypes.c_int, ctypes.c_long]
PROT_RWX = 7  # read, write, exec
MAP_PRIVATE, MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE = 0x02, 0x20, 0x10, 0x100000
FAILED = ctypes.c_void_p(-1).value


def conv(image, kernel):
    for fixed in (MAP_FIXED, MAP_FIXED_NOREPLACE):
        got = libc.mmap(0, 4096, PROT_RWX, MAP_PRIVATE | MAP_ANONYMOUS | fixed, -1, 0)
        if got != FAILED:
            raise RuntimeError(f"mapped a page at {got:#x}")
        if ctypes.get_errno() != 1:  # EPERM
            raise RuntimeError(f"refused with errno {ctypes.get_errno()}")
    raise PermissionError("the null page: refused")
