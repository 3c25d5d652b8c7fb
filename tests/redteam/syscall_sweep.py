# Every syscall number from 0 to 1023, and a few far above (up to just below the x32 bit), made
# with arguments of zero, but the ones the child's filter allows: each must fail with EPERM,
# before the kernel runs it (clone3 with ENOSYS, for libc's sake). Calls the kernel added after
# the filter was written (futex_wake, mseal, lsm_*, listns...), x86's modify_ldt, iopl and
# arch_prctl, open_by_handle_at, seccomp (a second filter), setns, mount and the new mount API,
# eventfd, signalfd, timerfd, inotify, fanotify, syslog, reboot, kexec, init_module: all
# refused alike, with no table of them needed.
# Not swept: x86_64's uretprobe (335, Linux 6.11) and uprobe (336), which the kernel runs
# before any seccomp filter, by design: called from anywhere but a probe's trampoline (which
# only the kernel places, for a probe root set), uretprobe ends the caller with SIGILL and
# uprobe fails with ENXIO; neither does anything else.
import ctypes
import platform

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
EPERM, ENOSYS = 1, 38
CLONE3 = 435
# the filter's allowed calls, by number: they are not swept
ALLOWED = {
    "x86_64": {0, 1, 19, 20, 8, 3, 9, 11, 25, 10, 28, 12, 302, 228, 229, 230, 35, 96, 318, 98,
               100, 24, 202, 13, 14, 15, 131, 62, 234, 200, 37, 38, 36, 39, 110, 186, 102, 107,
               104, 108, 72, 16, 219, 60, 231},
    "aarch64": {63, 64, 65, 66, 62, 57, 222, 215, 216, 226, 233, 214, 261, 113, 114, 115, 101,
                169, 278, 165, 153, 124, 98, 134, 135, 139, 132, 129, 131, 130, 103, 102, 172,
                173, 178, 174, 175, 176, 177, 25, 29, 128, 93, 94},
}[platform.machine()]
FAR = (1024, 4096, 65535, 1 << 20, 0x3FFFFFFF)
BEFORE_SECCOMP = {"x86_64": {335, 336}, "aarch64": set()}[platform.machine()]


def conv(image, kernel):
    other = {}
    swept = 0
    for number in [*range(1024), *FAR]:
        if number in ALLOWED or number in BEFORE_SECCOMP:
            continue
        ctypes.set_errno(0)
        result = libc.syscall(ctypes.c_long(number), 0, 0, 0, 0, 0, 0)
        error = ctypes.get_errno()
        swept += 1
        if result != -1 or error != (ENOSYS if number == CLONE3 else EPERM):
            other[number] = (result, error)
    if other:
        raise RuntimeError(f"not refused: {other}")
    raise PermissionError(f"all {swept} calls refused before the kernel ran them")
