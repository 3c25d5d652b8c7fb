"""The sandbox child's seccomp-bpf filter: an allow-list, read top to bottom in ``POLICY``.

A child computes: it reads its cases from a pipe, writes frames to pipes, allocates memory,
reads clocks and may raise and catch its own signals. Nothing else is allowed. A call that is
not in ``POLICY`` fails with EPERM, so learner code sees an ordinary ``PermissionError``
(``clone3`` fails with ENOSYS, so that libc falls back to ``clone``, which is refused too).
Calls that can name another process are allowed only towards the caller itself, so children
that share a uid cannot touch each other, the zygote or the grader: no limits, priorities, CPU
placement or signals of anyone else. There is no call that names a path: a child opens,
stats, lists and writes no file at all, so neither the grader's files nor the machine's
metadata are within its reach.

Calls through another architecture's entry points (x32, i386) kill the process. Syscall
numbers are tables in this module (x86_64 and aarch64); nothing is resolved at run time.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import struct
from dataclasses import dataclass

SELF = "self"  # placeholder: the pid of the child that loads the filter

# fcntl commands and ioctl requests a child may use on its own pipes
_F_GETFD, _F_SETFD, _F_GETFL, _F_SETFL = 1, 2, 3, 4
_TCGETS, _TIOCGWINSZ = 0x5401, 0x5413
_RLIMIT_CALLER = 0

# name -> None (any arguments) or (argument index, allowed values). Most used first: the
# filter is checked in this order on every call.
POLICY: dict[str, tuple[int, tuple[int | str, ...]] | None] = {
    # pipes: fd 0 in, 1-3 out; a child opens no other file
    "read": None,
    "write": None,
    "readv": None,
    "writev": None,
    "lseek": None,
    "close": None,
    # memory
    "mmap": None,
    "munmap": None,
    "mremap": None,
    "mprotect": None,
    "madvise": None,
    "brk": None,
    # its own limits only: lowered for each job, read by learner code
    "prlimit64": (0, (_RLIMIT_CALLER,)),
    # clocks, sleeping, randomness, its own usage
    "clock_gettime": None,
    "clock_getres": None,
    "clock_nanosleep": None,
    "nanosleep": None,
    "gettimeofday": None,
    "getrandom": None,
    "getrusage": None,
    "times": None,
    "sched_yield": None,
    "futex": None,
    # its own signals (numpy and Python raise and handle some)
    "rt_sigaction": None,
    "rt_sigprocmask": None,
    "rt_sigreturn": None,
    "sigaltstack": None,
    "kill": (0, (SELF,)),
    "tgkill": (0, (SELF,)),
    "tkill": (0, (SELF,)),
    "alarm": None,
    "setitimer": None,
    "getitimer": None,
    # who it is
    "getpid": None,
    "getppid": None,
    "gettid": None,
    "getuid": None,
    "geteuid": None,
    "getgid": None,
    "getegid": None,
    # descriptor flags and terminal queries on its own pipes
    "fcntl": (1, (_F_GETFD, _F_SETFD, _F_GETFL, _F_SETFL)),
    "ioctl": (1, (_TCGETS, _TIOCGWINSZ)),
    # the end
    "restart_syscall": None,
    "exit": None,
    "exit_group": None,
}
# Added only for an exercise that opts in to a scratch folder. The child's whole file system
# is then a private tmpfs of that budget (its root, in a mount namespace of its own), so a
# path names nothing of the machine's; links, devices, owners, modes and times stay refused.
SCRATCH_POLICY: dict[str, tuple[int, tuple[int | str, ...]] | None] = {
    "openat": None, "newfstatat": None, "fstat": None, "statx": None, "getdents64": None,
    "mkdirat": None, "unlinkat": None, "renameat": None, "renameat2": None,
    "ftruncate": None, "fsync": None, "fdatasync": None, "faccessat": None,
    "faccessat2": None, "getcwd": None, "chdir": None, "fchdir": None, "pread64": None,
    "pwrite64": None, "fadvise64": None, "readlinkat": None, "dup": None,
    # the same, through x86_64's older entry points, which its libc still calls
    "open": None, "stat": None, "lstat": None, "access": None, "mkdir": None, "rmdir": None,
    "unlink": None, "rename": None, "readlink": None,
}
# Refused with another errno than EPERM, for libc's sake.
ERRNO: dict[str, int] = {"clone3": errno.ENOSYS}

# Syscall numbers: (x86_64, aarch64); None where the architecture lacks the call.
NUMBERS: dict[str, tuple[int | None, int | None]] = {
    "read": (0, 63), "write": (1, 64), "readv": (19, 65), "writev": (20, 66),
    "lseek": (8, 62), "close": (3, 57), "mmap": (9, 222), "munmap": (11, 215),
    "mremap": (25, 216), "mprotect": (10, 226), "madvise": (28, 233), "brk": (12, 214),
    "prlimit64": (302, 261), "clock_gettime": (228, 113), "clock_getres": (229, 114),
    "clock_nanosleep": (230, 115), "nanosleep": (35, 101), "gettimeofday": (96, 169),
    "getrandom": (318, 278), "getrusage": (98, 165), "times": (100, 153),
    "sched_yield": (24, 124), "futex": (202, 98), "rt_sigaction": (13, 134),
    "rt_sigprocmask": (14, 135), "rt_sigreturn": (15, 139), "sigaltstack": (131, 132),
    "kill": (62, 129), "tgkill": (234, 131), "tkill": (200, 130), "alarm": (37, None),
    "setitimer": (38, 103), "getitimer": (36, 102), "getpid": (39, 172), "getppid": (110, 173),
    "gettid": (186, 178),
    "getuid": (102, 174), "geteuid": (107, 175), "getgid": (104, 176), "getegid": (108, 177),
    "fcntl": (72, 25), "ioctl": (16, 29), "restart_syscall": (219, 128), "exit": (60, 93),
    "exit_group": (231, 94), "clone3": (435, 435),
    "openat": (257, 56), "newfstatat": (262, 79), "fstat": (5, 80), "statx": (332, 291),
    "getdents64": (217, 61), "mkdirat": (258, 34), "unlinkat": (263, 35),
    "renameat": (264, None), "renameat2": (316, 276), "ftruncate": (77, 46), "fsync": (74, 82),
    "fdatasync": (75, 83), "faccessat": (269, 48), "faccessat2": (439, 439),
    "getcwd": (79, 17), "chdir": (80, 49), "fchdir": (81, 50), "pread64": (17, 67),
    "pwrite64": (18, 68), "fadvise64": (221, 223), "readlinkat": (267, 78), "dup": (32, 23),
    "open": (2, None), "stat": (4, None), "lstat": (6, None), "access": (21, None),
    "mkdir": (83, None), "rmdir": (84, None), "unlink": (87, None), "rename": (82, None),
    "readlink": (89, None),
}

_ARCH = {"x86_64": (0xC000003E, 0), "aarch64": (0xC00000B7, 1)}  # audit arch, NUMBERS column
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
_OFFSET_NR, _OFFSET_ARCH = 0, 4
_MAX_INSTRUCTIONS = 4096


def _arg_low(index: int) -> int:
    """Offset of an argument's low 32 bits (little-endian), the whole of an int argument."""
    return 16 + 8 * index


