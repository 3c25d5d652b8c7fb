"""Confinement of one sandbox child, applied right after fork and before any learner code.

Order matters: fds and session first, then limits, then the uid drop (which loses the power
to raise limits), then Landlock and last seccomp (which forbids most of the calls above).
The child has no file system: its working folder is ``/``, it may create no file of any size,
and the seccomp allow-list has no call that names a path. A job that opts in to a scratch gets
a private tmpfs as its whole file system instead (its root, in a mount namespace of its own,
with a byte and an inode budget the kernel enforces); it vanishes with the child.
"""

from __future__ import annotations

import _signal
import ctypes
import fcntl
import io
import os
import resource
import signal
import struct
import sys
from dataclasses import dataclass

from grader.sandbox import landlock
from grader.sandbox.seccomp import Loader

_PR_SET_DUMPABLE = 4
_RULESET_FD = 4  # where the Landlock ruleset waits, after the four pipes, until enforced
_HIGH_FD = 64
BASE_VM = 0  # the child's address space size at fork; memory limits are counted above it
_libc = ctypes.CDLL(None, use_errno=True)


StdStreams = tuple[io.StringIO, io.TextIOWrapper, io.TextIOWrapper]


@dataclass(frozen=True)
class Plan:
    """What the zygote built once, at start: every child applies the same layers."""

    landlock_ruleset: int  # an fd of the zygote's, shared by every child without a scratch
    landlock_abi: int
    seccomp: Loader
    scratch_seccomp: Loader
    drop_uid: bool
    streams: StdStreams  # never used by the zygote: each child starts with them as they are


@dataclass(frozen=True)
class Scratch:
    bytes: int
    files: int


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
    scratch: Scratch | None = None,
) -> None:
    """Become the confined child: fds 0-3 are the run's pipes, nothing else stays open."""
    # Copied above the target numbers first, so that no dup2 below overwrites a source.
    sources = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, _HIGH_FD)
               for fd in (*fds, plan.landlock_ruleset)]
    for target, fd in enumerate(sources):
        os.dup2(fd, target, inheritable=target < _RULESET_FD)
    os.closerange(_RULESET_FD + 1, 1 << 16)
    # A process group of its own, for the SIGKILL that ends it; not a session of its own: with
    # the kernel's autogroup scheduling every session is given an equal share of the CPU, which
    # would let each runaway child take as much as all honest work together, whatever its
    # priority. It has no terminal to detach from (its fds are pipes; terminal ioctls fail).
    os.setpgid(0, 0)
    # the C function: ``signal.signal`` turns what it returns into an enum, which costs a
    # fresh child five times the call itself (copy-on-write of the enum machinery)
    for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGPIPE):
        _signal.signal(sig, _signal.SIG_DFL)
    os.chdir("/")
    if scratch is not None:
        private_tmpfs_root(scratch, uid if plan.drop_uid else os.getuid(),
                           gid if plan.drop_uid else os.getgid())

    def limit(which: int, value: int) -> None:
        resource.setrlimit(which, (value, value))

    limit(resource.RLIMIT_CORE, 0)
    limit(resource.RLIMIT_FSIZE, scratch.bytes if scratch else 0)
    limit(resource.RLIMIT_NOFILE, 32 if scratch else 16)
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
    if scratch is not None:  # read and write beneath the new root, the tmpfs, only
        os.close(_RULESET_FD)
        landlock.enforce(landlock.prepare((), ("/",), plan.landlock_abi))
    else:
        landlock.enforce(_RULESET_FD)
    sys.stdin, sys.stdout, sys.stderr = plan.streams
    (plan.scratch_seccomp if scratch else plan.seccomp).install(os.getpid())


_CLONE_NEWNS = 0x00020000
_MS_NOSUID, _MS_NODEV, _MS_NOEXEC, _MS_REC, _MS_PRIVATE = 2, 4, 8, 0x4000, 1 << 18


def private_tmpfs_root(scratch: Scratch, uid: int, gid: int) -> None:
    """Make a tmpfs of the scratch's budget this process's root, in a mount namespace of its
    own: nothing of the machine's file system is reachable by path any more."""

    def check(result: int, what: str) -> None:
        if result != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"{what}: {os.strerror(err)}")

    check(_libc.unshare(_CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    check(_libc.mount(None, b"/", None, _MS_REC | _MS_PRIVATE, None), "mount --make-rprivate /")
    options = (f"size={scratch.bytes},nr_inodes={scratch.files + 1},mode=0700,"
               f"uid={uid},gid={gid}").encode()
    check(_libc.mount(b"grader-scratch", b"/tmp", b"tmpfs", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC,
                      options), "mount tmpfs")
    os.chroot("/tmp")
    os.chdir("/")


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


def std_streams() -> StdStreams:
    """A child's stdin (empty: fd 0 is the case channel, not for learners) and its stdout and
    stderr over fds 1 and 2, made once by the zygote, for every child to start with as they are
    (made in a child, they cost it about 0.1 ms, most of it copying the pages that making them
    writes). A stream asks at once whether its file can seek and remembers the answer: fds 1 and
    2 are pipes in a child, so they are pipes here while the streams are made."""
    # above 2, so that a copy never takes the place of fd 1 or 2 (a closed one raises here)
    saved = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3) for fd in (1, 2)]
    made: list[int] = []
    try:
        made.extend(os.pipe())
        os.dup2(made[1], 1)
        os.dup2(made[1], 2)
        return (io.StringIO(""),
                io.TextIOWrapper(io.FileIO(1, "w", closefd=False), write_through=False),
                io.TextIOWrapper(io.FileIO(2, "w", closefd=False), write_through=True))
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, *made):
            os.close(fd)
