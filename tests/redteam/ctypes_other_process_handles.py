# Reaches the parent without a path: a pidfd of it, one of its fds (fd 4 and up: its control
# socket), a read of its memory, a comparison of its fds, a signal through a pidfd.
import ctypes
import os
import platform

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
PIDFD_OPEN, PIDFD_GETFD, PIDFD_SEND_SIGNAL = 434, 438, 424  # x86_64
PROCESS_VM_READV, KCMP = 310, 312
BUF = ctypes.create_string_buffer(64)


class IoVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


def syscall(number, *args):
    result = libc.syscall(number, *args)
    if result == -1:
        raise OSError(ctypes.get_errno(), f"syscall {number}")
    return result


def read_parent_memory():
    local = IoVec(ctypes.cast(BUF, ctypes.c_void_p), 64)
    remote = IoVec(id(BUF), 64)  # the zygote has its heap at the same addresses
    syscall(PROCESS_VM_READV, os.getppid(), ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)


ATTEMPTS = {
    "pidfd of the parent": lambda: syscall(PIDFD_OPEN, os.getppid(), 0),
    "fd 4 of the parent, through a pidfd": lambda: syscall(PIDFD_GETFD, 3, 4, 0),
    "signal through a pidfd": lambda: syscall(PIDFD_SEND_SIGNAL, 3, 9, None, 0),
    "read the parent's memory": read_parent_memory,
    "compare fds with the parent's": lambda: syscall(KCMP, os.getpid(), os.getppid(), 0, 3, 4),
}


def conv(image, kernel):
    if platform.machine() != "x86_64":
        raise PermissionError("syscall numbers for x86_64 only")
    for name, attempt in ATTEMPTS.items():
        try:
            attempt()
        except PermissionError as error:
            refused = error
        else:
            raise RuntimeError(f"allowed: {name}")
    raise refused
