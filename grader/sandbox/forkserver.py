"""The grader's side of the sandbox: a warm zygote, and one conversation per child.

The grader process never forks (it has threads). It starts the zygote once, hands it four
pipes per run through SCM_RIGHTS, and then talks to the child directly over those pipes:

    fd 0  grader -> child   the source, then each case's inputs, one at a time
    fd 1  child -> grader   stdout, capped
    fd 2  child -> grader   stderr, capped
    fd 3  child -> grader   one result frame per step, parsed as hostile input

The source and the visible cases' inputs go at once; hidden inputs only after every visible
case was answered, so nothing printed before that can carry them, and what is printed after is
withheld. Wall-clock limits are the grader's: on expiry it asks the zygote to SIGKILL the
child's process group. Every child is reaped (in the background, once its run is over) before
its uid and scratch folder are used again. A case that times out or crashes is recorded and the
next case runs in a fresh child, while the submission's total time lasts.
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
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from grader.sandbox import frames
from grader.sandbox.base import CaseRun, Job, LearnerError, RunResult, SandboxError

log = logging.getLogger("grader.sandbox")

SCRATCH_PREFIX = "grader-scratch-"


def _process_start(pid: int) -> str | None:
    """When a live process started (clock ticks since boot), or None if there is no such
    process. With the pid, it names one process even across pid reuse."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[19].decode()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None


def scratch_name(pid: int) -> str:
    """The prefix of the scratch folder of a runner in process ``pid``."""
    return f"{SCRATCH_PREFIX}{pid}-{_process_start(pid)}-"


def sweep_stale_scratch(parent: Path) -> list[Path]:
    """Remove from ``parent`` the scratch folders of runners whose process is gone.

    A grader killed with SIGKILL cannot remove its own; a folder is kept while the process
    that made it (the same pid, started at the same time) is alive."""
    removed = []
    for entry in parent.glob(f"{SCRATCH_PREFIX}*-*-*"):
        pid, _, rest = entry.name[len(SCRATCH_PREFIX):].partition("-")
        started = rest.partition("-")[0]
        if not pid.isdigit() or entry.is_symlink() or not entry.is_dir():
            continue
        if _process_start(int(pid)) == started:
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    return removed

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


class _Timeout:
    pass


class _Eof:
    pass


TIMEOUT = _Timeout()
EOF = _Eof()


@dataclass
class Layers:
    """What the zygote reported it can apply, and why anything is skipped."""

    uid_drop: bool
    landlock_abi: int
    seccomp: bool
    namespaces: list[str]
    skipped: dict[str, str]

    @property
    def safe(self) -> bool:
        return self.uid_drop or self.landlock_abi > 0

    def summary(self) -> dict[str, Any]:
        return {
            "uid_drop": self.uid_drop,
            "landlock_abi": self.landlock_abi,
            "seccomp": self.seccomp,
            "namespaces": self.namespaces,
            "rlimits": True,
            "skipped": self.skipped,
        }


