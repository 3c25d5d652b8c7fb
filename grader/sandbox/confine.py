"""Confinement of one sandbox child, applied right after fork and before any learner code.

Order matters: fds and session first, then limits, then the uid drop (which loses the power
to raise limits), then Landlock and last seccomp (which forbids some of the calls above).
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import struct
import sys
from dataclasses import dataclass

from grader.sandbox import landlock, seccomp

_PR_SET_DUMPABLE = 4
BASE_VM = 0  # the child's address space size at fork; memory limits are counted above it
_libc = ctypes.CDLL(None, use_errno=True)


@dataclass(frozen=True)
class Plan:
    """What the zygote decided once, at start, about which layers it can apply."""

    landlock_abi: int
    seccomp: seccomp.Filter | None
    drop_uid: bool
    read_only: tuple[str, ...]


def vm_size_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def enter(
    plan: Plan,
    fds: list[int],
    scratch: str,
    uid: int,
    gid: int,
    cpu_seconds: int,
    memory_bytes: int,
    base_vm: int,
) -> None:
    """Become the confined child: fds 0-3 are the run's pipes, nothing else stays open."""
    for target, fd in enumerate(fds):
        os.dup2(fd, target, inheritable=True)
    os.closerange(len(fds), 1 << 16)
    os.setsid()
    for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_DFL)
    os.chdir(scratch)

    def limit(which: int, value: int) -> None:
        resource.setrlimit(which, (value, value))

    limit(resource.RLIMIT_CORE, 0)
    limit(resource.RLIMIT_FSIZE, 8 << 20)
    limit(resource.RLIMIT_NOFILE, 32)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    global BASE_VM
    BASE_VM = base_vm
    limit(resource.RLIMIT_AS, base_vm + memory_bytes)
    # Opened while this process may still open the paths; enforced after the uid drop.
    ruleset = landlock.prepare(plan.read_only, [scratch], plan.landlock_abi) \
        if plan.landlock_abi else None
    if plan.drop_uid:
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
        limit(resource.RLIMIT_NPROC, 0)
    else:
        _drop_capabilities()
    os.umask(0o077)
    _libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    if ruleset is not None:
        landlock.enforce(ruleset)
    if plan.seccomp is not None:
        seccomp.install(plan.seccomp, os.getpid())
    _fresh_std_streams()


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
    import io

    sys.stdin = io.StringIO("")  # fd 0 is the case channel, not for learners
    sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), write_through=False)
    sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), write_through=True)
