"""``/healthz``, ``/readyz`` and ``/metrics``: for the orchestrator and the scraper."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import PlainTextResponse
from starlette.concurrency import run_in_threadpool

from grader.api.deps import Credentials, StateDep, matching, unauthorized
from grader.api.middleware import StrictRoute
from grader.api.problems import ApiError, error_answers
from grader.api.schemas import Health, Readiness
from grader.service.metrics import readable

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


@router.get("/metrics", response_class=PlainTextResponse, responses=error_answers(401, 403))
async def metrics(state: StateDep, credentials: Credentials) -> PlainTextResponse:
    """Prometheus metrics, aggregates only: open when the server has no platform token and
    no GRADER_METRICS_TOKEN, else for that token or an instructor token."""
    settings = state.settings
    if not readable(None if credentials is None else credentials.credentials,
                    settings.metrics_token.get_secret_value() if settings.metrics_token
                    else None, [t.get_secret_value() for t in settings.instructor_tokens],
                    open_server=not settings.platform_tokens):
        if credentials is not None and matching(
                credentials.credentials, settings.platform_tokens) is not None:
            raise ApiError(403, "Forbidden", "the metrics need the metrics token "
                           "(GRADER_METRICS_TOKEN) or an instructor token, not a platform token")
        raise unauthorized("send 'Authorization: Bearer <token>' with the metrics token "
                           "(GRADER_METRICS_TOKEN) or an instructor token")
    return PlainTextResponse(state.metrics.render(),
                             media_type="text/plain; version=0.0.4; charset=utf-8")
