# A channel between submissions through futexes that are not process-private: on a page of a
# file that every child maps (libc's own text), a futex is keyed by the file and the offset, so
# one child's FUTEX_WAKE wakes another's FUTEX_WAIT. Each shared op must be refused (EPERM);
# any other answer is reported. (The wait's value is not the word's, so an allowed one returns
# at once with EAGAIN.)
import ctypes
import errno
import platform

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
FUTEX = {"x86_64": 202, "aarch64": 98}
ADDRESS = ctypes.cast(libc.getpid, ctypes.c_void_p).value & ~3
WORD = ctypes.c_uint32.from_address(ADDRESS).value
OPS = {"WAIT": (0, WORD ^ 1, 0), "WAKE": (1, 1, 0), "WAIT_BITSET": (9, WORD ^ 1, 0xFFFFFFFF),
       "WAKE_BITSET": (10, 1, 0xFFFFFFFF), "REQUEUE": (3, 1, 0), "WAKE_OP": (5, 1, 0)}


def conv(image, kernel):
    if platform.machine() not in FUTEX:
        raise PermissionError("syscall numbers for x86_64 and aarch64 only")
    for name, (op, value, val3) in OPS.items():
        ctypes.set_errno(0)
        result = libc.syscall(ctypes.c_long(FUTEX[platform.machine()]), ctypes.c_void_p(ADDRESS),
                              ctypes.c_long(op), ctypes.c_long(value), None,
                              ctypes.c_void_p(ADDRESS), ctypes.c_long(val3))
        answer = ctypes.get_errno() if result == -1 else 0
        if answer != errno.EPERM:
            raise RuntimeError(f"allowed: shared {name} on libc's text: "
                               f"{errno.errorcode.get(answer, answer)}")
    raise PermissionError(errno.EPERM, "every shared futex op was refused")
