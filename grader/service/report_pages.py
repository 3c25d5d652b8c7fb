"""Report pages: a graded submission's report as an HTML page, with heatmaps of its visible
cases' outputs.

A grading keeps its visible cases' arrays beside its report, and the page draws those: nothing
runs. A submission graded before they were kept has none, and its visible cases are run again
for its page (``grader.pages.case_outputs``): the learner's code runs once more in the
sandbox, on visible inputs only, at low priority. So such a page is drawn once at a time
(other requests for it wait for that drawing), at most ``DRAWN_AT_ONCE`` of them are drawn at
once (503 past it), and at most so many at once for one learner and one platform token
(``admission.Caps``: 429 past it). Pages are kept for the last ``PAGES_KEPT`` submissions
viewed, so that reloading an iframe draws nothing again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future

from anyio import to_thread

from grader.catalog.exercises import Exercise, UnknownExercise
from grader.errors import Unavailable
from grader.grading.drawings import Drawings
from grader.grading.report import Report
from grader.pages.case_outputs import CaseOutputs, visible_inputs, visible_outputs
from grader.pages.report_page import render_kept, render_pending, render_report
from grader.sandbox.base import Kind, Runner, SandboxError
from grader.service.admission import Caps
from grader.service.published import Published
from grader.storage.status import SubmissionStatus
from grader.storage.store import Submission

log = logging.getLogger("grader.service.report_pages")
PAGES_KEPT = 64
DRAWN_AT_ONCE = 2  # pages whose learner code runs again at the same time
DRAWING_RETRY = 2  # seconds a request is told to wait when too many pages are being drawn


class PageCache:
    """The last pages rendered, by submission id and the time its report was saved."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._pages: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> str | None:
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def put(self, key: tuple[str, str], page: str) -> None:
        with self._lock:
            self._pages[key] = page
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)


class Renders:
    """Pages being drawn: each runs the learner's code again, so a page is drawn once at a
    time (other requests for it wait for that drawing), and at most ``limit`` at once."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._drawing: dict[tuple[str, str], Future[str]] = {}

    def start(self, key: tuple[str, str]) -> tuple[Future[str], bool] | None:
        """The drawing of ``key`` and whether it is the caller's to do; None when too many
        pages are being drawn."""
        with self._lock:
            drawing = self._drawing.get(key)
            if drawing is not None:
                return drawing, False
            if len(self._drawing) >= self.limit:
                return None
            drawing = self._drawing[key] = Future()
            return drawing, True

    def finish(self, key: tuple[str, str], page: str | None,
               error: BaseException | None = None) -> None:
        with self._lock:
            drawing = self._drawing.pop(key)
        if error is not None:
            drawing.set_exception(error)
        else:
            drawing.set_result(page or "")


class ReportPages:
    def __init__(self, published: Published, runner: Runner, hidden_secret: bytes,
                 caps: Caps, drawings: Callable[[str, dt.datetime | None], str | None]) -> None:
        """``drawings``: a submission's kept arrays, by its id and when its report was
        written (``Store.drawings``)."""
        self.published = published
        self.runner = runner
        self.hidden_secret = hidden_secret
        self.caps = caps
        self.drawings = drawings
        self.cache = PageCache(PAGES_KEPT)
        self.renders = Renders(DRAWN_AT_ONCE)

    async def page(self, row: Submission, status: str) -> str:
        """The page of ``row`` (whose status a reader is told is ``status``). Raises
        OverLimit, or Unavailable when too many pages are being drawn."""
        if row.status != SubmissionStatus.DONE or not row.report:
            return render_pending(row.exercise_id, status, row.error)
        key = (row.id, str(row.finished_at))
        kept = self.cache.get(key)
        if kept is not None:
            return kept
        from_kept = await to_thread.run_sync(self._draw_kept, row)
        if from_kept is not None:  # drawn from the grading's own arrays: nothing ran
            self.cache.put(key, from_kept)
            return from_kept
        started = self.renders.start(key)
        if started is None:
            raise Unavailable("too many report pages are being drawn; try again in a few "
                              "seconds", DRAWING_RETRY)
        drawing, mine = started
        if not mine:  # a reload, or a second tab: it waits for that drawing, at no cost
            return await asyncio.wrap_future(drawing)
        try:  # the caps count drawings, not requests
            with self.caps.hold(row.scope, row.learner_id):
                page, complete = await to_thread.run_sync(self._draw, row)
        except BaseException as error:
            self.renders.finish(key, None, error)
            raise
        if complete:
            self.cache.put(key, page)
        self.renders.finish(key, page)
        return page

    def _draw_kept(self, row: Submission) -> str | None:
        """The page of a graded submission from the arrays its grading kept; None when it
        kept none (graded before they were kept). A record that cannot be read is a page
        without pictures."""
        kept = self.drawings(row.id, row.finished_at)
        if kept is None:
            return None
        report, exercise = self._graded(row)
        if exercise is None:
            return render_report(report, row.exercise_id)
        return render_kept(report, exercise.spec, Drawings.decode(kept) or Drawings(),
                           row.seed, self.hidden_secret, row.source)

    def _graded(self, row: Submission) -> tuple[Report, Exercise | None]:
        """The stored report, and the exercise's version that graded it (None: gone)."""
        report = Report.model_validate_json(row.report or "{}")
        try:
            return report, self.published.at(row.exercise_id, row.exercise_version)
        except UnknownExercise:
            return report, None

    def _draw(self, row: Submission) -> tuple[str, bool]:
        """The page of a graded submission, and whether it is complete (worth keeping)."""
        report, exercise = self._graded(row)
        if exercise is None:
            return render_report(report, row.exercise_id), True
        outputs: dict[str, CaseOutputs] | None
        # the learner's code runs again in the background: only when no submission waits
        try:
            with self.runner.fast_place(kind=Kind.REDRAW):
                outputs = visible_outputs(exercise, row.source, row.seed, self.runner,
                                          hidden_secret=self.hidden_secret, graded=report)
        except SandboxError as error:
            log.error("the report page of %s has no pictures: %s", row.id, error)
            outputs = None
        except Exception:  # noqa: BLE001 - the reference failed on these inputs: a page
            log.exception("the report page of %s has no pictures", row.id)  # without pictures
            outputs = None
        spec = exercise.spec
        return render_report(report, spec.title, outputs,
                             inputs=visible_inputs(spec, row.seed, self.hidden_secret),
                             statement=spec.statement, entry_point=spec.entry_point,
                             source=row.source), \
            outputs is not None and not any(o.cut for o in outputs.values())