class _Zygote:
    """The zygote process and the thread that routes its messages to waiting runs."""

    def __init__(self, python: str, cwd: str, start_timeout: float) -> None:
        self._stderr_reader: threading.Thread | None = None
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock = ours
        self.process = subprocess.Popen(
            [python, "-I", "-m", "grader.sandbox.zygote", "--ctrl-fd", str(theirs.fileno())],
            pass_fds=[theirs.fileno()],
            env=_SCRUBBED_ENV,
            cwd=cwd,
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
            namespaces=list(layers["namespaces"]),
            skipped=dict(hello["skipped"]),
        )
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
    own (when the grader runs as root), drawn from a pool and returned once it is reaped.
    Children's scratch folders live in one folder of the runner's own, made in ``scratch_dir``
    (the temp dir by default) and removed on close, or by the next runner there if this
    process is killed.
    """

    def __init__(
        self,
        *,
        slots: int | None = None,
        base_uid: int = 61000,
        scratch_dir: Path | None = None,
        python: str | None = None,
        start_timeout: float = 30.0,
    ) -> None:
        self.slots = slots or os.cpu_count() or 1
        self.base_uid = base_uid
        parent = Path(scratch_dir or tempfile.gettempdir())
        parent.mkdir(parents=True, exist_ok=True)
        stale = sweep_stale_scratch(parent)
        if stale:
            log.warning("removed %d scratch folder(s) left in %s by graders that are gone",
                        len(stale), parent)
        self.scratch_root = Path(tempfile.mkdtemp(prefix=scratch_name(os.getpid()), dir=parent))
        os.chmod(self.scratch_root, 0o711)
        self.python = python or sys.executable
        self.start_timeout = start_timeout
        self._concurrency = threading.BoundedSemaphore(self.slots)
        self.ahead = 2 * self.slots  # children kept forked and confined, ready for a job
        self._spawning = 0
        self._spawning_lock = threading.Lock()
        # A uid for every child that can be alive at once: ready, running, being reaped.
        self.uid_range = range(base_uid, base_uid + self.ahead + 3 * self.slots)
        self._uids: queue.Queue[int] = queue.Queue()
        for uid in self.uid_range:
            self._uids.put(uid)
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
        self._ensure_zygote()
        for _ in range(self.ahead):
            self._submit(self._refill)

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
                    self._zygote.stop()
                    log.warning("sandbox zygote died; starting a new one")
                self._zygote = _Zygote(self.python, str(self.scratch_root), self.start_timeout)
                layers = self._zygote.layers
                log.info("sandbox layers: %s", json.dumps(layers.summary()))
                if not layers.safe:
                    log.error("sandbox refuses to grade: "
                              "neither a uid drop nor Landlock is available")
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
        with self._zygote_lock:
            if self._zygote is not None:
                self._zygote.stop()
                self._zygote = None
        shutil.rmtree(self.scratch_root, ignore_errors=True)

    # -- children ahead of need -------------------------------------------------------------

    def _spawn(self) -> _Child:
        zygote = self._ensure_zygote()
        try:
            uid = self._uids.get(timeout=30)
        except queue.Empty:
            raise SandboxError("no sandbox uid came free in 30 s") from None
        try:
            return _Child(self, zygote, uid)
        except BaseException:
            self._uids.put(uid)
            raise

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

    def _take(self) -> _Child:
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

    def _release(self, uid: int) -> None:
        self._uids.put(uid)

    def _count_kill(self, reason: str) -> None:
        with self._kills_lock:
            self.kills[reason] = self.kills.get(reason, 0) + 1

    # -- running a job ----------------------------------------------------------------------

    def run(self, job: Job) -> RunResult:
        zygote = self._ensure_zygote()
        if not zygote.layers.safe:
            raise SandboxError(
                "refusing to grade: neither a uid drop (run as root) nor Landlock is available"
            )
        result = RunResult(cases=[])
        deadline = time.monotonic() + job.limits.submission_seconds
        with self._concurrency:
            while len(result.cases) < len(job.cases):
                if time.monotonic() >= deadline:
                    _fill(result, job, CaseRun(
                        kind="timeout",
                        detail=f"not run: the submission's total time limit of "
                        f"{job.limits.submission_seconds:g} s was used up",
                    ))
                    break
                child = self._take()
                try:
                    child.converse(job, deadline, result)
                finally:
                    self._submit(self._retire, child)
        return result


_GARBAGE = "the submission wrote garbage to the grader's channel"


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
    """One confined child: forked ahead, then given one job's source and its cases in turn."""

    def __init__(self, runner: ForkServerRunner, zygote: _Zygote, uid: int) -> None:
        self.runner = runner
        self.zygote = zygote
        self.uid = uid
        self.run_id = uuid.uuid4().hex
        self.exit_code: int | None = None
        self.killed: str | None = None
        self._finish_lock = threading.Lock()
        self._finished = False
        self.scratch = tempfile.mkdtemp(prefix="run-", dir=runner.scratch_root)
        if os.geteuid() == 0:
            os.chown(self.scratch, uid, uid)
        pipes = [os.pipe() for _ in range(4)]
        child_ends = [pipes[0][0], pipes[1][1], pipes[2][1], pipes[3][1]]
        self.to_child = pipes[0][1]
        self.stdout, self.stderr, self.results = pipes[1][0], pipes[2][0], pipes[3][0]
        self.events = zygote.open(self.run_id)
        try:
            zygote.send(
                {"op": "run", "id": self.run_id, "scratch": self.scratch, "uid": uid,
                 "gid": uid, "cpu": _MAX_CPU_SECONDS, "memory": _MAX_MEMORY_MB << 20},
                child_ends,
            )
        except OSError as error:
            self._close_fds()
            raise SandboxError(f"the sandbox zygote did not take a run: {error}") from None
        finally:
            for fd in child_ends:
                os.close(fd)
        try:
            message = self._event(10.0)
        except SandboxError:
            self._close_fds()
            raise
        if message.get("op") != "started":
            self._close_fds()
            raise SandboxError("the sandbox zygote did not start a child")
        try:
            self._await_warm()
        except SandboxError:
            self.kill("unconfined")
            self.finish()
            raise
        for fd in (self.stdout, self.stderr, self.results, self.to_child):
            os.set_blocking(fd, False)

    def _await_warm(self) -> None:
        """The child says it is confined and warm before it is handed any job."""
        expected = frames.encode({"type": "warm"})
        got = b""
        end = time.monotonic() + 10.0
        while len(got) < len(expected):
            left = end - time.monotonic()
            if left <= 0 or not select.select([self.results], [], [], left)[0]:
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
                try:
                    message = self.events.get(timeout=1.0)
                except queue.Empty:
                    self.kill("lingering")
                    message = self._event(10.0)
                if message.get("op") == "zygote_died":
                    raise SandboxError("the sandbox zygote died")
            except SandboxError:
                self.exit_code = -9
                raise
            self.exit_code = int(message.get("code", -9))
        return self.exit_code

    def finish(self) -> None:
        """Make sure the child is gone and reaped; free its fds, scratch and uid."""
        with self._finish_lock:
            if self._finished:
                return
            self._finished = True
            try:
                self.wait_exit()
            finally:
                self.zygote.forget(self.run_id)
                self._close_fds()
                shutil.rmtree(self.scratch, ignore_errors=True)
                self.runner._release(self.uid)

    def _close_input(self) -> None:
        if self.to_child >= 0:
            os.close(self.to_child)
            self.to_child = -1

    def _close_fds(self) -> None:
        self._close_input()
        for fd in (self.stdout, self.stderr, self.results):
            with contextlib.suppress(OSError):
                os.close(fd)

    def converse(self, job: Job, deadline: float, result: RunResult) -> None:
        """Run cases from the first unanswered one, until done, killed or crashed."""
        _Conversation(self, job, deadline, result).run()


