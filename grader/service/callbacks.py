"""Callbacks: the report POSTed to the platform's URL, signed, retried with backoff.

The signature is ``X-Grader-Signature: sha256=<hex>``, the HMAC-SHA256 of the exact body under
``GRADER_CALLBACK_SECRET``; the receiver recomputes it over the bytes it got. Every attempt is
recorded with the submission.

A receiver cannot hold up the others. Each attempt has one deadline for all of it (connect,
send, and the answer's head and body), at most ``per_host`` attempts go to one host at a time
(the rest wait their turn), and deliveries to other hosts go on meanwhile: they run on one
event loop of their own, ``in_flight`` attempts at most in all.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import threading
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httpx

from grader.storage.store import Store

log = logging.getLogger("grader.service.callbacks")
SIGNATURE_HEADER = "X-Grader-Signature"
ANSWER_BYTES = 64 * 1024  # of a receiver's answer, read and dropped; the status is what counts


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def headers_for(submission_id: str, secret: str | None, body: bytes) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "X-Grader-Submission": submission_id}
    if secret is not None:
        headers[SIGNATURE_HEADER] = sign(secret, body)
    return headers


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
    def __init__(self, store: Store, secret: str | None, attempts: int,
                 first_delay: float = 0.5, deadline: float = 10.0, per_host: int = 2,
                 in_flight: int = 64) -> None:
        self.store = store
        self.secret = secret
        self.attempts = attempts
        self.first_delay = first_delay
        self.deadline = deadline
        self.per_host = per_host
        self._in_flight = asyncio.Semaphore(in_flight)
        self._hosts: dict[str, tuple[asyncio.Semaphore, int]] = {}  # place, deliveries using it
        self._client = httpx.AsyncClient(
            timeout=deadline, follow_redirects=False,
            limits=httpx.Limits(max_connections=in_flight, max_keepalive_connections=16))
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="callbacks",
                                        daemon=True)
        self._thread.start()
        self._closed = False

    def schedule(self, submission_id: str, url: str, body: bytes) -> None:
        if not self._closed:
            asyncio.run_coroutine_threadsafe(self._deliver(submission_id, url, body), self._loop)

    async def _deliver(self, submission_id: str, url: str, body: bytes) -> None:
        headers = headers_for(submission_id, self.secret, body)
        delay = self.first_delay
        for attempt in range(1, self.attempts + 1):
            async with self._place(url):
                status, error = await self._post(url, body, headers)
            delivered, error = outcome(status, error)
            await asyncio.to_thread(self.store.record_callback, submission_id, attempt, status,
                                    error, delivered)
            if delivered:
                return
            log.warning("callback for %s failed (attempt %d/%d): %s",
                        submission_id, attempt, self.attempts, error)
            if attempt < self.attempts:
                await asyncio.sleep(delay)
                delay *= 2

    async def _post(self, url: str, body: bytes, headers: dict[str, str]
                    ) -> tuple[int | None, str | None]:
        return await post_once(self._client, url, body, headers, self.deadline)

    @contextlib.asynccontextmanager
    async def _place(self, url: str) -> AsyncIterator[None]:
        """A place among the attempts in flight to this URL's host, and among all."""
        host = (urlsplit(url).hostname or "").lower()
        place, users = self._hosts.get(host) or (asyncio.Semaphore(self.per_host), 0)
        self._hosts[host] = (place, users + 1)
        try:
            async with place, self._in_flight:
                yield
        finally:
            place, users = self._hosts[host]
            if users == 1:
                del self._hosts[host]
            else:
                self._hosts[host] = (place, users - 1)

    def close(self) -> None:
        """Stops every delivery where it is: the attempts so far are recorded."""
        if self._closed:
            return
        self._closed = True
        stopped = asyncio.run_coroutine_threadsafe(self._stop(), self._loop)
        with contextlib.suppress(Exception):
            stopped.result(timeout=5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self._loop.close()

    async def _stop(self) -> None:
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._client.aclose()
