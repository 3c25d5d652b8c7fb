"""The fork-server runner: a warm zygote, children forked ahead of need, and the lanes.

The grader process never forks (it has threads). It starts the zygote once (``zygote_link``),
has it fork children ahead of need (``child_process``), hands each job to one and talks to it
over its pipes (``conversation``). Wall-clock limits are the grader's: on expiry it asks the
zygote to SIGKILL the child's process group. A case that times out or crashes is recorded and
the next case runs in a fresh child, while the submission's total time lasts.

Nothing outlives its run: when a run ends, for whatever reason, its child's process group is
killed at once. A child that ended its run as it should (blocked, waiting for input that will
not come) is reaped by the zygote while the grader goes on; any other (killed for a limit, for
garbage, for computing past its last answer, parked, or dead) is reaped before its place is
given back. A uid is used again only once its child is reaped; a job that finds none free waits
for one.

The runner refuses to grade (``SandboxUnavailable``) when a required layer cannot be built or
its start-up self-test fails; it never runs learner code with less.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from grader.sandbox import account
from grader.sandbox.account import Stage, stage
from grader.sandbox.answers import fill
from grader.sandbox.base import (
    NOBODY,
    CaseRun,
    Cause,
    Job,
    Kind,
    Limit,
    Owner,
    RunResult,
    SandboxError,
    SandboxUnavailable,
)
from grader.sandbox.child_process import Child
from grader.sandbox.clocks import WAIT_FACTOR
from grader.sandbox.conversation import Conversation
from grader.sandbox.lanes import Lane, Lanes, Ticket
from grader.sandbox.uids import UidClaim
from grader.sandbox.zygote_link import Layers, ZygoteLink, cpu_time_readable

log = logging.getLogger("grader.sandbox")

# How long a parked job waits for a place in the slow lane, as a multiple of its submission's
# time limit, before its grading fails (a grader fault: the slow lane stayed full).
PARK_FACTOR = 5.0
# How long closing waits for the zygote to reap the children killed at their runs' end, before
# it stops the zygote (which takes any child still there with it).
CLOSE_REAP_SECONDS = 5.0


class ForkServerRunner:
    """Runs jobs in children forked from a warm zygote, ``slots`` at a time.

    A few children are kept forked and confined ahead of need, each waiting for its source on
    fd 0; a child whose run is over is killed at once. Each live child has a uid of its own
    (when the grader runs as root), drawn from a block of uids this runner claimed for itself
    (see ``uids``) and returned once it is reaped.

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
        self._local = threading.local()  # the ticket of a fast_place held by this thread
        self.python = python or sys.executable
        self.start_timeout = start_timeout
        self.without = without
        self.ahead = 2 * self.slots  # children kept forked and confined, ready for a job
        self._spawning = 0
        self._spawning_lock = threading.Lock()
        self._warm: queue.Queue[Child] = queue.Queue()
        self._background = ThreadPoolExecutor(max_workers=self.slots + 1,
                                              thread_name_prefix="sandbox")
        self._closed = False
        self._in_flight: set[Future[None]] = set()
        self._in_flight_lock = threading.Lock()
        self._zygote_lock = threading.Lock()
        self._zygote: ZygoteLink | None = None
        self._kills_lock = threading.Lock()
        self.kills: dict[str, int] = {}
        self._dying = 0  # children killed at the end of their run, not yet reaped
        self._dying_lock = threading.Condition()
        self.waiting_for_uid = 0  # jobs waiting for a uid to be given back
        self.refusal: str | None = None
        # told each child's CPU time after its last answer, once it is reaped (the metrics)
        self.cpu_observer: Callable[[Stage, float], None] | None = None
        # told each child's page faults over its whole life, once it is reaped (the metrics)
        self.fault_observer: Callable[[int], None] | None = None
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
            if not cpu_time_readable(self._ensure_zygote()):
                log.warning("the CPU time of sandbox children cannot be read here: the fast "
                            "lane's budget is measured in wall-clock time instead")
        except BaseException:
            self.close()
            raise
        if self.refusal is not None:
            log.error("the sandbox refuses to grade: %s", self.refusal)
            return
        for _ in range(self.ahead):
            self._submit(self._refill)

    @contextlib.contextmanager
    def fast_place(self, low: bool = False, freed: Callable[[], None] | None = None,
                   kind: Kind | None = None, owner: Owner = NOBODY) -> Iterator[None]:
        """Hold a place in the fast lane around more than the run (the whole grading of a
        submission: its reference outputs, the run, the comparison), so that no more
        submissions than slots are worked on at once; the runs in this thread use it and its
        one budget, and may still move it to the slow lane. ``kind``: what the grading is for
        (``low``: a regrade); a background kind is served only when no submission waits.
        ``freed``: called when the job gives its fast place back. ``owner``: whose grading it
        is (a token and its learner): they take turns at the fast lane's places."""
        kind = kind or (Kind.REGRADE if low else Kind.SUBMISSION)
        ticket = self.lanes.ticket(freed, background=kind.background, owner=owner)
        ticket.enter()
        self._local.ticket = ticket
        try:
            yield
        finally:
            del self._local.ticket
            ticket.leave()

    def _stop_zygote(self, zygote: ZygoteLink) -> None:
        zygote.stop()
        if "pid" in zygote.layers.namespaces:  # its children died with it
            for uid in zygote.orphaned_uids:
                self._uids.put(uid)
            zygote.orphaned_uids.clear()

    def _self_test(self) -> None:
        from grader.sandbox.selftest import self_test

        result = self_test(self._run, scratch=self.layers.scratch)
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
            with self._dying_lock:
                self._dying_lock.wait_for(lambda: self._dying == 0,
                                          max(end - time.monotonic(), 0))
            with self._in_flight_lock:
                pending = list(self._in_flight)
            if not pending and self._dying == 0:
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

    def _ensure_zygote(self) -> ZygoteLink:
        with self._zygote_lock:
            if self._closed:
                raise SandboxError("the sandbox is closed")
            if self._zygote is None or not self._zygote.alive:
                if self._zygote is not None:
                    self._stop_zygote(self._zygote)
                    log.warning("sandbox zygote died; starting a new one")
                self._zygote = ZygoteLink(self.python, self.start_timeout, self.without)
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
        with self._dying_lock:  # the children killed at their runs' end, reaped by the zygote
            self._dying_lock.wait_for(lambda: self._dying == 0, CLOSE_REAP_SECONDS)
        with self._zygote_lock:
            if self._zygote is not None:
                self._stop_zygote(self._zygote)
                self._zygote = None
        if self._claim is not None:
            self._claim.release()

    # -- children ahead of need -------------------------------------------------------------

    def _spawn(self, scratch: tuple[int, int] | None = None, wait: bool = True,
               warm: bool = False) -> Child:
        """Fork a confined child; ``wait``: for a uid to come free, when none is; ``warm``:
        let it warm up before it greets (see ``_refill``)."""
        zygote = self._ensure_zygote()
        if wait:
            uid = self._free_uid()
        else:
            try:
                uid = self._uids.get_nowait()
            except queue.Empty:
                raise SandboxError("no sandbox uid is free") from None
        # gives the uid back itself if it fails
        return Child(zygote, uid, scratch, count_kill=self._count_kill, release=self._release,
                     on_exit_cpu=self._exit_cpu, warm=warm)

    def _exit_cpu(self, seconds: float, faults: int) -> None:
        observer, fault_observer = self.cpu_observer, self.fault_observer
        if observer is not None:
            observer(Stage.EXIT, seconds)
        if fault_observer is not None:
            fault_observer(faults)

    def _free_uid(self) -> int:
        """A uid nobody's process has; when none is free, wait until one is given back. Every
        child gives its uid back once reaped, and every child is killed when its run ends, so
        the wait is short (the pool has a uid for every child that can be alive at once)."""
        try:
            return self._uids.get_nowait()
        except queue.Empty:
            pass
        with self._dying_lock:
            self.waiting_for_uid += 1
        try:
            warn_at = time.monotonic() + 30.0
            while True:
                try:
                    return self._uids.get(timeout=1.0)
                except queue.Empty:
                    if self._closed:
                        raise SandboxError("the sandbox is closed") from None
                    if time.monotonic() >= warn_at:
                        log.warning("a job has waited 30 s more for a free sandbox uid")
                        warn_at += 30.0
        finally:
            with self._dying_lock:
                self.waiting_for_uid -= 1

    def _refill(self) -> None:
        with self._spawning_lock:
            if self._closed or self._warm.qsize() + self._spawning >= self.ahead:
                return
            self._spawning += 1
        try:
            # Never wait for a uid here: this runs on the threads that reap children and give
            # uids back; a job forks its own child when none is ready.
            # A child warms up while it waits for a job: it copies the pages a job would, off
            # the job's clock. When jobs queue for a fast place, the CPUs are busy with jobs
            # and the next child is soon taken: its warm-up would only add to the CPU time of
            # each submission (0.3-0.4 ms here) and take a job's CPU away.
            self._warm.put(self._spawn(wait=False, warm=not self.lanes.fast_lane_queued()))
        except SandboxError as error:
            log.warning("could not fork a child ahead of need: %s", error)
        finally:
            with self._spawning_lock:
                self._spawning -= 1

    def _take(self, job: Job) -> Child:
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

    def _end(self, child: Child) -> None:
        """Its run is over: kill it at once. One that the grader killed (for a limit, garbage,
        computing past its last answer, or to park its job) or that died is reaped here, before
        its place can be given back; one that ended its run blocked, waiting for input, as it
        should, is reaped by the zygote meanwhile (its uid comes back then)."""
        if child.killed is None and child.exit_code is None:
            with self._dying_lock:
                self._dying += 1
            child.end(self._reaped)
            return
        try:
            child.finish()
        finally:
            self._submit_refill()

    def _reaped(self) -> None:
        self._submit_refill()
        with self._dying_lock:
            self._dying -= 1
            self._dying_lock.notify_all()

    def _submit_refill(self) -> None:
        with contextlib.suppress(RuntimeError):  # closing: no more children ahead
            self._submit(self._refill)

    def _release(self, uid: int, zygote: ZygoteLink, reaped: bool) -> None:
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
        ticket: Ticket | None = getattr(self._local, "ticket", None)
        if ticket is None:  # a place of its own, for this run only
            with self.fast_place(kind=job.kind):
                return self._run(job)
        ticket.begin_run(job.kind.background)
        result = RunResult(cases=[])
        # the submission's limit on the wall clock, in any lane; time parked waiting for a
        # place in the slow lane is not counted (it delays the work, as a queue does)
        time_left = job.limits.submission_seconds
        # how far its children's waits for a CPU may move that limit, in all (see ``clocks``)
        excusable = WAIT_FACTOR * job.limits.submission_seconds
        # (a job that makes its inputs late makes them once its first child has the source)
        while not job.inputs_made or len(result.cases) < len(job.cases):
            if time_left <= 0:
                fill(result, job, CaseRun(
                    kind="timeout", limit=Limit.TOTAL_TIME, cause=Cause.NOT_RUN,
                    limit_value=job.limits.submission_seconds,
                ))
                break
            started = time.monotonic()
            with stage(Stage.HANDOFF):
                child = self._take(job)
            charged = account.current()
            if charged is not None:
                for name, seconds in child.start_cpu.items():
                    charged.add(name, seconds)
            if ticket.lane is Lane.SLOW or ticket.run_background:
                child.demote()
            parked = False
            try:
                conversation = Conversation(child, job, started + time_left, result, ticket,
                                            excusable)
                with stage(Stage.FRAMES):
                    conversation.run()
                parked = conversation.parked
            finally:
                self._end(child)
            clocks = conversation.clocks
            time_left -= time.monotonic() - started - clocks.own_seconds - clocks.excused
            excusable -= clocks.excused
            park_limit = PARK_FACTOR * job.limits.submission_seconds
            if parked and not ticket.park(timeout=park_limit):
                raise SandboxError("the slow lane stayed full: a submission waited "
                                   f"{park_limit:.0f} s for a place in it")
        return result