class _Conversation:
    """The exchange with one child over its pipes, for one job."""

    def __init__(self, child: _Child, job: Job, deadline: float, result: RunResult) -> None:
        self.child = child
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
            self.result.missing_entry = [n[:60] for n in found if isinstance(n, str)][:20]
            _fill(self.result, job, CaseRun(
                kind="error", detail=f"no function named {job.entry_point!r}"))
            return None
        if kind != "ready":
            self._garbage()
            return None
        for index in range(first, len(job.cases)):
            if index == sent:
                self._drain_output()
                self.hidden_seen = True
                self._queue(b"".join(_case_frame(i, job.cases[i].args)
                                     for i in range(sent, len(job.cases))))
                sent = len(job.cases)
            started = time.monotonic()
            answer = self._next_frame(self._phase_deadline())
            seconds = time.monotonic() - started
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
        self._drain_output()
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
        self._drain_output()
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

    def _next_frame(self, deadline: float) -> tuple[dict[str, Any], bytes] | _Timeout | _Eof:
        while not self.frames:
            if self.frame_error is not None or self.child.results not in self.open_reads:
                return EOF
            left = deadline - time.monotonic()
            if left <= 0:
                return TIMEOUT
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
            self._keep_output(fd, data)
        return True

    def _keep_output(self, fd: int, data: bytes) -> None:
        if self.hidden_seen:
            self.result.output_withheld = True
            return
        text = self.text[fd].decode(data)
        cap = self.limits.output_bytes
        if fd == self.child.stdout:
            self.result.stdout = _capped(self.result.stdout, text, cap)
        else:
            self.result.stderr = _capped(self.result.stderr, text, cap)

    def _drain_output(self) -> None:
        """Read what the child printed so far (before any hidden input reaches it)."""
        for fd in (self.child.stdout, self.child.stderr):
            while fd in self.open_reads and self._read_some(fd):
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
                       detail=why[:200] if isinstance(why, str) else "unusable output")
    if kind == "result":
        try:
            output = frames.decode_array(header, body, max_elements)
        except frames.FrameError as error:
            return CaseRun(kind="invalid", detail=f"the output could not be read: {error}")
        return CaseRun(kind="output", array=output, output_type=output_type, mutated=mutated)
    return CaseRun(kind="crashed", detail=_GARBAGE)
