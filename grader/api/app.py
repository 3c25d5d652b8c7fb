"""The app: the service's state for its lifetime, the routers, the middleware and the one
mapping of errors to answers (``grader.api.problems``)."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from grader.api import problems
from grader.api.middleware import BodyLimit, HeadAsGet, StrictRoute
from grader.api.openapi import document
from grader.api.routes import (
    docs,
    exercises,
    instructor,
    instructor_pages,
    lti,
    operations,
    reports,
    submissions,
)
from grader.lti.tool import Tool
from grader.sandbox.base import Runner
from grader.service.assembly import assemble
from grader.settings import Settings, get_settings

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def create_app(settings: Settings | None = None, runner: Runner | None = None, *,
               freeze_heap: bool = False) -> FastAPI:
    """The app. ``freeze_heap``, for a process that serves this one app: once started, what
    is loaded lives as long as the process, so it is moved out of the collector's reach; a
    full collection would otherwise walk it all, holding every request still for tens of ms."""
    settings = settings or get_settings()
    app = FastAPI(
        title="grader",
        version="0.1.0",
        summary="Grades learners' numerical Python exercises in a sandbox.",
        lifespan=lifespan(settings, runner, freeze_heap),
        docs_url=None,  # both served by grader.api.routes.docs, with their assets
        redoc_url=None,
        # The server's figures are its Prometheus metrics; FastAPI's own OpenTelemetry,
        # configured nowhere, would still look for its providers on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False,
                   "operation_spans": False, "auto_configure": False},
    )
    app.openapi = document(app, settings)  # type: ignore[method-assign]
    app.router.route_class = StrictRoute
    app.add_middleware(BodyLimit, limit=8 * settings.max_source_bytes + 64 * 1024,
                       seconds=settings.body_seconds)
    app.add_middleware(HeadAsGet)  # outermost: a HEAD is routed, limited and answered as a GET
    problems.install(app)
    for router in (submissions.router, exercises.router, operations.router, reports.router,
                   docs.router, lti.router, instructor.router, instructor_pages.router):
        app.include_router(router)
    return app


def lifespan(settings: Settings, runner: Runner | None, freeze_heap: bool) -> Lifespan:
    """The service, assembled when the app starts and closed when it stops."""

    @asynccontextmanager
    async def running(app: FastAPI) -> AsyncIterator[None]:
        state = await run_in_threadpool(assemble, settings, runner)
        app.state.grader = state
        await state.submissions.start()
        app.state.lti = Tool(state.store, state.published, state.submissions.hidden_secret)
        app.state.lti.start()  # grade passbacks, delivered by every server
        if freeze_heap:
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            await state.submissions.stop()
            await run_in_threadpool(app.state.lti.close)
            await run_in_threadpool(state.close)

    return running
