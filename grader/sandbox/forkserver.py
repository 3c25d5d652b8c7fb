"""The grader's side of the sandbox: a warm zygote, and one conversation per child.

The grader process never forks (it has threads). It starts the zygote once, hands it four
pipes per run through SCM_RIGHTS, and then talks to the child directly over those pipes:

    fd 0  grader -> child   the source, then each case's inputs, one at a time
    fd 1  child -> grader   stdout, capped
    fd 2  child -> grader   stderr, capped
    fd 3  child -> grader   one result frame per step, parsed as hostile input

The source and the visible cases' inputs go at once; hidden inputs only after every visible
case was answered, so nothing printed before that can carry them, and what is printed after is
withheld. A run has one deadline and one byte budget for everything the child writes, draining
included. Wall-clock limits are the grader's: on expiry it asks the zygote to SIGKILL the
child's process group. Every child is reaped (in the background, once its run is over) before
its uid is used again. A case that times out or crashes is recorded and the next case runs in a
fresh child, while the submission's total time lasts.

The runner refuses to grade (``SandboxUnavailable``) when a required layer cannot be built or
its start-up self-test fails; it never runs learner code with less.
"""

from __future__ import annotations

import array
import codecs
import contextlib
import json
import logging
import os
import queue
import select
import selectors
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.sandbox import frames
from grader.sandbox.base import (
    CaseRun,
    Job,
    LearnerError,
    RunResult,
    SandboxError,
    SandboxUnavailable,
    redact,
)
from grader.sandbox.lanes import Lane, Lanes, Ticket
from grader.sandbox.uids import UidClaim

log = logging.getLogger("grader.sandbox")

