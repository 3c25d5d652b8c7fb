"""``/lti/...``: the grader as an LTI 1.3 tool (``grader.lti``): its public keys, the OIDC
login, the launch, the deep-linking answer and the learner's form.

These answer browsers sent by a platform, not API clients: HTML pages (a refused launch is a
page saying why, 400), forms read as ``application/x-www-form-urlencoded``, and none of them is
in the OpenAPI document. Nothing here sets a cookie: what a launch grants travels signed in
its forms, so it works inside an LMS's iframe.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from grader.api.deps import StateDep
from grader.errors import InvalidInput
from grader.lti.claims import LaunchRefused
from grader.lti.pages import Page, refused_page
from grader.lti.tool import Tool

router = APIRouter(tags=["lti"], include_in_schema=False)
FORM_BYTES = 2 * 1024 * 1024  # a learner's code, and a signed ticket


def tool(request: Request) -> Tool:
    found: Tool = request.app.state.lti
    return found


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def html(page: Page, status: int = 200) -> HTMLResponse:
    return HTMLResponse(page.html, status_code=status, headers={
        "Content-Security-Policy": page.policy, "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"})


def refused(error: LaunchRefused) -> HTMLResponse:
    return html(refused_page(str(error)), 400)


async def form_of(request: Request) -> dict[str, str]:
    """The posted form, one value a name (the first), or the query of a GET."""
    if request.method == "GET":
        return dict(request.query_params)
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise LaunchRefused("the form must be sent as application/x-www-form-urlencoded")
    body = await request.body()
    if len(body) > FORM_BYTES:
        raise LaunchRefused("the form is too large")
    values: dict[str, str] = {}
    for name, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
        values.setdefault(name, value)
    return values


@router.get("/lti/jwks")
async def jwks(request: Request) -> JSONResponse:
    """The tool's public keys, for platforms to check what it signs."""
    keys = await run_in_threadpool(tool(request).keys.jwks)
    return JSONResponse(keys, headers={"Cache-Control": "public, max-age=300"})


@router.api_route("/lti/login", methods=["GET", "POST"])
async def login(request: Request) -> Response:
    """OIDC third-party initiated login: a redirect to the platform's auth URL."""
    try:
        params = await form_of(request)
        url = await run_in_threadpool(tool(request).login, params, base_url(request))
    except LaunchRefused as error:
        return refused(error)
    return RedirectResponse(url, status_code=302, headers={"Cache-Control": "no-store"})


@router.post("/lti/launch")
async def launch(request: Request) -> Response:
    """The platform's id_token, checked: the exercise page, the instructor's page or the
    deep-linking picker."""
    try:
        form = await form_of(request)
        page = await run_in_threadpool(tool(request).launch, form)
    except LaunchRefused as error:
        return refused(error)
    return html(page)


@router.post("/lti/deep-link")
async def deep_link(request: Request) -> Response:
    """The instructor's choice, posted back to the platform as a signed answer."""
    try:
        form = await form_of(request)
        page = await run_in_threadpool(tool(request).deep_link, form, base_url(request))
    except LaunchRefused as error:
        return refused(error)
    return html(page)


@router.post("/lti/submit")
async def submit(request: Request, state: StateDep) -> Response:
    """A learner's code from the exercise page: graded, then the report page."""
    try:
        form = await form_of(request)
        new = tool(request).submission(form)
    except LaunchRefused as error:
        return refused(error)
    size = len(new.source.encode("utf-8"))
    if size > state.settings.max_source_bytes:
        raise InvalidInput(f"the code is {size} bytes; the limit is "
                           f"{state.settings.max_source_bytes}")
    row = await state.submissions.submit(new, None, wait=True)
    return RedirectResponse(state.links.url(row.id), status_code=303)
