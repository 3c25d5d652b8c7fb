"""The sandbox child's seccomp-bpf filter: an allow-list, read top to bottom in ``POLICY``.

A child computes: it reads its cases from a pipe, writes frames to pipes, allocates memory,
reads clocks and may raise and catch its own signals. Nothing else is allowed. A call that is
not in ``POLICY`` fails with EPERM, so learner code sees an ordinary ``PermissionError``
(``clone3`` fails with ENOSYS, so that libc falls back to ``clone``, which is refused too).
There is no call that names a path: a child opens, stats, lists and writes no file at all, so
neither the grader's files nor the machine's metadata are within its reach.

No call names another process. Children that share a uid (or run in the container, where
pid 1 is the grader's server and no pid namespace hides it) cannot touch, time or wait on each
other, the zygote or the server. ``NAMES_A_PROCESS`` lists every call whose arguments can carry
a pid, a tid, a process group or a uid's processes, and what stops it:

==============================================  ===========================================
calls that can name a process                   what stops it
==============================================  ===========================================
kill, tgkill, tkill                             argument check: its own pid only (tgkill's
                                                tid must then be a thread of its own)
prlimit64                                       argument check: pid 0, itself, only
clock_gettime, clock_getres, clock_nanosleep    argument check: the static clock ids only
                                                (0-7, 11); every negative id, a pid's or a
                                                tid's CPU clock or an fd's clock, is refused
futex                                           argument check: private ops without
                                                priority inheritance only (a PI op looks up
                                                the tid in the futex word; a shared futex
                                                on a file's page is every mapper's)
fcntl, ioctl                                    argument check: fd flags and two terminal
                                                queries only (no F_SETOWN, no TIOCSPGRP)
rt_sigqueueinfo, rt_tgsigqueueinfo, pidfd_*,    refused outright (not in ``POLICY``)
ptrace, process_vm_*, process_madvise,
process_mrelease, kcmp, sched_* but
sched_yield, getpriority, setpriority,
ioprio_*, get_robust_list, set_robust_list,
wait4, waitid, getpgid, setpgid, getsid,
capget, migrate_pages, move_pages,
perf_event_open, timer_create, clock_settime,
clock_adjtime, futex_waitv
==============================================  ===========================================

Where the host allows it, the zygote and its children are also in a pid namespace of their
own, where no pid names a process outside the sandbox; the checks above hold without one.

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

from grader.sandbox.errors import SandboxError

SELF = "self"  # placeholder: the pid of the child that loads the filter


@dataclass(frozen=True)
class Arg:
    """A rule on one argument: the call is allowed only when argument ``index`` (its low 32
    bits, the whole of an int argument), masked with ``mask``, is below ``below`` or one of
    ``values``; otherwise it fails with EPERM."""

    index: int
    values: tuple[int | str, ...] = ()
    below: int = 0  # 0: no range
    mask: int = 0xFFFFFFFF


Rule = Arg | None  # None: any arguments

# fcntl commands and ioctl requests a child may use on its own pipes
_F_GETFD, _F_SETFD, _F_GETFL, _F_SETFL = 1, 2, 3, 4
_TCGETS, _TIOCGWINSZ = 0x5401, 0x5413
_RLIMIT_CALLER = 0
# Clock ids below 8 (CLOCK_REALTIME .. CLOCK_BOOTTIME, with CLOCK_PROCESS_CPUTIME_ID and
# CLOCK_THREAD_CPUTIME_ID, the caller's own CPU time) and CLOCK_TAI. A negative id encodes a
# process's or a thread's CPU clock by pid, or an fd's clock; as unsigned it is above them all.
_STATIC_CLOCKS = Arg(0, values=(11,), below=8)
# futex ops, with FUTEX_CLOCK_REALTIME masked off: WAIT, WAKE, REQUEUE, CMP_REQUEUE, WAKE_OP,
# WAIT_BITSET and WAKE_BITSET, each with FUTEX_PRIVATE_FLAG. The PI ops (LOCK_PI, UNLOCK_PI,
# TRYLOCK_PI, WAIT_REQUEUE_PI, CMP_REQUEUE_PI, LOCK_PI2) take the owner's tid from the futex
# word and look it up: an oracle of which pids exist, and a wait on another process. A futex
# without the private flag is keyed by file and offset on a file's page (libc's text, a cache
# the zygote mapped shared), which every process mapping that file shares: a channel between
# children. Python's locks (and glibc's, in a process without threads) are private.
_FUTEX_PRIVATE_FLAG, _FUTEX_CLOCK_REALTIME = 128, 256
_PRIVATE_FUTEX = Arg(1, values=tuple(_FUTEX_PRIVATE_FLAG | op for op in (0, 1, 3, 4, 5, 9, 10)),
                     mask=~_FUTEX_CLOCK_REALTIME & 0xFFFFFFFF)

# Memory. A child's address space is limited above the zygote's size (RLIMIT_AS), which counts
# what it maps, not what it writes: the zygote's read-only mappings (its libraries' text and
# constants, about 53 MB), made writable and filled, would be memory beyond the limit. So a
# mapping is never made writable or executable again once made (mprotect to PROT_NONE or
# PROT_READ only: glibc calls it for guard pages; its arenas, which widen a heap with it, are
# for threads, which a child cannot start), no mapping is executable (no code but what the
# zygote loaded), and madvise takes the advice that frees memory or hints only: not
# MADV_POPULATE_READ / _WRITE (which fill a range in one call), nor the rest (merging, fork
# behaviour, collapsing, guards). The zygote's writable mappings (about 96 MB, 64 MB of it
# OpenBLAS's buffer), inherited copy-on-write, are what a child can still fill without mapping;
# and the read-only ones, unmapped (munmap is any allocator's), leave as much address space free
# to map anew. Together they bound the excess (a memory cgroup per child would close it).
_PROT_READ, _PROT_WRITE, _PROT_EXEC = 1, 2, 4
_NO_EXEC = Arg(2, values=(0, _PROT_READ, _PROT_WRITE, _PROT_READ | _PROT_WRITE),
               mask=_PROT_READ | _PROT_WRITE | _PROT_EXEC)
_READ_AT_MOST = Arg(2, values=(0, _PROT_READ), mask=_PROT_READ | _PROT_WRITE | _PROT_EXEC)
# NORMAL, RANDOM, SEQUENTIAL, WILLNEED, DONTNEED, FREE, HUGEPAGE, NOHUGEPAGE (numpy asks
# for huge pages for large arrays; glibc frees with DONTNEED)
_HINTS = Arg(2, values=(0, 1, 2, 3, 4, 8, 14, 15))

# name -> None (any arguments) or an argument rule. Most used first: the filter is checked in
# this order on every call.
POLICY: dict[str, Rule] = {
    # pipes: fd 0 in, 1-3 out; a child opens no other file
    "read": None,
    "write": None,
    "readv": None,
    "writev": None,
    "lseek": None,
    "close": None,
    # memory: new mappings without execution; no mapping made writable or executable again
    # (what it inherited from the zygote stays as it is); advice that frees or hints only
    "mmap": _NO_EXEC,
    "munmap": None,
    "mremap": None,
    "mprotect": _READ_AT_MOST,
    "madvise": _HINTS,
    "brk": None,
    # its own limits only: lowered for each job, read by learner code
    "prlimit64": Arg(0, (_RLIMIT_CALLER,)),
    # the system's clocks and its own CPU time, never another process's or thread's
    "clock_gettime": _STATIC_CLOCKS,
    "clock_getres": _STATIC_CLOCKS,
    "clock_nanosleep": _STATIC_CLOCKS,
    # sleeping, randomness, its own usage
    "nanosleep": None,
    "gettimeofday": None,
    "getrandom": None,
    "getrusage": None,
    "times": None,
    "sched_yield": None,
    # locks and conditions of its own: private, without priority inheritance
    "futex": _PRIVATE_FUTEX,
    # its own signals (numpy and Python raise and handle some); to itself only
    "rt_sigaction": None,
    "rt_sigprocmask": None,
    "rt_sigreturn": None,
    "sigaltstack": None,
    "kill": Arg(0, (SELF,)),
    "tgkill": Arg(0, (SELF,)),
    "tkill": Arg(0, (SELF,)),
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
    "fcntl": Arg(1, (_F_GETFD, _F_SETFD, _F_GETFL, _F_SETFL)),
    "ioctl": Arg(1, (_TCGETS, _TIOCGWINSZ)),
    # the end
    "restart_syscall": None,
    "exit": None,
    "exit_group": None,
}
# Added only for an exercise that opts in to a scratch folder. The child's whole file system
# is then a private tmpfs of that budget (its root, in a mount namespace of its own), so a
# path names nothing of the machine's; links, devices, owners, modes and times stay refused.
SCRATCH_POLICY: dict[str, Rule] = {
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

# Every call whose arguments can name another process -> what stops it: "self" (allowed only
# with arguments that name the caller, or no process at all: an ``Arg`` rule in POLICY) or
# "refused" (not in POLICY). Tests make each of these calls naming another process.
NAMES_A_PROCESS: dict[str, str] = {
    "kill": "self", "tgkill": "self", "tkill": "self", "prlimit64": "self",
    "clock_gettime": "self", "clock_getres": "self", "clock_nanosleep": "self",
    "futex": "self", "fcntl": "self", "ioctl": "self",
    **dict.fromkeys((
        "rt_sigqueueinfo", "rt_tgsigqueueinfo", "pidfd_open", "pidfd_getfd",
        "pidfd_send_signal", "ptrace", "process_vm_readv", "process_vm_writev",
        "process_madvise", "process_mrelease", "kcmp", "sched_setparam", "sched_getparam",
        "sched_setscheduler", "sched_getscheduler", "sched_rr_get_interval",
        "sched_setaffinity", "sched_getaffinity", "sched_setattr", "sched_getattr",
        "getpriority", "setpriority", "ioprio_set", "ioprio_get", "get_robust_list",
        "set_robust_list", "wait4", "waitid", "getpgid", "setpgid", "getsid", "capget",
        "migrate_pages", "move_pages", "perf_event_open", "timer_create", "clock_settime",
        "clock_adjtime", "futex_waitv",
    ), "refused"),
}

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
    # refused, listed for NAMES_A_PROCESS
    "rt_sigqueueinfo": (129, 138), "rt_tgsigqueueinfo": (297, 240), "pidfd_open": (434, 434),
    "pidfd_getfd": (438, 438), "pidfd_send_signal": (424, 424), "ptrace": (101, 117),
    "process_vm_readv": (310, 270), "process_vm_writev": (311, 271),
    "process_madvise": (440, 440), "process_mrelease": (448, 448), "kcmp": (312, 272),
    "sched_setparam": (142, 118), "sched_getparam": (143, 121),
    "sched_setscheduler": (144, 119), "sched_getscheduler": (145, 120),
    "sched_rr_get_interval": (148, 127), "sched_setaffinity": (203, 122),
    "sched_getaffinity": (204, 123), "sched_setattr": (314, 274), "sched_getattr": (315, 275),
    "getpriority": (140, 141), "setpriority": (141, 140), "ioprio_set": (251, 30),
    "ioprio_get": (252, 31), "get_robust_list": (274, 100), "set_robust_list": (273, 99),
    "wait4": (61, 260), "waitid": (247, 95), "getpgid": (121, 155), "setpgid": (109, 154),
    "getsid": (124, 156), "capget": (125, 90), "migrate_pages": (256, 238),
    "move_pages": (279, 239), "perf_event_open": (298, 241), "timer_create": (222, 107),
    "clock_settime": (227, 112), "clock_adjtime": (305, 266), "futex_waitv": (449, 449),
}

_ARCH = {"x86_64": (0xC000003E, 0), "aarch64": (0xC00000B7, 1)}  # audit arch, NUMBERS column
_X32_SYSCALL_BIT = 0x40000000
_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JGE_K = 0x35
_AND_K = 0x54
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


class SeccompError(SandboxError, OSError):
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
        if number is not None:
            instructions, self_at = _rule(number, rule, deny)
            self_slots += [(len(ops) + i) * 8 for i in self_at]
            ops += instructions
    for name, code in ERRNO.items():
        number = NUMBERS[name][column]
        if number is not None:
            emit(_JEQ_K, number, 0, 1)
            emit(_RET_K, _errno(code))
    emit(_RET_K, deny)
    if len(ops) > _MAX_INSTRUCTIONS:
        raise SeccompError(0, "the filter is too long")
    return Filter(template=b"".join(ops), self_slots=tuple(self_slots))


def _rule(number: int, rule: Rule, deny: int) -> tuple[list[bytes], list[int]]:
    """One call's instructions, run with the syscall number loaded (and left loaded for the
    next call's when the number is another), and the indexes among them of the comparisons
    with ``SELF``."""
    if rule is None:
        return [_op(_JEQ_K, number, 0, 1), _op(_RET_K, _RET_ALLOW)], []
    # arg & mask below `below`, or in values ? allow : deny
    body = [_op(_LD_W_ABS, _arg_low(rule.index))]
    if rule.mask != 0xFFFFFFFF:
        body.append(_op(_AND_K, rule.mask))
    if rule.below:
        body += [_op(_JGE_K, rule.below, 1, 0), _op(_RET_K, _RET_ALLOW)]
    self_at = []
    for value in rule.values:
        if value == SELF:
            self_at.append(1 + len(body))
            value = 0
        assert isinstance(value, int)
        body += [_op(_JEQ_K, value, 0, 1), _op(_RET_K, _RET_ALLOW)]
    body.append(_op(_RET_K, deny))
    return [_op(_JEQ_K, number, 0, len(body)), *body], self_at


def policy(scratch: bool) -> dict[str, Rule]:
    return {**POLICY, **SCRATCH_POLICY} if scratch else POLICY


def allowed_names(machine: str | None = None, scratch: bool = False) -> list[str]:
    """The calls this architecture's filter lets through (some only with given arguments)."""
    column = _ARCH[machine or platform.machine()][1]
    return [name for name in policy(scratch) if NUMBERS[name][column] is not None]


