# Reads the machine's System V shared memory (shmctl SHM_STAT_ANY, IPC_INFO) and makes a
# segment, a message queue and a semaphore set, which would outlive the child.
import ctypes
import platform

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
SHMGET, SHMCTL, SEMGET, MSGGET = 29, 31, 64, 68  # x86_64
IPC_PRIVATE, IPC_CREAT, IPC_INFO, SHM_STAT_ANY = 0, 0o1000, 3, 15
BUF = ctypes.create_string_buffer(1024)


def syscall(number, *args):
    if libc.syscall(number, *args) == -1:
        raise OSError(ctypes.get_errno(), f"syscall {number}")


ATTEMPTS = {
    "segment 0, whoever owns it": lambda: syscall(SHMCTL, 0, SHM_STAT_ANY, BUF),
    "the machine's limits": lambda: syscall(SHMCTL, 0, IPC_INFO, BUF),
    "a new segment": lambda: syscall(SHMGET, IPC_PRIVATE, 1 << 20, IPC_CREAT | 0o600),
    "a message queue": lambda: syscall(MSGGET, IPC_PRIVATE, IPC_CREAT | 0o600),
    "a semaphore set": lambda: syscall(SEMGET, IPC_PRIVATE, 1, IPC_CREAT | 0o600),
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