_SCRUBBED_ENV = {
    "PATH": "/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
}
_SIGNALS = {
    6: "it aborted (SIGABRT)",
    7: "a bus error (SIGBUS)",
    8: "an arithmetic fault (SIGFPE)",
    11: "a segmentation fault (SIGSEGV), often from unbounded recursion",
}


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def _cpu_seconds(pid: int) -> float | None:
    """CPU time a process has used, from the scheduler's nanoseconds; None if it is gone."""
    try:
        with open(f"/proc/{pid}/schedstat") as f:
            return int(f.read().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


class _Timeout:
    pass


class _Eof:
    pass


class _Parked:
    pass


TIMEOUT = _Timeout()
EOF = _Eof()
PARKED = _Parked()


# Layers without which no learner code runs, in any mode.
REQUIRED_LAYERS = ("seccomp", "landlock")


@dataclass
class Layers:
    """What the zygote reported it can apply, and why anything is skipped."""

    uid_drop: bool
    landlock_abi: int
    seccomp: bool
    seccomp_instructions: int
    namespaces: list[str]
    scratch: bool
    skipped: dict[str, str]

    @property
    def refusal(self) -> str | None:
        """Why the sandbox must not grade with these layers, or None."""
        have = {"seccomp": self.seccomp, "landlock": self.landlock_abi > 0}
        missing = [f"{name} ({self.skipped.get(name, 'not available')})"
                   for name in REQUIRED_LAYERS if not have[name]]
        if missing:
            return "a required sandbox layer cannot be built: " + "; ".join(missing)
        return None

    def summary(self) -> dict[str, Any]:
        return {
            "uid_drop": self.uid_drop,
            "landlock_abi": self.landlock_abi,
            "seccomp": self.seccomp,
            "seccomp_instructions": self.seccomp_instructions,
            "namespaces": self.namespaces,
            "rlimits": True,
            "filesystem": "none; a private tmpfs for exercises that ask for a scratch"
            if self.scratch else "none",
            "skipped": self.skipped,
        }


class _Zygote:
    """The zygote process and the thread that routes its messages to waiting runs."""

    def __init__(self, python: str, start_timeout: float, without: tuple[str, ...] = ()) -> None:
        self._stderr_reader: threading.Thread | None = None
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock = ours
        flags = [arg for layer in without for arg in ("--without", layer)]
        self.process = subprocess.Popen(
            [python, "-I", "-m", "grader.sandbox.zygote", "--ctrl-fd", str(theirs.fileno()),
             *flags],
            pass_fds=[theirs.fileno()],
            env=_SCRUBBED_ENV,
            cwd="/",
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        theirs.close()
        self.sock.settimeout(start_timeout)
        try:
            hello = json.loads(self.sock.recv(65536) or b"null")
        except (TimeoutError, ValueError) as error:
            self.stop()
            raise SandboxError(f"the sandbox zygote did not start: {error}") from None
        if not isinstance(hello, dict) or hello.get("op") != "hello":
            stderr = self.process.stderr
            err = stderr.read().decode(errors="replace")[-2000:] if stderr else ""
            self.stop()
            raise SandboxError(f"the sandbox zygote did not start:\n{err}")
        self.sock.settimeout(None)
        layers = hello["layers"]
        self.layers = Layers(
            uid_drop=bool(layers["uid_drop"]),
            landlock_abi=int(layers["landlock_abi"]),
            seccomp=bool(layers["seccomp"]),
            seccomp_instructions=int(layers["seccomp_instructions"]),
            namespaces=list(layers["namespaces"]),
            scratch=bool(layers["scratch"]),
            skipped=dict(hello["skipped"]),
        )
        self.orphaned_uids: list[int] = []
        self._send_lock = threading.Lock()
        self._waiters: dict[str, queue.Queue[dict[str, Any]]] = {}
        self._waiters_lock = threading.Lock()
        self.alive = True
        self._reader = threading.Thread(target=self._read_loop, name="zygote-reader", daemon=True)
        self._reader.start()
        self._stderr_reader = threading.Thread(target=self._log_stderr, name="zygote-stderr",
                                               daemon=True)
        self._stderr_reader.start()

    def _log_stderr(self) -> None:
        """What the zygote writes once running (a traceback if it dies) goes to the log, a
        line at a time; the pipe is kept drained, so the zygote never blocks on it."""
        stream = self.process.stderr
        if stream is None:
            return
        with contextlib.suppress(OSError, ValueError):
            for line in stream:
                text = line.decode(errors="replace").rstrip()
                if text:
                    log.warning("sandbox zygote (pid %d): %s", self.process.pid, text[:2000])

    def _read_loop(self) -> None:
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                data = b""
            if not data:
                break
            message = json.loads(data)
            with self._waiters_lock:
                waiter = self._waiters.get(message.get("id"))
            if waiter is not None:
                waiter.put(message)
        self.alive = False
        with self._waiters_lock:
            for waiter in self._waiters.values():
                waiter.put({"op": "zygote_died"})

    def open(self, run_id: str) -> queue.Queue[dict[str, Any]]:
        events: queue.Queue[dict[str, Any]] = queue.Queue()
        with self._waiters_lock:
            self._waiters[run_id] = events
        return events

    def forget(self, run_id: str) -> None:
        with self._waiters_lock:
            self._waiters.pop(run_id, None)

    def send(self, message: dict[str, Any], fds: list[int] | None = None) -> None:
        data = json.dumps(message).encode()
        with self._send_lock:
            if fds:
                self.sock.sendmsg(
                    [data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))]
                )
            else:
                self.sock.send(data)

    @property
    def pid(self) -> int:
        return self.process.pid

    def host_pid(self, pid: int) -> int | None:
        """The pid, as this process sees it, of the zygote's child ``pid`` (as the zygote sees
        it, in its pid namespace), or None when there is no such child."""
        serving = self.process.pid
        if "pid" in self.layers.namespaces:  # the zygote forked itself into the namespace
            serving = next(iter(_children(serving)), serving)
        for candidate in _children(serving):
            try:
                with open(f"/proc/{candidate}/status") as status:
                    for line in status:
                        if line.startswith("NSpid:"):
                            if int(line.split()[-1]) == pid:
                                return candidate
                            break
            except (OSError, ValueError):
                continue
        return None

    def stop(self) -> None:
        self.alive = False
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        if self._stderr_reader is not None:
            self._stderr_reader.join(timeout=1.0)  # ends at EOF, once no process holds the pipe
            if self._stderr_reader.is_alive():
                return  # still held open: the reader keeps the pipe until then
        if self.process.stderr:
            self.process.stderr.close()


