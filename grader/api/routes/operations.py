"""``/healthz``, ``/readyz`` and ``/metrics``: for the orchestrator and the scraper."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import PlainTextResponse
from starlette.concurrency import run_in_threadpool

from grader.api.deps import StateDep
from grader.api.middleware import StrictRoute
from grader.api.schemas import Health, Readiness

router = APIRouter(tags=["operations"], route_class=StrictRoute)


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """Liveness: the process answers."""
    return Health(status="ok")


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
async def readyz(state: StateDep, response: Response) -> Readiness:
    """Ready when the sandbox self-test passed and the database answers."""
    reasons = list(state.sandbox.failures)
    refusal = state.runner.refusal  # also a zygote started again without a layer
    if refusal is not None and refusal not in reasons:
        reasons.append(refusal)
    try:
        database = "ok" if await run_in_threadpool(state.store.ping) else "no answer"
    except Exception as error:  # noqa: BLE001 - any database failure means not ready
        database = f"error: {type(error).__name__}"
    if database != "ok":
        reasons.append(f"database: {database}")
    ready = not reasons
    if not ready:
        response.status_code = 503
    return Readiness(ready=ready, database=database, sandbox=state.sandbox.layers,
                     self_test=state.sandbox.self_test, reasons=reasons)


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(state: StateDep) -> PlainTextResponse:
    """Prometheus metrics."""
    return PlainTextResponse(state.metrics.render(),
                             media_type="text/plain; version=0.0.4; charset=utf-8")
