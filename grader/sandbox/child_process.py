"""One sandbox child, as the grader sees it: forked ahead of need by the zygote, confined,
then given one job; killed, reaped, its pipes closed and its uid given back whatever happens.

This module knows nothing of runners or conversations: who owns a child passes it what to do
when it counts a kill and when the child's uid is free again.
"""

from __future__ import annotations

import contextlib
import os
import queue
import select
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from grader.sandbox import frames
from grader.sandbox.account import Account, Span, Stage
from grader.sandbox.base import KillReason, SandboxError
from grader.sandbox.zygote_link import ZygoteLink, exit_code

# The longest greeting a child may send (its header: a type and a number).
_GREETING_MAX = 128
# A child whose last answer is in and that uses this much more CPU time is computing on.
KEPT_RUNNING_CPU_SECONDS = 0.01
# While it is watched for that: the first pause, doubled up to the longest
_FIRST_PAUSE = 0.00005
_WATCH_PAUSE = 0.0005


def _read_proc(fd: int) -> bytes | None:
    """A /proc file of the child's, read again from its start; None once the child is gone."""
    try:
        return os.pread(fd, 4096, 0)
    except OSError:
        return None


def parse_schedstat(data: bytes | None) -> tuple[float, float] | None:
    """(CPU time, time runnable but waiting for a CPU), in seconds, from a schedstat file."""
    try:
        fields = (data or b"").split()
        return int(fields[0]) / 1e9, int(fields[1]) / 1e9
    except (ValueError, IndexError):
        return None


