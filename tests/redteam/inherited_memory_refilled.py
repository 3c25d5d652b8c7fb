# Turns memory inherited from the zygote into memory of its own without mapping any: its
# libraries' read-only pages made writable again (mprotect), a range filled in one call
# (madvise MADV_POPULATE_WRITE), a new mapping made executable. The address-space limit counts
# mappings, not what is written to them: each would be memory past the limit, or code of its
# own. Every one is refused (EPERM); the hints and frees numpy and glibc use still work.
import ctypes

libc = ctypes.CDLL(None, use_errno=True)
for name in ("mprotect", "madvise"):
    getattr(libc, name).argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                      ctypes.c_int, ctypes.c_long]
PAGE = 4096
PROT_READ, PROT_WRITE, PROT_EXEC = 1, 2, 4
MADV_DONTNEED, MADV_HUGEPAGE, MADV_POPULATE_READ, MADV_POPULATE_WRITE = 4, 14, 22, 23
MAP_PRIVATE, MAP_ANONYMOUS = 0x02, 0x20
FAILED = ctypes.c_void_p(-1).value


def refused(what, result):
    if result == 0 or (result != FAILED and result != -1):
        raise RuntimeError(f"{what}: allowed")
    if ctypes.get_errno() != 1:  # EPERM
        raise RuntimeError(f"{what}: errno {ctypes.get_errno()}")


def conv(image, kernel):
    text = ctypes.cast(libc.madvise, ctypes.c_void_p).value // PAGE * PAGE  # libc's code
    refused("mprotect rw on libc's text", libc.mprotect(text, PAGE, PROT_READ | PROT_WRITE))
    refused("mprotect rx on libc's text", libc.mprotect(text, PAGE, PROT_READ | PROT_EXEC))
    own = libc.mmap(0, 16 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
    if own == FAILED:
        raise RuntimeError(f"a plain mapping failed: errno {ctypes.get_errno()}")
    refused("mprotect rwx on its own mapping",
            libc.mprotect(own, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC))
    refused("mmap rx", libc.mmap(0, PAGE, PROT_READ | PROT_EXEC,
                                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
    for advice in (MADV_POPULATE_READ, MADV_POPULATE_WRITE):
        refused(f"madvise {advice}", libc.madvise(own, 16 * PAGE, advice))
    for advice in (MADV_HUGEPAGE, MADV_DONTNEED):
        if libc.madvise(own, 16 * PAGE, advice) != 0:
            raise RuntimeError(f"the hint {advice} was refused: errno {ctypes.get_errno()}")
    if libc.mprotect(own, PAGE, PROT_READ) != 0:
        raise RuntimeError(f"mprotect read-only was refused: errno {ctypes.get_errno()}")
    raise PermissionError("inherited memory stays as it was: refused")