class ForkServerRunner:
    """Runs jobs in children forked from a warm zygote, ``slots`` at a time.

    A few children are kept forked and confined ahead of need, each waiting for its source on
    fd 0; a child that is done is reaped in the background. Each live child has a uid of its
    own (when the grader runs as root), drawn from a block of uids this runner claimed for
    itself (see ``uids``) and returned once it is reaped.

    Jobs run in two lanes (see ``lanes``): ``slots`` at a time in the fast lane, and those past
    ``fast_seconds`` in a slow lane of ``slow_slots`` at the lowest CPU priority.

    At start the runner checks the zygote's layers and runs a self-test of hostile probes;
    if either fails, ``refusal`` says why and every ``run`` raises ``SandboxUnavailable``.
    ``without`` names layers to leave out on purpose, which makes the runner refuse.
    """

    def __init__(
        self,
        *,
        slots: int | None = None,
        base_uid: int = 61000,
        python: str | None = None,
        start_timeout: float = 30.0,
        without: tuple[str, ...] = (),
        self_test: bool = True,
        slow_slots: int | None = None,
        fast_seconds: float = 0.05,
    ) -> None:
        self.slots = slots or os.cpu_count() or 1
        self.slow_slots = slow_slots or 16 * self.slots
        self.lanes = Lanes(self.slots, self.slow_slots, fast_seconds)
        self.python = python or sys.executable
        self.start_timeout = start_timeout
        self.without = without
        self.ahead = 2 * self.slots  # children kept forked and confined, ready for a job
        self._spawning = 0
        self._spawning_lock = threading.Lock()
        self._warm: queue.Queue[_Child] = queue.Queue()
        self._background = ThreadPoolExecutor(max_workers=self.slots + 1,
                                              thread_name_prefix="sandbox")
        self._closed = False
        self._in_flight: set[Future[None]] = set()
        self._in_flight_lock = threading.Lock()
        self._zygote_lock = threading.Lock()
        self._zygote: _Zygote | None = None
        self._kills_lock = threading.Lock()
        self.kills: dict[str, int] = {}
        self.refusal: str | None = None
        self.self_test_failures: list[str] = []
        # A uid for every child that can be alive at once: ready, running (fast or slow),
        # being reaped.
        self._claim: UidClaim | None = None
        uid_count = self.ahead + 3 * self.slots + 2 * self.slow_slots
        self._uids: queue.Queue[int] = queue.Queue()
        self.uid_range: tuple[int, ...] = ()
        try:
            layers = self._ensure_zygote().layers
            if layers.uid_drop:
                self._claim = UidClaim(base_uid, uid_count)
                self.uid_range = tuple(self._claim.uids)
            else:
                self.uid_range = tuple(range(uid_count))  # tokens only: never a real uid
            for uid in self.uid_range:
                self._uids.put(uid)
            self.refusal = layers.refusal
            if self.refusal is None and self_test:
                self._self_test()
        except BaseException:
            self.close()
            raise
        if self.refusal is not None:
            log.error("the sandbox refuses to grade: %s", self.refusal)
            return
        for _ in range(self.ahead):
            self._submit(self._refill)

    def _stop_zygote(self, zygote: _Zygote) -> None:
        zygote.stop()
        if "pid" in zygote.layers.namespaces:  # its children died with it
            for uid in zygote.orphaned_uids:
                self._uids.put(uid)
            zygote.orphaned_uids.clear()

    def _self_test(self) -> None:
        from grader.sandbox.selftest import self_test

        result = self_test(self._run)
        self.self_test_failures = result.failures
        if not result.passed:
            self.refusal = "the sandbox self-test failed: " + "; ".join(result.failures)

    def _submit(self, task: Callable[..., None], *args: Any) -> None:
        future = self._background.submit(task, *args)
        with self._in_flight_lock:
            self._in_flight.add(future)
        future.add_done_callback(self._done)

    def _done(self, future: Future[None]) -> None:
        with self._in_flight_lock:
            self._in_flight.discard(future)

    def settle(self, timeout: float = 30.0) -> None:
        """Wait until every finished child is reaped and the children ahead of need are ready."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self._in_flight_lock:
                pending = list(self._in_flight)
            if not pending:
                return
            wait(pending, timeout=max(end - time.monotonic(), 0))
        raise SandboxError("the sandbox did not settle in time")

    @property
    def warm_children(self) -> int:
        return self._warm.qsize()

    @property
    def layers(self) -> Layers:
        return self._ensure_zygote().layers

    @property
    def zygote_pid(self) -> int:
        return self._ensure_zygote().pid

    def _ensure_zygote(self) -> _Zygote:
        with self._zygote_lock:
            if self._closed:
                raise SandboxError("the sandbox is closed")
            if self._zygote is None or not self._zygote.alive:
                if self._zygote is not None:
                    self._stop_zygote(self._zygote)
                    log.warning("sandbox zygote died; starting a new one")
                self._zygote = _Zygote(self.python, self.start_timeout, self.without)
                layers = self._zygote.layers
                log.info("sandbox layers: %s", json.dumps(layers.summary()))
                if layers.refusal is not None:
                    self.refusal = layers.refusal
            return self._zygote

    def close(self) -> None:
        with self._zygote_lock:
            self._closed = True
        self._background.shutdown(wait=True)
        while True:
            try:
                self._warm.get_nowait().finish()
            except queue.Empty:
                break
            except SandboxError as error:
                log.warning("closing the sandbox: %s", error)
        with self._zygote_lock:
            if self._zygote is not None:
                self._stop_zygote(self._zygote)
                self._zygote = None
        if self._claim is not None:
            self._claim.release()

    # -- children ahead of need -------------------------------------------------------------

    def _spawn(self, scratch: tuple[int, int] | None = None) -> _Child:
        zygote = self._ensure_zygote()
        try:
            uid = self._uids.get(timeout=30)
        except queue.Empty:
            raise SandboxError("no sandbox uid came free in 30 s") from None
        return _Child(self, zygote, uid, scratch)  # gives the uid back itself if it fails

    def _refill(self) -> None:
        with self._spawning_lock:
            if self._closed or self._warm.qsize() + self._spawning >= self.ahead:
                return
            self._spawning += 1
        try:
            self._warm.put(self._spawn())
        except SandboxError as error:
            log.warning("could not fork a child ahead of need: %s", error)
        finally:
            with self._spawning_lock:
                self._spawning -= 1

    def _take(self, job: Job) -> _Child:
        limits = job.limits
        if limits.scratch_bytes:  # such a child is made for the job, not ahead of need
            layers = self._ensure_zygote().layers
            if not layers.scratch:
                raise SandboxError("this exercise asks for a writable scratch, which this "
                                   f"sandbox cannot give: {layers.skipped.get('scratch')}")
            return self._spawn((limits.scratch_bytes, limits.scratch_files))
        while True:
            try:
                # A child being forked ahead is usually nearer than a new one.
                child = self._warm.get(timeout=0.05) if self._spawning else self._warm.get_nowait()
            except queue.Empty:
                if self._spawning:
                    continue
                child = self._spawn()
            if child.zygote.alive:
                return child
            # forked by a zygote that has died since (and took the child with it)
            with contextlib.suppress(SandboxError):
                child.finish()

    def _retire(self, child: _Child) -> None:
        """Off the clock: reap a child that is done, then fork its successor."""
        try:
            child.finish()
        except SandboxError as error:
            log.warning("reaping a child: %s", error)
        self._refill()

    def _release(self, uid: int, zygote: _Zygote, reaped: bool) -> None:
        """A child's uid is free again once it is reaped; one whose end is unknown is held
        until its zygote is gone (its pid namespace takes every child with it)."""
        if reaped:
            self._uids.put(uid)
        else:
            zygote.orphaned_uids.append(uid)
            log.warning("sandbox uid %d is held until its zygote is gone", uid)

    def _count_kill(self, reason: str) -> None:
        with self._kills_lock:
            self.kills[reason] = self.kills.get(reason, 0) + 1

    # -- running a job ----------------------------------------------------------------------

    def run(self, job: Job) -> RunResult:
        if self.refusal is not None:
            raise SandboxUnavailable(self.refusal)
        return self._run(job)

    def _run(self, job: Job) -> RunResult:
        self._ensure_zygote()
        if self.refusal is not None:  # a new zygote that cannot build a required layer
            raise SandboxUnavailable(self.refusal)
        result = RunResult(cases=[])
        time_left = job.limits.submission_seconds  # time parked waiting is not counted
        ticket = self.lanes.ticket()
        ticket.enter()
        try:
            while len(result.cases) < len(job.cases):
                if time_left <= 0:
                    _fill(result, job, CaseRun(
                        kind="timeout",
                        detail=f"not run: the submission's total time limit of "
                        f"{job.limits.submission_seconds:g} s was used up",
                    ))
                    break
                started = time.monotonic()
                child = self._take(job)
                if ticket.lane is Lane.SLOW:
                    child.demote()
                try:
                    parked = child.converse(job, started + time_left, result, ticket)
                finally:
                    self._submit(self._retire, child)
                time_left -= time.monotonic() - started
                if parked:
                    ticket.park()
        finally:
            ticket.leave()
        return result


_GARBAGE = "the submission wrote garbage to the grader's channel"
# How much a run's stdout and stderr may write in all, as a multiple of what is kept of them.
_OUTPUT_BUDGET_FACTOR = 64


def _error_run(error: LearnerError) -> CaseRun:
    """An exception of learner code; running out of memory has a status of its own."""
    return CaseRun(kind="memory_limit" if error.type.endswith("MemoryError") else "error",
                   error=error)


def _fill(result: RunResult, job: Job, outcome: CaseRun) -> None:
    while len(result.cases) < len(job.cases):
        result.cases.append(CaseRun(kind=outcome.kind, detail=outcome.detail,
                                    error=outcome.error))


# The most a child may use before its job lowers the limits (specs allow at most these).
_MAX_CPU_SECONDS = 301
_MAX_MEMORY_MB = 4096


class _Child:
    """One confined child: forked ahead, then given one job's source and its cases in turn.

    Whatever fails on the way, the child is killed, its pipes are closed and its uid goes back
    to the pool once the zygote has reaped it (or, when that cannot be known, once the zygote
    itself is gone and took the child with it)."""

    def __init__(self, runner: ForkServerRunner, zygote: _Zygote, uid: int,
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

    def wait_exit(self) -> int:
        """Wait until the zygote has reaped the child (killing it after a short grace)."""
        if self.exit_code is None:
            self._close_input()
            try:
                message = self.events.get(timeout=1.0)
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
        return _cpu_seconds(self._host_pid) if self._host_pid is not None else None

    def demote(self) -> None:
        """Lowest CPU priority from now on (the zygote does it: the child may not)."""
        with contextlib.suppress(OSError):
            self.zygote.send({"op": "demote", "id": self.run_id})

    def converse(self, job: Job, deadline: float, result: RunResult, ticket: Ticket) -> bool:
        """Run cases from the first unanswered one, until done, killed or crashed. True when
        the job must be parked (the child is killed; its unanswered case runs again)."""
        conversation = _Conversation(self, job, deadline, result, ticket)
        conversation.run()
        return conversation.parked


class _Conversation:
    """The exchange with one child over its pipes, for one job."""

    def __init__(self, child: _Child, job: Job, deadline: float, result: RunResult,
                 ticket: Ticket) -> None:
        self.child = child
        self.ticket = ticket
        self.parked = False
        # what was printed before; a parked job's unanswered cases run again, printing again
        self.printed = (result.stdout, result.stderr, result.output_withheld)
        self.job = job
        self.limits = job.limits
        self.deadline = deadline
        self.result = result
        self.decoder = frames.Decoder(max_body=job.max_output_elements * 8 + 4096)
        self.selector = selectors.DefaultSelector()
        self.pending = bytearray()
        self.hidden_seen = False
        self.open_reads: set[int] = set()
        self.frames: list[tuple[dict[str, Any], bytes]] = []
        self.frame_error: str | None = None
        # Everything read from stdout and stderr in this run; past the budget the pipes are no
        # longer read, so a child that keeps writing blocks until its time is up.
        self.output_read = 0
        self.output_budget = _OUTPUT_BUDGET_FACTOR * self.limits.output_bytes
        # per stream, so that a character split across two reads is still one character
        self.text = {fd: codecs.getincrementaldecoder("utf-8")(errors="replace")
                     for fd in (child.stdout, child.stderr)}

    def run(self) -> None:
        child = self.child
        for fd in (child.stdout, child.stderr, child.results):
            self.selector.register(fd, selectors.EVENT_READ)
            self.open_reads.add(fd)
        try:
            crashed_at = self._converse()
            if crashed_at is not None:
                self._record_crash(crashed_at)
        finally:
            self.selector.close()

    def _converse(self) -> int | None:
        """Drive the child through the cases. Returns the index of a case it died on."""
        job = self.job
        load = {"type": "load", "entry": job.entry_point,
                "max_elements": job.max_output_elements,
                "cpu": int(self.limits.submission_seconds) + 1,
                "memory": self.limits.memory_mb << 20}
        first = len(self.result.cases)
        # The source and the visible cases go at once; hidden inputs only after every visible
        # answer (and everything printed before it) is in.
        sent = first
        while sent < len(job.cases) and not job.cases[sent].hidden:
            sent += 1
        self._queue(frames.encode(load, job.source.encode("utf-8", errors="replace"))
                    + b"".join(_case_frame(i, job.cases[i].args) for i in range(first, sent)))
        answer = self._next_frame(self._phase_deadline())
        if answer is PARKED:
            return None
        if answer is TIMEOUT:
            self.child.kill("timeout")
            _fill(self.result, job, CaseRun(
                kind="timeout",
                detail=f"the module did not finish loading within {self.limits.case_seconds:g} s",
            ))
            return None
        if answer is EOF:
            if self.frame_error is None:
                return -1
            self._garbage()
            return None
        assert isinstance(answer, tuple)
        header, _ = answer
        kind = header.get("type")
        if kind == "load_error":
            error = LearnerError.from_header(header.get("error"))
            self.result.load_error = error
            _fill(self.result, job, _error_run(error))
            return None
        if kind == "missing":
            found = header.get("found")
            found = found if isinstance(found, list) else []
            self.result.missing_entry = [redact(n)[:60] for n in found if isinstance(n, str)][:20]
            _fill(self.result, job, CaseRun(
                kind="error", detail=f"no function named {job.entry_point!r}"))
            return None
        if kind != "ready":
            self._garbage()
            return None
        for index in range(first, len(job.cases)):
            if index == sent:
                self._drain_output(self._phase_deadline())
                self.hidden_seen = True
                self._queue(b"".join(_case_frame(i, job.cases[i].args)
                                     for i in range(sent, len(job.cases))))
                sent = len(job.cases)
            started = time.monotonic()
            answer = self._next_frame(self._phase_deadline())
            seconds = time.monotonic() - started
            if answer is PARKED:
                return None
            if answer is TIMEOUT:
                self.child.kill("timeout")
                total_left = self.deadline - time.monotonic()
                limit = (f"the submission's total time limit of "
                         f"{self.limits.submission_seconds:g} s" if total_left <= 0
                         else f"the time limit of {self.limits.case_seconds:g} s")
                self.result.cases.append(CaseRun(
                    kind="timeout", detail=f"stopped after {seconds:.1f} s: {limit}",
                    seconds=seconds))
                return None
            if answer is EOF:
                if self.frame_error is not None:
                    self.child.kill("output_limit")
                    self.result.cases.append(CaseRun(
                        kind="invalid", detail=self.frame_error, seconds=seconds))
                    return None
                return index
            assert isinstance(answer, tuple)
            run = _case_run(answer, index, job.max_output_elements)
            # The child's own timing of the call, shown to the learner; the limits use ours.
            claimed, limit_s = answer[0].get("seconds"), self.limits.case_seconds
            run.seconds = claimed if type(claimed) is float and 0 <= claimed <= limit_s \
                else seconds
            self.result.cases.append(run)
            if run.kind == "crashed":
                self.child.kill("protocol")
                return None
        self._drain_output(self._phase_deadline())
        return None

    def _garbage(self) -> None:
        self.child.kill("protocol")
        _fill(self.result, self.job, CaseRun(
            kind="crashed", detail=_GARBAGE))

    def _record_crash(self, index: int) -> None:
        """The child died before answering: its exit status says how."""
        # A child that could not be confined never greeted, so never got here: whatever status
        # this one exited with, learner code chose or caused it.
        exit_code = self.child.wait_exit()
        self._drain_output(time.monotonic() + 1.0)  # the child is gone: only what is in the pipes
        if exit_code == -9:
            kind, detail = "memory_limit", "the process was killed, most likely for its memory use"
        elif exit_code == -24:
            kind, detail = "timeout", "the process used up its CPU time limit"
        elif exit_code < 0:
            kind = "crashed"
            detail = f"the process died of {_SIGNALS.get(-exit_code, f'signal {-exit_code}')}"
        else:
            kind = "crashed"
            detail = f"the process exited with status {exit_code} before returning a result"
        if index < 0:
            detail = f"while loading the module, {detail}"
            _fill(self.result, self.job, CaseRun(kind=kind, detail=detail))  # type: ignore[arg-type]
        else:
            self.result.cases.append(CaseRun(kind=kind, detail=detail))  # type: ignore[arg-type]

    # -- moving bytes -----------------------------------------------------------------------

    def _phase_deadline(self) -> float:
        return min(time.monotonic() + self.limits.case_seconds, self.deadline)

    def _queue(self, data: bytes) -> None:
        self.pending += data
        self._write_some()

    def _next_frame(self, deadline: float
                    ) -> tuple[dict[str, Any], bytes] | _Timeout | _Eof | _Parked:
        while not self.frames:
            if self.frame_error is not None or self.child.results not in self.open_reads:
                return EOF
            now = time.monotonic()
            left = deadline - now
            if left <= 0:
                return TIMEOUT
            if self.ticket.lane is Lane.FAST:
                if now >= self.ticket.fast_until:
                    budget = self.ticket.lanes.fast_seconds
                    used = self.child.cpu_seconds()
                    if used is not None and used < budget:  # slow to get the CPU, not a runaway
                        self.ticket.fast_until = now + max(budget - used, 0.005)
                        continue
                    if self.ticket.move_to_slow():
                        self.child.demote()
                    else:  # the slow lane is full: give the place back, try again later
                        self.child.kill("parked")
                        self.parked = True
                        result = self.result
                        result.stdout, result.stderr, result.output_withheld = self.printed
                        return PARKED
                    continue
                left = min(left, self.ticket.fast_until - now)
            self._pump(left)
        return self.frames.pop(0)

    def _pump(self, timeout: float) -> None:
        to_child = self.child.to_child
        wants_write = bool(self.pending) and to_child >= 0
        registered = self._registered(to_child)
        if wants_write and not registered:
            self.selector.register(to_child, selectors.EVENT_WRITE)
        elif registered and not wants_write:
            self.selector.unregister(to_child)
        for key, _ in self.selector.select(timeout):
            fd = int(key.fd)
            if fd == to_child:
                self._write_some()
            else:
                self._read_some(fd)

    def _registered(self, fd: int) -> bool:
        if fd < 0:
            return False
        try:
            self.selector.get_key(fd)
            return True
        except KeyError:
            return False

    def _write_some(self) -> None:
        if not self.pending or self.child.to_child < 0:
            return
        try:
            written = os.write(self.child.to_child, self.pending)
        except BlockingIOError:
            return
        except OSError:  # the child closed its end: it will not read the rest
            self.pending.clear()
            return
        del self.pending[:written]

    def _read_some(self, fd: int) -> bool:
        """Read what is there; False when nothing was (for now, or for good)."""
        try:
            data = os.read(fd, 1 << 16)
        except BlockingIOError:
            return False
        if not data:
            self.selector.unregister(fd)
            self.open_reads.discard(fd)
            return False
        if fd == self.child.results:
            if self.frame_error is not None:
                return True
            try:
                self.frames.extend(self.decoder.feed(data))
            except frames.FrameError as error:
                self.frame_error = f"the output could not be read: {error}"
        else:
            self.output_read += len(data)
            if self.output_read >= self.output_budget:
                self._stop_reading(self.child.stdout)
                self._stop_reading(self.child.stderr)
            self._keep_output(fd, data)
        return True

    def _stop_reading(self, fd: int) -> None:
        if fd in self.open_reads:
            self.selector.unregister(fd)
            self.open_reads.discard(fd)

    def _keep_output(self, fd: int, data: bytes) -> None:
        if self.hidden_seen:
            self.result.output_withheld = True
            return
        cap = self.limits.output_bytes
        kept = self.result.stdout if fd == self.child.stdout else self.result.stderr
        if len(kept) >= cap:
            return
        text = self.text[fd].decode(data)
        if fd == self.child.stdout:
            self.result.stdout = _capped(self.result.stdout, text, cap)
        else:
            self.result.stderr = _capped(self.result.stderr, text, cap)

    def _drain_output(self, deadline: float) -> None:
        """Read what the child printed so far (before any hidden input reaches it), within
        the run's deadline and its output budget."""
        for fd in (self.child.stdout, self.child.stderr):
            while (fd in self.open_reads and time.monotonic() < deadline
                   and self._read_some(fd)):
                pass


