"""Confinement of one sandbox child, applied right after fork and before any learner code.

Order matters: fds and session first, then limits, then the uid drop (which loses the power
to raise limits), then Landlock and last seccomp (which forbids most of the calls above).
The child has no file system: its working folder is ``/``, it may create no file of any size,
and the seccomp allow-list has no call that names a path.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import resource
import signal
import struct
import sys
from dataclasses import dataclass

from grader.sandbox import landlock, seccomp

_PR_SET_DUMPABLE = 4
_RULESET_FD = 4  # where the Landlock ruleset waits, after the four pipes, until enforced
_HIGH_FD = 64
BASE_VM = 0  # the child's address space size at fork; memory limits are counted above it
_libc = ctypes.CDLL(None, use_errno=True)


@dataclass(frozen=True)
class Plan:
    """What the zygote built once, at start: every child applies the same layers."""

    landlock_ruleset: int  # an fd of the zygote's, shared by every child
    seccomp: seccomp.Filter
    drop_uid: bool


def vm_size_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def enter(
    plan: Plan,
    fds: list[int],
    uid: int,
    gid: int,
    cpu_seconds: int,
    memory_bytes: int,
    base_vm: int,
) -> None:
    """Become the confined child: fds 0-3 are the run's pipes, nothing else stays open."""
    # Copied above the target numbers first, so that no dup2 below overwrites a source.
    sources = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, _HIGH_FD)
               for fd in (*fds, plan.landlock_ruleset)]
    for target, fd in enumerate(sources):
        os.dup2(fd, target, inheritable=target < _RULESET_FD)
    os.closerange(_RULESET_FD + 1, 1 << 16)
    os.setsid()
    for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_DFL)
    os.chdir("/")

    def limit(which: int, value: int) -> None:
        resource.setrlimit(which, (value, value))

    limit(resource.RLIMIT_CORE, 0)
    limit(resource.RLIMIT_FSIZE, 0)
    limit(resource.RLIMIT_NOFILE, 16)
    limit(resource.RLIMIT_MEMLOCK, 0)
    limit(resource.RLIMIT_MSGQUEUE, 0)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    global BASE_VM
    BASE_VM = base_vm
    limit(resource.RLIMIT_AS, base_vm + memory_bytes)
    if plan.drop_uid:
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
        limit(resource.RLIMIT_NPROC, 0)
    else:
        _drop_capabilities()
    os.umask(0o077)
    _libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    landlock.enforce(_RULESET_FD)
    _fresh_std_streams()
    seccomp.install(plan.seccomp, os.getpid())


def lower_limits(cpu_seconds: int, memory_bytes: int) -> None:
    """Tighten the CPU and memory limits for one job (they can only go down from here)."""
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_AS, (BASE_VM + memory_bytes, BASE_VM + memory_bytes))


def _drop_capabilities() -> None:
    """Clear every capability (a user namespace gives its creator a full set)."""
    header = struct.pack("<Ii", 0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this thread
    data = bytes(24)
    if _libc.capset(ctypes.c_char_p(header), ctypes.c_char_p(data)) != 0:
        raise OSError(ctypes.get_errno(), "capset failed")


def _fresh_std_streams() -> None:
    """Streams over fds 1 and 2, made while fstat is still allowed (FileIO asks for it)."""
    import io

    sys.stdin = io.StringIO("")  # fd 0 is the case channel, not for learners
    sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), write_through=False)
    sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), write_through=True)
