# Opens a hardware counter (perf_event_open, for side channels) and a userfaultfd (to stall the
# kernel in the middle of a copy), with raw syscalls.
import ctypes
import platform
import struct

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
PERF_EVENT_OPEN, USERFAULTFD = 298, 323  # x86_64
ATTR = ctypes.create_string_buffer(struct.pack("<IIQ", 0, 128, 0) + bytes(112), 128)  # cycles


def syscall(number, *args):
    if libc.syscall(number, *args) == -1:
        raise OSError(ctypes.get_errno(), f"syscall {number}")


ATTEMPTS = {
    "a CPU cycle counter, on any CPU": lambda: syscall(PERF_EVENT_OPEN, ATTR, 0, -1, -1, 0),
    "a userfaultfd": lambda: syscall(USERFAULTFD, 0),
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