class ThreadSched:
    """The scheduler's counts of the calling thread (see ``Child.sched``), from a file kept
    open until ``close``; use it on the thread that made it."""

    def __init__(self) -> None:
        try:
            self._fd = os.open("/proc/thread-self/schedstat", os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            self._fd = -1

    def __call__(self) -> tuple[float, float] | None:
        return parse_schedstat(_read_proc(self._fd)) if self._fd >= 0 else None

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def parse_state(data: bytes | None) -> str | None:
    """The state letter of a /proc/<pid>/stat file. The process names itself (the field in
    parentheses) and may put anything there: the state is after the last parenthesis."""
    if not data or b")" not in data:
        return None
    fields = data.rsplit(b")", 1)[1].split()
    return fields[0].decode("ascii", errors="replace")[:1] if fields else None


# The most a child may use before its job lowers the limits (specs allow at most these).
_MAX_CPU_SECONDS = 301
_MAX_MEMORY_MB = 4096


class Child:
    """One confined child: forked ahead, then given one job's source and its cases in turn.

    Whatever fails on the way, the child is killed, its pipes are closed and its uid goes back
    to the pool once the zygote has reaped it (or, when that cannot be known, once the zygote
    itself is gone and took the child with it)."""

    def __init__(self, zygote: ZygoteLink, uid: int, scratch: tuple[int, int] | None = None, *,
                 count_kill: Callable[[str], None],
                 release: Callable[[int, ZygoteLink, bool], None],
                 on_exit_cpu: Callable[[float, int], None] | None = None,
                 warm: bool = False) -> None:
        """``count_kill(reason)``: called once if the grader kills it; ``release(uid, zygote,
        reaped)``: called once when it is gone (``reaped`` False: its end is unknown);
        ``on_exit_cpu(seconds, faults)``: once reaped, the CPU time it took after it was last
        read, and its page faults over its whole life; ``warm``: whether it warms up (runs the
        harness once) before it greets, which takes CPU time but keeps the copying of pages it
        would do anyway off a job's clock."""
        self._count_kill = count_kill
        self._release = release
        self.scratch = scratch
        self.zygote = zygote
        self.uid = uid
        self.warm = warm  # its greeting must say the same, or it is refused
        self.run_id = uuid.uuid4().hex
        self.exit_code: int | None = None
        self.killed: str | None = None
        self._finish_lock = threading.Lock()
        self._finished = False
        self.to_child = self.stdout = self.stderr = self.results = -1
        self.pid: int | None = None  # in the zygote's pid namespace
        # its /proc files, opened while it waits for a job: they stay this process's, even
        # once the number is another's
        self._stat = self._schedstat = -1
        # CPU seconds per stage of its start, charged to the job it is given (``account``)
        self.start_cpu: dict[Stage, float] = {}
        self.cpu_read: float | None = None  # its CPU time when last read
        self.exit_cpu: float | None = None  # its whole CPU time, once reaped
        self.on_exit_cpu = on_exit_cpu
        self.events = zygote.open(self.run_id)
        try:
            own = Account()  # measured apart: a job that forks its own child counts it once
            span = Span(Stage.FORK, own).start()
            self._start()
            span.stop()
            self.start_cpu[Stage.FORK] = self.start_cpu.get(Stage.FORK, 0.0) \
                + own.seconds.get(Stage.FORK, 0.0)
        except BaseException:
            self.kill(KillReason.UNCONFINED)
            with contextlib.suppress(SandboxError):
                self.finish()
            raise

    def _start(self) -> None:
        child_ends: list[int] = []
        try:
            read_end, self.to_child = os.pipe()
            child_ends.append(read_end)
            for name in ("stdout", "stderr", "results"):
                read_end, write_end = os.pipe()
                setattr(self, name, read_end)
                child_ends.append(write_end)
            try:
                self.zygote.send(
                    {"op": "run", "id": self.run_id, "uid": self.uid, "gid": self.uid,
                     "cpu": _MAX_CPU_SECONDS, "memory": _MAX_MEMORY_MB << 20,
                     "scratch": self.scratch, "warm": self.warm},
                    child_ends,
                )
            except OSError as error:
                raise SandboxError(f"the sandbox zygote did not take a run: {error}") from None
        finally:
            for fd in child_ends:
                os.close(fd)
        started = self._event(10.0)
        if started.get("op") != "started":
            raise SandboxError("the sandbox zygote did not start a child")
        pid = started.get("pid")
        self.pid = pid if type(pid) is int else None
        forked = started.get("cpu")
        if type(forked) is float:
            self.start_cpu[Stage.FORK] = forked
        self._open_proc()
        confined = self._await_warm()
        warm = self.cpu_seconds()
        if warm is not None:
            confined = min(confined, warm)
            self.start_cpu[Stage.CONFINE] = confined
            self.start_cpu[Stage.WARM_UP] = warm - confined
        for fd in (self.stdout, self.stderr, self.results, self.to_child):
            os.set_blocking(fd, False)

    def _open_proc(self) -> None:
        host_pid = self.zygote.host_pid(self.pid) if self.pid is not None else None
        if host_pid is None:
            return
        with contextlib.suppress(OSError):
            self._schedstat = os.open(f"/proc/{host_pid}/schedstat", os.O_RDONLY | os.O_CLOEXEC)
            self._stat = os.open(f"/proc/{host_pid}/stat", os.O_RDONLY | os.O_CLOEXEC)

    def _await_warm(self) -> float:
        """The child says it is confined and warm before it is handed any job. Returns the
        CPU seconds it says confinement took (for the benchmark's account only)."""
        end = time.monotonic() + 10.0
        prefix = self._read_exact(frames.PREFIX_SIZE, end)
        magic, header_size, body_size = frames.parse_prefix(prefix)
        if magic != frames.MAGIC or header_size > _GREETING_MAX or body_size:
            raise SandboxError("a sandbox child sent a wrong greeting")
        header = self._read_exact(header_size, end)
        try:
            [(greeting, _)] = frames.Decoder(max_body=0).feed(prefix + header)
        except (frames.FrameError, ValueError):
            raise SandboxError("a sandbox child sent a wrong greeting") from None
        confined = greeting.get("confined")
        if greeting.get("type") != "warm" or set(greeting) != {"type", "confined", "warmed"} \
                or greeting["warmed"] is not self.warm:
            raise SandboxError("a sandbox child sent a wrong greeting")
        return float(confined) if type(confined) is float and confined >= 0 else 0.0

    def _read_exact(self, size: int, end: float) -> bytes:
        """``size`` bytes of its result pipe, read before ``end``."""
        got = b""
        poller = select.poll()  # any descriptor number, unlike select()
        poller.register(self.results, select.POLLIN)
        while len(got) < size:
            left = end - time.monotonic()
            if left <= 0 or not poller.poll(left * 1000):
                raise SandboxError("a sandbox child did not get ready in 10 s")
            data = os.read(self.results, size - len(got))
            if not data:
                code = self.wait_exit()
                raise SandboxError(f"a sandbox child could not be confined (exit status {code})")
            got += data
        return got

    def _event(self, timeout: float) -> dict[str, Any]:
        try:
            message = self.events.get(timeout=timeout)
        except queue.Empty:
            raise SandboxError("the sandbox zygote stopped answering") from None
        if message.get("op") == "zygote_died":
            raise SandboxError("the sandbox zygote died")
        return message

    def kill(self, reason: str) -> None:
        if self.killed is None:
            self.killed = reason
            self._count_kill(reason)
            with contextlib.suppress(OSError):
                self.zygote.send({"op": "kill", "id": self.run_id})

    def wait_exit(self, grace: float = 1.0) -> int:
        """Wait until the zygote has reaped the child (killing it after ``grace`` seconds)."""
        if self.exit_code is None:
            self._close_input()
            try:
                message = self.events.get(timeout=grace)
            except queue.Empty:
                self.kill(KillReason.LINGERING)
                message = self._event(10.0)
            if message.get("op") != "exited":
                raise SandboxError("the sandbox zygote died")
            code = message.get("code")
            self.exit_code = code if type(code) is int else -9
            self._count_exit_cpu(message)
        return self.exit_code

    def _count_exit_cpu(self, exited: dict[str, Any]) -> None:
        """Hand on the CPU time it took after it was last read (its end), from the zygote's
        count of its whole CPU time."""
        total, faults = exited.get("cpu"), exited.get("faults")
        if type(total) is float:
            self.exit_cpu = total
            if self.on_exit_cpu is not None:
                self.on_exit_cpu(max(total - (self.cpu_read or 0.0), 0.0),
                                 faults if type(faults) is int else 0)

    def finish(self) -> None:
        """Make sure the child is gone and reaped; free its fds and uid."""
        with self._finish_lock:
            if self._finished:
                return
            self._finished = True
            reaped = False
            try:
                self.wait_exit()
                reaped = True
            finally:
                self.zygote.forget(self.run_id)
                self._close_fds()
                self._release(self.uid, self.zygote, reaped)

    def end(self, gone: Callable[[], None]) -> None:
        """Kill it now, and have the zygote reap it: its uid is given back then, and ``gone``
        called (on the thread that reads the zygote's messages, or this one)."""
        with self._finish_lock:
            if self._finished:
                gone()
                return
            self._finished = True
        with contextlib.suppress(OSError):
            self.zygote.send({"op": "kill", "id": self.run_id})
        self._close_fds()

        def reaped(exited: dict[str, Any] | None) -> None:
            code = None if exited is None else exit_code(exited)
            self.exit_code = -9 if code is None else code
            if exited is not None:
                self._count_exit_cpu(exited)
            self.zygote.forget(self.run_id)
            self._release(self.uid, self.zygote, code is not None)
            gone()

        self.zygote.when_exited(self.run_id, self.events, reaped)

    def _close_input(self) -> None:
        if self.to_child >= 0:
            os.close(self.to_child)
            self.to_child = -1

    def _close_fds(self) -> None:
        self._close_input()
        for name in ("stdout", "stderr", "results", "_stat", "_schedstat"):
            fd = getattr(self, name)
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
                setattr(self, name, -1)

    def sched(self) -> tuple[float, float] | None:
        """(CPU time, run-queue wait) so far, in seconds; None when they cannot be read."""
        return parse_schedstat(_read_proc(self._schedstat)) if self._schedstat >= 0 else None

    def cpu_seconds(self) -> float | None:
        """The CPU time this child has used so far, or None when it cannot be read."""
        sched = self.sched()
        if sched is None:
            return None
        self.cpu_read = sched[0]
        return sched[0]

    def state(self) -> str | None:
        """Its state letter (R running or runnable, S asleep, T stopped...), or None."""
        return parse_state(_read_proc(self._stat)) if self._stat >= 0 else None

    def kept_computing(self, cpu_then: float, wall_cap: float) -> bool:
        """Whether it goes on computing now that its last answer is in (at ``cpu_then`` of CPU
        time): an honest harness blocks at once, waiting for input. It is watched while it is
        runnable, until it has used KEPT_RUNNING_CPU_SECONDS more (True, whether or not it
        sleeps since), sleeps or stops (False), or ``wall_cap`` seconds pass without either
        (False: only not given the CPU)."""
        end = time.monotonic() + wall_cap
        pause = 0.0
        while True:
            # its CPU time first: one that computed on and has blocked since is caught too
            used = self.cpu_seconds()
            if used is None:
                return False
            if used - cpu_then >= KEPT_RUNNING_CPU_SECONDS:
                return True
            if self.state() != "R" or time.monotonic() >= end:
                return False
            # an honest harness blocks microseconds after its last answer: looked at again
            # soon at first, then every _WATCH_PAUSE
            time.sleep(pause)
            pause = min(2 * pause or _FIRST_PAUSE, _WATCH_PAUSE)

    def demote(self) -> None:
        """Lowest CPU priority from now on (the zygote does it: the child may not)."""
        with contextlib.suppress(OSError):
            self.zygote.send({"op": "demote", "id": self.run_id})
