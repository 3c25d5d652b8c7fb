# Lists the machine's mounts and reads one's details with listmount and statmount: no path.
import ctypes
import platform
import struct

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
STATMOUNT, LISTMOUNT = 457, 458  # x86_64
LSMT_ROOT, STATMOUNT_ALL = (1 << 64) - 1, 0xFFFF
IDS = (ctypes.c_uint64 * 256)()
BUF = ctypes.create_string_buffer(1 << 16)


def request(mount_id, param=0):
    return ctypes.create_string_buffer(struct.pack("<IIQQ", 24, 0, mount_id, param), 24)


def syscall(number, *args):
    if libc.syscall(number, *args) == -1:
        raise OSError(ctypes.get_errno(), f"syscall {number}")


ATTEMPTS = {
    "listmount": lambda: syscall(LISTMOUNT, request(LSMT_ROOT), IDS, ctypes.c_size_t(256), 0),
    "statmount": lambda: syscall(STATMOUNT, request(IDS[0] or 1 << 31, STATMOUNT_ALL), BUF,
                                 ctypes.c_size_t(len(BUF)), 0),
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