def _capped(existing: str, text: str, cap: int) -> str:
    if len(existing) >= cap:
        return existing
    return (existing + text)[:cap]


def _case_frame(index: int, args: tuple[np.ndarray, ...]) -> bytes:
    metas = []
    bodies = []
    for arg in args:
        arg = np.ascontiguousarray(arg)
        metas.append({"dtype": arg.dtype.str, "shape": list(arg.shape)})
        bodies.append(arg.tobytes())
    return frames.encode({"type": "case", "index": index, "args": metas}, b"".join(bodies))


def _case_run(frame: tuple[dict[str, Any], bytes], index: int, max_elements: int) -> CaseRun:
    """Turn a child's answer for case ``index`` into a CaseRun, trusting none of it."""
    header, body = frame
    kind = header.get("type")
    if header.get("index") != index:
        return CaseRun(kind="crashed",
                       detail=_GARBAGE)
    mutated = header.get("mutated") is True
    output_type = header.get("output_type")
    output_type = output_type[:60] if isinstance(output_type, str) else None
    if kind == "error":
        return _error_run(LearnerError.from_header(header.get("error")))
    if kind == "invalid":
        why = header.get("why")
        return CaseRun(kind="invalid", output_type=output_type, mutated=mutated,
                       detail=redact(why)[:200] if isinstance(why, str) else "unusable output")
    if kind == "result":
        try:
            output = frames.decode_array(header, body, max_elements)
        except (frames.FrameError, ValueError, TypeError, OverflowError) as error:
            return CaseRun(kind="invalid",
                           detail=redact(f"the output could not be read: {error}"))
        return CaseRun(kind="output", array=output, output_type=output_type, mutated=mutated)
    return CaseRun(kind="crashed", detail=_GARBAGE)
