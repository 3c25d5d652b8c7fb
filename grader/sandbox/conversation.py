"""The conversation with one child over its pipes, for one job:

    fd 0  grader -> child   the source, then each case's inputs, one at a time
    fd 1  child -> grader   stdout, capped
    fd 2  child -> grader   stderr, capped
    fd 3  child -> grader   one result frame per step, parsed as hostile input

The source goes first, then the visible cases' inputs (a job that makes its inputs late makes
them meanwhile, while the child loads the source); hidden inputs only after every visible
case was answered, so nothing printed before that can carry them; what any child of the run
prints after, and a later child's load error, is withheld. A run has one deadline and one
byte budget for everything the child writes, draining included. Each step (the loading, or a
case) has the limits of ``clocks``; the first reached stops it, and the verdict says which
(``CaseRun.limit`` and ``limit_value``). Every frame is parsed as a lie until proven
otherwise: what cannot be read is a verdict, never an exception in the grader.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import selectors
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeVar

from grader.sandbox import account, frames
from grader.sandbox.answers import case_frame, case_run, error_run, fill, unreadable
from grader.sandbox.base import (
    CaseRun,
    Cause,
    Invalid,
    Job,
    KillReason,
    LearnerError,
    Limit,
    RunResult,
    redact,
)
from grader.sandbox.child_process import Child, ThreadSched
from grader.sandbox.clocks import Clocks, WaitClock
from grader.sandbox.lanes import Lane, Meter, Ticket


class _Stop(Enum):
    """Why no frame came: a limit was reached, the channel ended, or the job was parked."""

    TIMEOUT = "timeout"
    EOF = "eof"
    PARKED = "parked"


@dataclass(frozen=True)
class _Ready:  # the child has loaded the source; the cases from first to sent were sent
    first: int
    sent: int


TIMEOUT, EOF, PARKED = _Stop.TIMEOUT, _Stop.EOF, _Stop.PARKED
_T = TypeVar("_T")


_UTF8 = codecs.getincrementaldecoder("utf-8")
# How much a run's stdout and stderr may write in all, as a multiple of what is kept of them.
_OUTPUT_BUDGET_FACTOR = 64
# A read of stdout or stderr that gave less than this leaves that pipe unwatched for _REST
# seconds: a child that writes a byte at a time wakes the grader at most 1/_REST times a
# second, not once per write (its writes wait in the pipe, or block it once the pipe is full).
_SMALL_READ = 4096
_REST = 0.005
# The result channel is rested likewise once this many small reads in a row completed no
# frame: an honest frame comes in one or two writes, a trickled one (a byte a write, in the
# pipe's packet mode each its own read) would wake the grader once per byte.
_PARTIAL_READS = 8


class Conversation:
    """The exchange with one child over its pipes, for one job."""

    def __init__(self, child: Child, job: Job, deadline: float, result: RunResult,
                 ticket: Ticket, excusable: float) -> None:
        """``deadline``: when the run's time is up; ``excusable``: how far the child's waits
        for a CPU may still move it (see ``clocks``)."""
        self.child = child
        self.account = account.current()  # the benchmark's and the metrics' figures
        self.cpu_ready: float | None = None  # the child's CPU time once the source is loaded
        self.claimed = 0.0  # the child's own timing of the learner's calls
        self.ticket = ticket
        self.parked = False
        self.own_sched = ThreadSched()
        self.meter = Meter(ticket, child.sched, self.own_sched)
        # when the fast-lane budget is next looked at: when it would be spent, at the earliest
        self.check_at = time.monotonic() + max(ticket.budget - ticket.charged, 0.0)
        # the CPU time the child had used when its last answer came in; None until then
        self.cpu_at_last_answer: float | None = None
        # what was printed before; a parked job's unanswered cases run again, printing again
        self.printed = (result.stdout, result.stderr, result.output_withheld)
        self.job = job
        self.limits = job.limits
        self.clocks = Clocks(job.limits, deadline, child.cpu_seconds,
                             WaitClock(child.sched, self.own_sched), excusable)
        self.result = result
        # No answer has a body before the child has its cases: ``_load`` sets the bound then.
        self.decoder = frames.Decoder(max_body=0)
        self.selector = selectors.DefaultSelector()
        self.pending = bytearray()
        self.open_reads: set[int] = set()
        self.writing: int | None = None  # the child's input, while it is watched for writing
        self.resting: dict[int, float] = {}  # an output pipe -> when it is watched again
        self.frames: list[tuple[dict[str, Any], bytes]] = []
        self.partial_reads = 0  # small reads of the result channel since a frame completed
        self.frame_error: dict[str, str | int] | None = None  # an UNREADABLE output's facts
        # Everything read from stdout and stderr in this run; past the budget the pipes are no
        # longer read, so a child that keeps writing blocks until its time is up.
        self.output_read = 0
        self.output_budget = _OUTPUT_BUDGET_FACTOR * self.limits.output_bytes
        self.stopped_by: tuple[Limit, float] = (Limit.TOTAL_TIME, self.limits.submission_seconds)
        # per stream, so that a character split across two reads is still one character
        # (made when the stream first has something to keep: most runs print nothing)
        self.text: dict[int, codecs.IncrementalDecoder] = {}

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
            self.meter.stop()
            self.own_sched.close()
            self.selector.close()
        if self.cpu_at_last_answer is not None and self.child.killed is None:
            # Nothing of it runs past its last answer: an honest harness is already blocked,
            # waiting for input that will not come; one that computes on is caught at it.
            cap = max(min(self.limits.case_seconds, self.clocks.deadline - time.monotonic()), 0.0)
            if self.child.kept_computing(self.cpu_at_last_answer, cap):
                self.child.kill(KillReason.KEPT_RUNNING)
                self.result.kept_running = True

    def _converse(self) -> int | None:
        """Drive the child through the cases. Returns the index of a case it died on."""
        loaded = self._load()
        return self._answers(loaded.first, loaded.sent) if isinstance(loaded, _Ready) else loaded

    def _load(self) -> int | None | _Ready:
        """Send the source, then the first cases; ``_Ready`` once the child has loaded the
        source, else what ``_converse`` returns."""
        job = self.job
        load = {"type": "load", "entry": job.entry_point,
                "cpu": self.limits.process_cpu_seconds,
                "memory": self.limits.memory_mb << 20}
        self._queue(frames.encode(load, job.source.encode("utf-8", errors="replace")))
        self.clocks.begin_step()
        # A pipe's write wakes the child as if this thread would block next: it is queued here
        # (SCHED_BATCH never preempts); a yield lets it load while the inputs are made.
        os.sched_yield()
        first = len(self.result.cases)
        cases, most = self._own(lambda: (job.cases, job.max_output_elements))
        self.decoder.max_body = most * 8 + 4096
        sent = first  # the visible cases now; hidden ones once every visible answer is in
        while sent < len(cases) and not cases[sent].hidden:
            sent += 1
        self._queue(b"".join(case_frame(i, cases[i].args, most) for i in range(first, sent)))
        self.meter.start()
        answer = self._next_frame()
        if answer is PARKED:
            return None
        if answer is TIMEOUT:
            self.child.kill(KillReason.TIMEOUT)
            limit, limit_value = self.stopped_by
            fill(self.result, job, CaseRun(kind="timeout", limit=limit, limit_value=limit_value,
                                           loading=True, waited=self.clocks.waited(limit)))
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
            if not self.result.hidden_sent:  # else a later child's: a hidden case's error
                self.result.load_error = error
            fill(self.result, job, error_run(error))
            return None
        if kind == "missing":
            found = header.get("found")
            found = found if isinstance(found, list) else []
            if not self.result.hidden_sent:  # else a later child's: a hidden case's error
                self.result.missing_entry = [redact(n)[:60] for n in found
                                             if isinstance(n, str)][:20]
            fill(self.result, job, CaseRun(kind="error", cause=Cause.MISSING_ENTRY))
            return None
        if kind != "ready":
            self._garbage()
            return None
        if self.account is not None:
            self.cpu_ready = self.child.cpu_seconds()
        return _Ready(first, sent)

    def _answers(self, first: int, sent: int) -> int | None:
        """Each case's answer, hidden inputs sent once the visible ones are in."""
        job = self.job
        answered: tuple[int, CaseRun] | None = None  # handed to the job once the next is asked
        for index in range(first, len(job.cases)):
            if index == sent:  # the grader's own turn: not charged to the child
                self.meter.stop()
                self._drain_output(self.clocks.step_limit())
                self.result.hidden_sent = True
                self._queue(b"".join(case_frame(i, job.cases[i].args, job.max_output_elements)
                                     for i in range(sent, len(job.cases))))
                sent = len(job.cases)
                self.meter.start()
            self.clocks.begin_step()
            if answered is not None and job.answered is not None:
                self._own(job.answered, *answered)  # while the child computes this case
            answer = self._next_frame()
            seconds = time.monotonic() - self.clocks.step_started
            if answer is PARKED:
                return None
            if answer is TIMEOUT:
                self.child.kill(KillReason.TIMEOUT)
                limit, limit_value = self.stopped_by
                self.result.cases.append(CaseRun(
                    kind="timeout", limit=limit, limit_value=limit_value, seconds=seconds,
                    waited=self.clocks.waited(limit)))
                return None
            if answer is EOF:
                if self.frame_error is not None:
                    self.child.kill(KillReason.OUTPUT_LIMIT)
                    self.result.cases.append(CaseRun(
                        kind="invalid", invalid=Invalid.UNREADABLE,
                        params=self.frame_error, seconds=seconds))
                    return None
                return index
            assert isinstance(answer, tuple)
            run = case_run(answer, index, job.max_output_elements)
            # The child's own timing of the call, shown to the learner; the limits use ours.
            claimed, limit_s = answer[0].get("seconds"), self.limits.case_seconds
            run.seconds = claimed if type(claimed) is float and 0 <= claimed <= limit_s \
                else seconds
            self.claimed += run.seconds
            self.result.cases.append(run)
            answered = (index, run)
            if run.kind == "crashed":
                self.child.kill(KillReason.PROTOCOL)
                return None
        self.cpu_at_last_answer = self.child.cpu_seconds()
        if self.account is not None:
            account.charge_child(self.account, self.child.start_cpu, self.cpu_ready,
                                 self.cpu_at_last_answer, self.claimed)
        self.meter.stop()
        if answered is not None and job.answered is not None:
            self._own(job.answered, *answered)  # while it blocks, as an honest harness does
        self._drain_output(self.clocks.step_limit())
        return None

    def _own(self, work: Callable[..., _T], *args: Any) -> _T:
        """The grader's own work while a step of the child's is timed: it moves the step's
        and the run's wall-clock limits by the time it takes (the child's CPU time counts)."""
        began = time.monotonic()
        try:
            return work(*args)
        finally:
            self.clocks.move(time.monotonic() - began)

    def _garbage(self) -> None:
        self.child.kill(KillReason.PROTOCOL)
        fill(self.result, self.job, CaseRun(kind="crashed", cause=Cause.PROTOCOL))

    def _record_crash(self, index: int) -> None:
        """The child died before answering: its exit status says how."""
        # A child that could not be confined never greeted, so never got here: whatever status
        # this one exited with, learner code chose or caused it.
        # On the clock: its channel is closed, so it is ending or lingering; a short grace.
        exit_code = self.child.wait_exit(grace=0.25)
        self._drain_output(time.monotonic() + 1.0)  # the child is gone: only what is in the pipes
        if exit_code == -9 and self.child.killed == "lingering":
            # it closed its channel and went on, until the grader killed it: not its memory
            run = CaseRun(kind="crashed", cause=Cause.SILENT)
        elif exit_code == -9:
            run = CaseRun(kind="memory_limit", limit=Limit.MEMORY, signal=9)
        elif exit_code == -24 and self._cpu_limit_reached():
            run = CaseRun(kind="timeout", limit=Limit.CPU, signal=24,
                          limit_value=self.limits.process_cpu_seconds)
        elif exit_code < 0:
            run = CaseRun(kind="crashed", signal=-exit_code)
        else:
            run = CaseRun(kind="crashed", exit_status=exit_code)
        if index < 0:
            run.loading = True
            fill(self.result, self.job, run)
        else:
            self.result.cases.append(run)

    def _cpu_limit_reached(self) -> bool:
        """Whether a child ended by SIGXCPU had used its CPU time (the kernel's limit), or sent
        the signal itself, having used a fraction of it: then it is a crash of its own making.
        When its CPU time is unknown, the limit is taken as the cause."""
        used = self.child.exit_cpu
        return used is None or used >= 0.9 * self.limits.process_cpu_seconds

    # -- moving bytes -----------------------------------------------------------------------

    def _queue(self, data: bytes) -> None:
        self.pending += data
        self._write_some()

    def _next_frame(self) -> tuple[dict[str, Any], bytes] | _Stop:
        while not self.frames:
            if self.frame_error is not None or self.child.results not in self.open_reads:
                return EOF
            now = time.monotonic()
            reached = self.clocks.reached(now)
            if reached is not None:
                self.stopped_by = reached
                return TIMEOUT
            left = self.clocks.next_limit() - now
            if self.ticket.lane is Lane.FAST:
                if now >= self.check_at:
                    left_fast = self.ticket.budget - self.meter.charged()
                    if left_fast > 0:  # e.g. it waited for the CPU: not charged for that
                        self.check_at = now + max(left_fast, 0.002)
                        continue
                    if self.ticket.move_to_slow():
                        self.child.demote()
                    else:  # the slow lane is full: give the place back, try again later
                        self.child.kill(KillReason.PARKED)
                        self.parked = True
                        result = self.result
                        result.stdout, result.stderr, result.output_withheld = self.printed
                        return PARKED
                    continue
                left = min(left, self.check_at - now)
            self._pump(left)
        return self.frames.pop(0)

    def _pump(self, timeout: float) -> None:
        if self.resting:
            now = time.monotonic()
            for fd, until in list(self.resting.items()):
                if until <= now:
                    del self.resting[fd]
                    self.selector.register(fd, selectors.EVENT_READ)
            if self.resting:
                timeout = min(timeout, min(self.resting.values()) - now)
        to_child = self.child.to_child
        wants_write = bool(self.pending) and to_child >= 0
        registered = self.writing
        if wants_write and not registered:
            self.selector.register(to_child, selectors.EVENT_WRITE)
            self.writing = to_child
        elif registered is not None and not wants_write:
            self._stop_writing()
        for key, _ in self.selector.select(timeout):
            fd = int(key.fd)
            if fd == to_child:
                self._write_some()
            else:
                self._read_some(fd)

    def _stop_writing(self) -> None:
        """The child's input is no longer watched (nothing is left to send, or it is closed)."""
        fd, self.writing = self.writing, None
        if fd is not None:
            with contextlib.suppress(KeyError, ValueError, OSError):  # closed since: unwatched
                self.selector.unregister(fd)

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
            self._stop_reading(fd)
            return False
        if fd == self.child.results:
            if self.frame_error is None:
                self._feed_frames(data)
        else:
            self.output_read += len(data)
            if self.output_read >= self.output_budget:
                self._stop_reading(self.child.stdout)
                self._stop_reading(self.child.stderr)
            elif len(data) < _SMALL_READ:
                self._rest(fd)
            self._keep_output(fd, data)
        return True

    def _feed_frames(self, data: bytes) -> None:
        """Bytes of the result channel: the frames they complete, or the fault that stops it."""
        before = len(self.frames)
        try:
            self.frames.extend(self.decoder.feed(data))
        except frames.FrameError as error:
            self.frame_error = unreadable(error)
            return
        if len(self.frames) > before:
            self.partial_reads = 0
        elif len(data) < _SMALL_READ:
            self.partial_reads += 1
            if self.partial_reads > _PARTIAL_READS:
                self._rest(self.child.results)

    def _rest(self, fd: int) -> None:
        if fd not in self.resting:  # a pipe that gave little is unwatched for _REST seconds
            self.selector.unregister(fd)
            self.resting[fd] = time.monotonic() + _REST

    def _stop_reading(self, fd: int) -> None:
        if fd in self.open_reads:
            if self.resting.pop(fd, None) is None:
                self.selector.unregister(fd)
            self.open_reads.discard(fd)

    def _keep_output(self, fd: int, data: bytes) -> None:
        if self.result.hidden_sent:
            self.result.output_withheld = True
            return
        cap = self.limits.output_bytes
        kept = self.result.stdout if fd == self.child.stdout else self.result.stderr
        if len(kept) >= cap:
            return
        decoder = self.text.get(fd)
        if decoder is None:
            decoder = self.text[fd] = _UTF8(errors="replace")
        text = decoder.decode(data)
        if fd == self.child.stdout:
            self.result.stdout = (kept + text)[:cap]
        else:
            self.result.stderr = (kept + text)[:cap]

    def _drain_output(self, deadline: float) -> None:
        """Read what the child printed so far (before any hidden input reaches it), within
        the run's deadline and its output budget."""
        for fd in (self.child.stdout, self.child.stderr):
            while (fd in self.open_reads and time.monotonic() < deadline
                   and self._read_some(fd)):
                pass
