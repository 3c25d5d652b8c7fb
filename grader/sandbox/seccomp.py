"""A seccomp-bpf filter for the sandbox child.

Default allow, with a deny list of what learner code never needs: new processes and threads,
exec, sockets, namespaces and mounts, tracing other processes, signals to anyone else, kernel
attack surface (bpf, io_uring, keyctl, userfaultfd, perf), identity changes, chmod/chown,
links, device nodes, SysV IPC. A denied call fails with EPERM, so learner code sees an ordinary
``PermissionError``; clone3 fails with ENOSYS so that libc falls back to clone, which is denied.
Calls through another architecture's entry points (x32, i386) kill the process.

The zygote resolves syscall names once, with libseccomp; each child then loads a small BPF
program assembled here (only its own pid differs), which costs microseconds, not the
milliseconds of compiling a filter per child.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import platform
import struct
from dataclasses import dataclass

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
SIGNALS = ("kill", "tkill", "tgkill")  # allowed only towards the caller itself

_AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
_X32_SYSCALL_BIT = 0x40000000
_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JGE_K = 0x35
_RET_K = 0x06
_RET_KILL_PROCESS = 0x80000000
_RET_ALLOW = 0x7FFF0000
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2
_OFFSET_NR, _OFFSET_ARCH, _OFFSET_ARG0 = 0, 4, 16


def _errno(code: int) -> int:
    return 0x00050000 | (code & 0xFFFF)


def _op(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("<HBBI", code, jt, jf, k & 0xFFFFFFFF)


class SeccompError(OSError):
    pass


@dataclass(frozen=True)
class Filter:
    """A filter for this architecture, waiting only for the pid of the child that loads it."""

    head: bytes
    signal_numbers: tuple[int, ...]

    def program(self, own_pid: int) -> bytes:
        deny = _errno(errno.EPERM)
        body = bytearray(self.head)
        for number in self.signal_numbers:
            # nr == number ? (arg0 low half == own pid ? allow : deny) : next
            body += _op(_JEQ_K, number, 0, 4)
            body += _op(_LD_W_ABS, _OFFSET_ARG0)
            body += _op(_JEQ_K, own_pid, 0, 1)
            body += _op(_RET_K, _RET_ALLOW)
            body += _op(_RET_K, deny)
        body += _op(_RET_K, _RET_ALLOW)
        return bytes(body)


def _resolver() -> ctypes.CDLL | None:
    for name in (ctypes.util.find_library("seccomp"), "libseccomp.so.2"):
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
        return lib
    return None


def build() -> Filter | None:
    """The filter for this machine, or None when it cannot be built (with no libseccomp to
    resolve syscall names, or an architecture not handled here)."""
    arch = _AUDIT_ARCH.get(platform.machine())
    lib = _resolver()
    if arch is None or lib is None:
        return None

    def numbers(names: tuple[str, ...]) -> list[int]:
        found = (lib.seccomp_syscall_resolve_name(n.encode()) for n in names)
        return [n for n in found if n >= 0]  # a syscall this architecture lacks is skipped

    head = bytearray()
    head += _op(_LD_W_ABS, _OFFSET_ARCH)
    head += _op(_JEQ_K, arch, 1, 0)
    head += _op(_RET_K, _RET_KILL_PROCESS)
    head += _op(_LD_W_ABS, _OFFSET_NR)
    if platform.machine() == "x86_64":
        head += _op(_JGE_K, _X32_SYSCALL_BIT, 0, 1)
        head += _op(_RET_K, _RET_KILL_PROCESS)
    for number, action in [(n, _errno(errno.EPERM)) for n in numbers(DENIED)] + [
        (n, _errno(errno.ENOSYS)) for n in numbers(("clone3",))
    ]:
        head += _op(_JEQ_K, number, 0, 1)
        head += _op(_RET_K, action)
    return Filter(head=bytes(head), signal_numbers=tuple(numbers(SIGNALS)))


class _Fprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


_libc = ctypes.CDLL(None, use_errno=True)


def install(compiled: Filter, own_pid: int) -> None:
    """Load the filter into this process. Irreversible; sets no_new_privs."""
    program = compiled.program(own_pid)
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _Fprog(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    if _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        err = ctypes.get_errno()
        raise SeccompError(err, f"prctl(NO_NEW_PRIVS): {os.strerror(err)}")
    if _libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        err = ctypes.get_errno()
        raise SeccompError(err, f"prctl(SET_SECCOMP): {os.strerror(err)}")