def _errno(code: int) -> int:
    return 0x00050000 | (code & 0xFFFF)


def _op(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("<HBBI", code, jt, jf, k & 0xFFFFFFFF)


class SeccompError(OSError):
    pass


@dataclass(frozen=True)
class Filter:
    """The assembled program for this architecture; only the loading child's pid is missing:
    ``program`` puts it where ``SELF`` stands."""

    template: bytes
    self_slots: tuple[int, ...]  # byte offsets of the instructions that compare with SELF

    def program(self, own_pid: int) -> bytes:
        body = bytearray(self.template)
        for offset in self.self_slots:
            struct.pack_into("<I", body, offset + 4, own_pid & 0xFFFFFFFF)
        return bytes(body)

    @property
    def instructions(self) -> int:
        return len(self.template) // 8


class UnsupportedArchitecture(SeccompError):
    pass


def build(machine: str | None = None, scratch: bool = False) -> Filter:
    """The filter for this machine's architecture, with the scratch calls when ``scratch``.
    Raises UnsupportedArchitecture."""
    machine = machine or platform.machine()
    if machine not in _ARCH:
        raise UnsupportedArchitecture(0, f"no syscall table for the {machine} architecture")
    audit_arch, column = _ARCH[machine]
    deny = _errno(errno.EPERM)
    ops: list[bytes] = []
    self_slots: list[int] = []

    def emit(code: int, k: int, jt: int = 0, jf: int = 0) -> None:
        ops.append(_op(code, k, jt, jf))

    emit(_LD_W_ABS, _OFFSET_ARCH)
    emit(_JEQ_K, audit_arch, 1, 0)
    emit(_RET_K, _RET_KILL_PROCESS)
    emit(_LD_W_ABS, _OFFSET_NR)
    if machine == "x86_64":
        emit(_JGE_K, _X32_SYSCALL_BIT, 0, 1)
        emit(_RET_K, _RET_KILL_PROCESS)
    for name, rule in policy(scratch).items():
        number = NUMBERS[name][column]
        if number is None:
            continue
        if rule is None:
            emit(_JEQ_K, number, 0, 1)
            emit(_RET_K, _RET_ALLOW)
            continue
        index, values = rule
        # nr == number ? (arg in values ? allow : deny) : next rule, with nr still loaded
        emit(_JEQ_K, number, 0, 2 * len(values) + 2)
        emit(_LD_W_ABS, _arg_low(index))
        for value in values:
            if value == SELF:
                self_slots.append(len(ops) * 8)
                value = 0
            assert isinstance(value, int)
            emit(_JEQ_K, value, 0, 1)
            emit(_RET_K, _RET_ALLOW)
        emit(_RET_K, deny)
    for name, code in ERRNO.items():
        number = NUMBERS[name][column]
        if number is not None:
            emit(_JEQ_K, number, 0, 1)
            emit(_RET_K, _errno(code))
    emit(_RET_K, deny)
    if len(ops) > _MAX_INSTRUCTIONS:
        raise SeccompError(0, "the filter is too long")
    return Filter(template=b"".join(ops), self_slots=tuple(self_slots))


def policy(scratch: bool) -> dict[str, tuple[int, tuple[int | str, ...]] | None]:
    return {**POLICY, **SCRATCH_POLICY} if scratch else POLICY


def allowed_names(machine: str | None = None, scratch: bool = False) -> list[str]:
    """The calls this architecture's filter lets through (some only with given arguments)."""
    column = _ARCH[machine or platform.machine()][1]
    return [name for name in policy(scratch) if NUMBERS[name][column] is not None]


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
