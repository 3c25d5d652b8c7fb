# Uses priority-inheritance futexes as an oracle of which pids exist: with a pid in the futex
# word, FUTEX_TRYLOCK_PI answers EAGAIN when that process lives and ESRCH when none does, and
# FUTEX_LOCK_PI waits on it. Every PI op, private or not, must be refused (EPERM) for every
# owner, so that the answers tell nothing; any other answer is reported.
import ctypes
import errno
import os
import platform

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
FUTEX = {"x86_64": 202, "aarch64": 98}
PI_OPS = {"LOCK_PI": 6, "UNLOCK_PI": 7, "TRYLOCK_PI": 8, "WAIT_REQUEUE_PI": 11,
          "CMP_REQUEUE_PI": 12, "LOCK_PI2": 13}
PRIVATE = 128
OWNERS = {"the parent": os.getppid(), "pid 1": 1, "no process": 0x3FFFFFFF}


class Timespec(ctypes.Structure):
    _fields_ = [("sec", ctypes.c_long), ("nsec", ctypes.c_long)]


def futex(op, owner):
    word, other = ctypes.c_uint32(owner), ctypes.c_uint32(0)
    expired = Timespec(0, 0)  # an allowed LOCK_PI gives up at once
    ctypes.set_errno(0)
    result = libc.syscall(ctypes.c_long(FUTEX[platform.machine()]), ctypes.byref(word),
                          ctypes.c_long(op), ctypes.c_long(0), ctypes.byref(expired),
                          ctypes.byref(other), ctypes.c_long(0))
    return ctypes.get_errno() if result == -1 else 0


def conv(image, kernel):
    if platform.machine() not in FUTEX:
        raise PermissionError("syscall numbers for x86_64 and aarch64 only")
    for op_name, op in PI_OPS.items():
        for flags in (0, PRIVATE):
            for owner_name, owner in OWNERS.items():
                answer = futex(op | flags, owner)
                if answer != errno.EPERM:
                    raise RuntimeError(f"allowed: {op_name} on {owner_name}: "
                                       f"{errno.errorcode.get(answer, answer)}")
    raise PermissionError(errno.EPERM, "every PI futex op was refused")
