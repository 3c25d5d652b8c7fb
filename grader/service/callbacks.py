"""Callbacks: the submission, POSTed to the platform's ``callback_url`` once graded, signed as
Standard Webhooks (``grader.service.webhooks``), retried with backoff, at least once.

The same sender runs in both modes: on a thread of its own in embedded mode, and in every
worker of the distributed mode. What to send lives in the database
(``grader.storage.callbacks``), written with the report:

- A sender claims due deliveries, at most ``per_host`` in flight to one host across every
  sender; each claimed attempt is counted and recorded before it is sent, so a process
  killed mid-delivery leaves it counted, and the delivery is sent again (same
  ``webhook-id``) once its lease runs out. A database away for a moment (a restart) is
  waited for within the lease, so an attempt's outcome is still recorded and not sent again.
- An attempt has one deadline for all of it (connect, send, the answer's head and body). A
  failure is retried later (``next_attempt_at``, 1, 2, 4 ... s on), never slept on while it
  holds a place: one failing or hanging URL takes one place at a time, and only while an
  attempt is in flight.
- Senders sleep until the next delivery is due, or until they are woken: in this process by
  ``wake()``, across processes by PostgreSQL's LISTEN/NOTIFY on ``CALLBACK_CHANNEL`` (a new
  delivery, a place freed). No polling between.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import httpx
import psycopg
from sqlalchemy.exc import SQLAlchemyError

from grader.pages.links import ReportLinks
from grader.service.destinations import Destinations, GuardedTransport
from grader.service.views import submission_view
from grader.service.webhooks import signed_headers, signing_key
from grader.settings import Settings
from grader.storage.callbacks import CALLBACK_CHANNEL, Claim
from grader.storage.database import unreachable
from grader.storage.jobs import conninfo
from grader.storage.store import Store
from grader.storage.tables import utc_now

log = logging.getLogger("grader.service.callbacks")
ANSWER_BYTES = 64 * 1024  # of a receiver's answer, read and dropped; the status is what counts
IDLE_SECONDS = 60.0  # the longest sleep with nothing due: a safety net, not the way to wake
BLOCKED_SECONDS = 5.0  # due, and every place taken: a freed place wakes sooner
MAX_RETRY_DELAY = 600.0
T = TypeVar("T")


async def post_once(client: httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str],
                    deadline: float) -> tuple[int | None, str | None]:
    """One attempt: the answer's status, or why there is none. One deadline covers all of
    it; at most ``ANSWER_BYTES`` of the answer are read."""
    try:
        async with asyncio.timeout(deadline), \
                client.stream("POST", url, content=body, headers=headers) as answer:
            read = 0
            async for chunk in answer.aiter_raw():
                read += len(chunk)
                if read >= ANSWER_BYTES:
                    break
            return answer.status_code, None
    except TimeoutError:
        return None, f"no complete answer within {deadline:g} s"
    except httpx.HTTPError as error:
        return None, f"{type(error).__name__}: {error}"[:500]


def outcome(status: int | None, error: str | None) -> tuple[bool, str | None]:
    """Whether an attempt delivered the callback (a 2xx answer), and why not."""
    delivered = status is not None and 200 <= status < 300
    if status is not None and not delivered:
        error = f"HTTP {status}"
    return delivered, error


class CallbackSender:
    """Sends the callbacks due in the database, ``in_flight`` at most at once from this
    process. ``listen``: a libpq URL to be woken by other processes (PostgreSQL)."""

    def __init__(self, store: Store, secret: str | None, attempts: int, *,
                 per_host: int = 8, timeout: float = 10.0, first_delay: float = 1.0,
                 in_flight: int = 64, links: ReportLinks | None = None,
                 listen: str | None = None, reach: Destinations | None = None) -> None:
        """``reach``: the addresses it may connect to (default: public ones only)."""
        self.store = store
        self.reach = reach or Destinations()
        self.key = signing_key(secret) if secret is not None else None
        self.attempts = attempts
        self.per_host = per_host
        self.timeout = timeout
        self.first_delay = first_delay
        self.in_flight = in_flight
        self.links = links
        self.listen = listen
        self.lease = 2 * timeout + 5  # an attempt not settled by then is taken for lost
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wakeup: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None

    @classmethod
    def from_settings(cls, settings: Settings, store: Store,
                      links: ReportLinks | None) -> CallbackSender:
        """The settings' sender; woken by other processes on PostgreSQL."""
        database = settings.database
        return cls(
            store,
            settings.callback_secret.get_secret_value() if settings.callback_secret else None,
            settings.callback_attempts, per_host=settings.callback_host_concurrency,
            timeout=settings.callback_timeout_seconds, links=links,
            listen=conninfo(database) if database.startswith("postgresql") else None,
            reach=Destinations.from_settings(settings))

    # -- one process's sending loop ---------------------------------------------------------

    async def run(self, stop: asyncio.Event, grace: float = 0.0) -> None:
        """Send until ``stop`` is set; then let the attempts in flight end for up to
        ``grace`` seconds, and cut the rest short (they are sent again later)."""
        self._loop = asyncio.get_running_loop()
        self._wakeup = asyncio.Event()
        listener = asyncio.create_task(self._listen()) if self.listen else None
        limits = httpx.Limits(max_connections=self.in_flight,
                              max_keepalive_connections=self.in_flight)
        client = httpx.AsyncClient(timeout=self.timeout, follow_redirects=False,
                                   trust_env=False,
                                   transport=GuardedTransport(self.reach, limits))
        delay = 1.0
        try:
            while not stop.is_set():
                self._wakeup.clear()
                try:
                    wait = await self._turn(client)
                    delay = 1.0
                except SQLAlchemyError as error:
                    log.warning("callbacks: the database failed (%s); again in %.0f s",
                                error, delay)
                    wait, delay = delay, min(2 * delay, 30.0)
                await self._sleep(stop, wait)
        finally:
            if listener is not None:
                listener.cancel()
            await self._end(grace)
            await client.aclose()

    async def _turn(self, client: httpx.AsyncClient) -> float:
        """Start what is due and has a place; how long to sleep before the next look."""
        free = self.in_flight - len(self._tasks)
        if free > 0:
            claims = await asyncio.to_thread(self.store.claim_callbacks, free, self.per_host,
                                             self.lease, self.attempts)
            for claim in claims:
                task = asyncio.create_task(self._deliver(client, claim))
                self._tasks.add(task)
                task.add_done_callback(self._ended)
        due = await asyncio.to_thread(self.store.next_callback_at, self.attempts)
        if due is None:
            return IDLE_SECONDS
        seconds = (due - utc_now()).total_seconds()
        return min(seconds, IDLE_SECONDS) if seconds > 0 else BLOCKED_SECONDS

    async def _sleep(self, stop: asyncio.Event, seconds: float) -> None:
        assert self._wakeup is not None
        woken = asyncio.create_task(self._wakeup.wait())
        stopped = asyncio.create_task(stop.wait())
        await asyncio.wait({woken, stopped}, timeout=max(seconds, 0.0),
                           return_when=asyncio.FIRST_COMPLETED)
        woken.cancel()
        stopped.cancel()

    def _ended(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if self._wakeup is not None:
            self._wakeup.set()  # a place is free

    async def _end(self, grace: float) -> None:
        if self._tasks and grace > 0:
            await asyncio.wait(set(self._tasks), timeout=grace)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- one attempt --------------------------------------------------------------------------

    async def _stored(self, work: Callable[[], T], until: float) -> T:
        """``work`` (a read, or an idempotent write of the database), tried again while the
        database is away, until ``until`` (monotonic): an attempt whose outcome is known is
        recorded once the database is back, not sent again when its lease runs out."""
        delay = 0.25
        while True:
            try:
                return await asyncio.to_thread(work)
            except SQLAlchemyError as error:
                if not unreachable(error) or time.monotonic() + delay > until:
                    raise
            await asyncio.sleep(delay)
            delay = min(2 * delay, 4.0)

    async def _deliver(self, client: httpx.AsyncClient, claim: Claim) -> None:
        status: int | None = None
        error: str | None = "the submission has no report to send"
        delivered = retry = False
        # within its lease (less one attempt's deadline, for the POST), it is this sender's
        until = time.monotonic() + self.lease - self.timeout
        row = await self._stored(lambda: self.store.get(claim.submission_id), until)
        if row is not None and row.report is not None:
            body = submission_view(row, links=self.links).model_dump_json().encode()
            try:
                status, error = await post_once(client, claim.url, body,
                                                self._headers(claim, body), self.timeout)
            except asyncio.CancelledError:
                # stopping: counted, and sent again at once by whichever sender is running
                await asyncio.shield(asyncio.to_thread(
                    self.store.settle_callback, claim, None, "stopped before an answer",
                    False, utc_now()))
                raise
            delivered, error = outcome(status, error)
            retry = claim.attempt < self.attempts
        retry_at = utc_now() + dt.timedelta(seconds=self._backoff(claim.attempt)) \
            if retry and not delivered else None
        await self._stored(lambda: self.store.settle_callback(
            claim, status, error, delivered, retry_at), until + self.timeout)
        if not delivered:
            log.warning("callback for %s failed (attempt %d/%d): %s", claim.submission_id,
                        claim.attempt, self.attempts, error)

    def _headers(self, claim: Claim, body: bytes) -> dict[str, str]:
        if self.key is None:  # no secret: the API takes no callback_url, only old rows
            return {"Content-Type": "application/json", "webhook-id": claim.webhook_id}
        return signed_headers(self.key, claim.webhook_id, claim.submission_id, body)

    def _backoff(self, attempt: int) -> float:
        return float(min(self.first_delay * 2 ** (attempt - 1), MAX_RETRY_DELAY))

    # -- being woken ----------------------------------------------------------------------------

    def wake(self) -> None:
        """A delivery was stored by this process: look now (from any thread)."""
        loop, wakeup = self._loop, self._wakeup
        if loop is not None and wakeup is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop just stopped
                loop.call_soon_threadsafe(wakeup.set)

    async def _listen(self) -> None:
        """Wake on every NOTIFY of ``CALLBACK_CHANNEL``, reconnecting after a lost
        connection (and looking at once then, for what was missed meanwhile)."""
        assert self.listen is not None and self._wakeup is not None
        delay = 1.0
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                        self.listen, autocommit=True) as connection:
                    await connection.execute(f"LISTEN {CALLBACK_CHANNEL}")
                    self._wakeup.set()
                    delay = 1.0
                    async for _ in connection.notifies():
                        self._wakeup.set()
            except psycopg.Error as error:
                log.warning("callbacks: listening failed (%s); again in %.0f s", error, delay)
            await asyncio.sleep(delay)
            delay = min(2 * delay, 30.0)

    # -- embedded mode: a thread of its own -----------------------------------------------------

    def start(self) -> None:
        """Send from a thread and event loop of this sender's own, until ``close``."""
        ready = threading.Event()

        async def main() -> None:
            self._stop = asyncio.Event()
            sending = asyncio.create_task(self.run(self._stop))
            await asyncio.sleep(0)  # run() has its loop and its wake-up event
            ready.set()
            await sending

        self._thread = threading.Thread(target=asyncio.run, args=(main(),), name="callbacks",
                                        daemon=True)
        self._thread.start()
        ready.wait(10)

    def close(self) -> None:
        """Stops every delivery where it is: the attempts so far are recorded, and the
        deliveries are sent again at the next start."""
        loop, stop, thread = self._loop, self._stop, self._thread
        if thread is None or loop is None or stop is None:
            return
        self._thread = None
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=10)
