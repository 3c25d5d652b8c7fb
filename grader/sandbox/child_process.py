"""One sandbox child, as the grader sees it: forked ahead of need by the zygote, confined,
then given one job; reaped, its pipes closed and its uid given back whatever happens.
"""

from __future__ import annotations

import contextlib
import os
import queue
import select
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

from grader.sandbox import frames
from grader.sandbox.base import (
    Job,
    RunResult,
    SandboxError,
)
from grader.sandbox.conversation import Conversation
from grader.sandbox.lanes import Ticket
from grader.sandbox.zygote_link import ZygoteLink

if TYPE_CHECKING:
    from grader.sandbox.forkserver import ForkServerRunner


def cpu_seconds(pid: int) -> float | None:
    """CPU time a process has used, from the scheduler's nanoseconds; None if it is gone."""
    try:
        with open(f"/proc/{pid}/schedstat") as f:
            return int(f.read().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


# The most a child may use before its job lowers the limits (specs allow at most these).
_MAX_CPU_SECONDS = 301
_MAX_MEMORY_MB = 4096


class Child:
    """One confined child: forked ahead, then given one job's source and its cases in turn.

    Whatever fails on the way, the child is killed, its pipes are closed and its uid goes back
    to the pool once the zygote has reaped it (or, when that cannot be known, once the zygote
    itself is gone and took the child with it)."""

    def __init__(self, runner: ForkServerRunner, zygote: ZygoteLink, uid: int,
                 scratch: tuple[int, int] | None = None) -> None:
        self.runner = runner
        self.scratch = scratch
        self.zygote = zygote
        self.uid = uid
        self.run_id = uuid.uuid4().hex
        self.exit_code: int | None = None
        self.killed: str | None = None
        self._finish_lock = threading.Lock()
        self._finished = False
        self.to_child = self.stdout = self.stderr = self.results = -1
        self.pid: int | None = None  # in the zygote's pid namespace
        self._host_pid: int | None = None
        self.events = zygote.open(self.run_id)
        try:
            self._start()
        except BaseException:
            self.kill("unconfined")
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
                     "scratch": self.scratch},
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
        self._await_warm()
        for fd in (self.stdout, self.stderr, self.results, self.to_child):
            os.set_blocking(fd, False)

    def _await_warm(self) -> None:
        """The child says it is confined and warm before it is handed any job."""
        expected = frames.encode({"type": "warm"})
        got = b""
        end = time.monotonic() + 10.0
        poller = select.poll()  # any descriptor number, unlike select()
        poller.register(self.results, select.POLLIN)
        while len(got) < len(expected):
            left = end - time.monotonic()
            if left <= 0 or not poller.poll(left * 1000):
                raise SandboxError("a sandbox child did not get ready in 10 s")
            data = os.read(self.results, len(expected) - len(got))
            if not data:
                code = self.wait_exit()
                raise SandboxError(f"a sandbox child could not be confined (exit status {code})")
            got += data
        if got != expected:
            raise SandboxError("a sandbox child sent a wrong greeting")

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
            self.runner._count_kill(reason)
            with contextlib.suppress(OSError):
                self.zygote.send({"op": "kill", "id": self.run_id})

    def wait_exit(self, grace: float = 1.0) -> int:
        """Wait until the zygote has reaped the child (killing it after ``grace`` seconds)."""
        if self.exit_code is None:
            self._close_input()
            try:
                message = self.events.get(timeout=grace)
            except queue.Empty:
                self.kill("lingering")
                message = self._event(10.0)
            if message.get("op") != "exited":
                raise SandboxError("the sandbox zygote died")
            code = message.get("code")
            self.exit_code = code if type(code) is int else -9
        return self.exit_code

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
                self.runner._release(self.uid, self.zygote, reaped)

    def _close_input(self) -> None:
        if self.to_child >= 0:
            os.close(self.to_child)
            self.to_child = -1

    def _close_fds(self) -> None:
        self._close_input()
        for name in ("stdout", "stderr", "results"):
            fd = getattr(self, name)
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
                setattr(self, name, -1)

    def cpu_seconds(self) -> float | None:
        """The CPU time this child has used so far, or None when it cannot be read."""
        if self._host_pid is None and self.pid is not None:
            self._host_pid = self.zygote.host_pid(self.pid)
        return cpu_seconds(self._host_pid) if self._host_pid is not None else None

    def demote(self) -> None:
        """Lowest CPU priority from now on (the zygote does it: the child may not)."""
        with contextlib.suppress(OSError):
            self.zygote.send({"op": "demote", "id": self.run_id})

    def converse(self, job: Job, deadline: float, result: RunResult, ticket: Ticket,
                 hard_deadline: float) -> bool:
        """Run cases from the first unanswered one, until done, killed or crashed. True when
        the job must be parked (the child is killed; its unanswered case runs again)."""
        conversation = Conversation(self, job, deadline, result, ticket, hard_deadline)
        conversation.run()
        return conversation.parked

