"""A seccomp-bpf filter for the sandbox child, built with libseccomp through ctypes.

Default allow, with a deny list of what learner code never needs: new processes and threads,
exec, sockets, namespaces and mounts, tracing other processes, signals to anyone else, kernel
attack surface (bpf, io_uring, keyctl, userfaultfd, perf), identity changes, chmod/chown,
links, device nodes, SysV IPC. A denied call fails with EPERM, so learner code sees an ordinary
``PermissionError``; clone3 fails with ENOSYS so that libc falls back to clone, which is denied.
Syscalls of other architectures (the x32 or i386 entry points) kill the process.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
from collections.abc import Sequence

_ACT_ALLOW = 0x7FFF0000
_CMP_NE = 1
_CMP_LE = 3


def _act_errno(code: int) -> int:
    return 0x00050000 | (code & 0xFFFF)


DENIED = (
    # processes, threads and programs
    "fork", "vfork", "clone", "execve", "execveat",
    # network and local sockets
    "socket", "socketpair",
    # namespaces and mounts
    "unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree",
    "fsopen", "fsmount", "fsconfig", "fspick", "mount_setattr",
    # other processes
    "ptrace", "process_vm_readv", "process_vm_writev", "process_madvise", "kcmp",
    "pidfd_open", "pidfd_getfd", "pidfd_send_signal", "rt_sigqueueinfo", "rt_tgsigqueueinfo",
    "setsid", "setpgid",
    # kernel attack surface
    "bpf", "io_uring_setup", "io_uring_enter", "io_uring_register", "keyctl", "add_key",
    "request_key", "inotify_init", "inotify_init1", "inotify_add_watch", "fanotify_init",
    "fanotify_mark", "perf_event_open", "userfaultfd", "init_module", "finit_module",
    "delete_module", "kexec_load", "kexec_file_load", "reboot", "swapon", "swapoff", "acct",
    "quotactl", "syslog", "personality", "vhangup", "iopl", "ioperm", "uselib",
    "lookup_dcookie", "open_by_handle_at", "name_to_handle_at", "migrate_pages", "move_pages",
    "sethostname", "setdomainname", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
    # identity
    "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setgroups",
    "setfsuid", "setfsgid", "capset",
    # permissions, links and special files
    "chmod", "fchmod", "fchmodat", "fchmodat2", "chown", "fchown", "lchown", "fchownat",
    "link", "linkat", "symlink", "symlinkat", "mknod", "mknodat",
    # channels to other processes
    "msgget", "semget", "shmget", "mq_open",
)


class _ArgCmp(ctypes.Structure):
    _fields_ = [
        ("arg", ctypes.c_uint),
        ("op", ctypes.c_int),
        ("datum_a", ctypes.c_uint64),
        ("datum_b", ctypes.c_uint64),
    ]


class SeccompError(OSError):
    pass


def _load_library() -> ctypes.CDLL | None:
    for name in (ctypes.util.find_library("seccomp"), "libseccomp.so.2"):
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name, use_errno=True)
        except OSError:
            continue
        lib.seccomp_init.restype = ctypes.c_void_p
        lib.seccomp_init.argtypes = [ctypes.c_uint32]
        lib.seccomp_rule_add_array.argtypes = [
            ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint,
            ctypes.POINTER(_ArgCmp),
        ]
        lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
        lib.seccomp_load.argtypes = [ctypes.c_void_p]
        lib.seccomp_release.argtypes = [ctypes.c_void_p]
        return lib
    return None


_lib = _load_library()


def available() -> bool:
    return _lib is not None


def _syscall_numbers(names: Sequence[str]) -> list[int]:
    assert _lib is not None
    numbers = []
    for name in names:
        number = _lib.seccomp_syscall_resolve_name(name.encode())
        if number >= 0:  # a syscall this architecture does not have is skipped
            numbers.append(number)
    return numbers


def install(own_pid: int) -> None:
    """Load the filter into this process. Irreversible; sets no_new_privs."""
    if _lib is None:
        raise SeccompError(0, "libseccomp is not installed")
    ctx = _lib.seccomp_init(_ACT_ALLOW)
    if not ctx:
        raise SeccompError(0, "seccomp_init failed")
    try:
        deny = _act_errno(errno.EPERM)

        def rule(action: int, number: int, *cmps: _ArgCmp) -> None:
            array = (_ArgCmp * max(len(cmps), 1))(*cmps)
            rc = _lib.seccomp_rule_add_array(ctx, action, number, len(cmps), array)
            if rc < 0:
                raise SeccompError(-rc, f"seccomp rule for syscall {number}: {rc}")

        for number in _syscall_numbers(DENIED):
            rule(deny, number)
        for number in _syscall_numbers(["clone3"]):
            rule(_act_errno(errno.ENOSYS), number)
        # signals only to this very process
        for number in _syscall_numbers(["kill", "tkill", "tgkill"]):
            rule(deny, number, _ArgCmp(0, _CMP_NE, own_pid, 0))
        rc = _lib.seccomp_load(ctx)
        if rc < 0:
            raise SeccompError(-rc, f"seccomp_load: {rc}")
    finally:
        _lib.seccomp_release(ctx)