class _Fprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


_libc = ctypes.CDLL(None, use_errno=True)


class Loader:
    """A filter's program in C memory, made once by the zygote before it forks: each child
    writes its own pid where ``SELF`` stands and loads it. A child that made the bytes and
    the ctypes objects itself would copy every page of the zygote's that making them writes."""

    def __init__(self, compiled: Filter) -> None:
        self.compiled = compiled
        self._buffer = ctypes.create_string_buffer(compiled.template, len(compiled.template))
        self._fprog = _Fprog(len(compiled.template) // 8,
                             ctypes.cast(self._buffer, ctypes.c_void_p))

    def write_pid(self, own_pid: int) -> bytes:
        """Put ``own_pid`` where ``SELF`` stands; the program as it now is."""
        for offset in self.compiled.self_slots:
            struct.pack_into("<I", self._buffer, offset + 4, own_pid & 0xFFFFFFFF)
        return self._buffer.raw

    def install(self, own_pid: int) -> None:
        """Load the filter into this process. Irreversible; sets no_new_privs."""
        self.write_pid(own_pid)
        if _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            err = ctypes.get_errno()
            raise SeccompError(err, f"prctl(NO_NEW_PRIVS): {os.strerror(err)}")
        if _libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(self._fprog),
                       0, 0) != 0:
            err = ctypes.get_errno()
            raise SeccompError(err, f"prctl(SET_SECCOMP): {os.strerror(err)}")


def install(compiled: Filter, own_pid: int) -> None:
    """Load the filter into this process. Irreversible; sets no_new_privs."""
    Loader(compiled).install(own_pid)
