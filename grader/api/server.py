"""Serving the app over HTTP: uvicorn, with a deadline it lacks for the request head.

uvicorn closes a keep-alive connection that stays idle after a response, but not one that
sends nothing at all after connecting, nor one that sends its request head a byte at a time:
each would hold a connection open for as long as the client likes. Here one timer covers both:
a connection that waits for a request has ``keep_alive_seconds`` to send that request's whole
head. The body has its own deadline, in the app (``BodyLimit``, 408). A head over
``MAX_HEAD_BYTES`` is 431, and the connection is closed: httptools keeps whatever it is sent.
So is every head and trailer section the parser reads, whenever it comes: a head pipelined
behind a request still being answered, or a chunked body's trailers, over ``MAX_HEAD_BYTES``
close the connection (a 431 there would come before the answer already owed).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from grader.sandbox import account
from grader.settings import Settings

# The largest request head taken (request line and headers); more is 431
MAX_HEAD_BYTES = 64 * 1024
FEED_SLICE = 16 * 1024  # the parser is fed at most this much at a time
LINGER_SECONDS = 2.0  # how long the rest of a head over it is read and thrown away


class HeadDeadlineProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol; a connection waiting for a request head is closed when
    the head is not complete within the keep-alive timeout, or answered 431 and closed when
    the head is over ``MAX_HEAD_BYTES``."""

    _head_deadline: asyncio.TimerHandle | None = None
    _head_seen: int | None = None  # bytes of the head awaited so far; None: not awaiting one
    _head_tail = b""  # the last bytes received, for an end of head split across two reads

    _refused = False  # answered 431: what else comes is read and thrown away until closed
    # What the parser keeps of the message it reads (its request line and headers, then any
    # trailers), counted from its callbacks, and the bytes it was fed since the last callback
    # that took some (a header's name and value are kept by httptools until the header ends).
    _kept = 0
    _unread = 0
    _progressed = False
    _in_head = False  # between a message's start and the end of its head (not its trailers)
    _read_whole = True  # the message read is read to its end
    _answered = False  # the message read is answered

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._head_seen is not None:
            joined = self._head_tail + data
            end = joined.find(b"\r\n\r\n")
            size = self._head_seen + (len(data) if end < 0 else end + 4 - len(self._head_tail))
            if size > MAX_HEAD_BYTES:
                self._head_too_large()
                return
            self._head_seen = size if end < 0 else None
            self._head_tail = joined[-3:]
        cpu = time.thread_time()
        # fed a slice at a time, so that what a slice takes without a callback is counted
        # whole: a head's or a trailer's bytes after the last callback of a larger read
        for at in range(0, len(data), FEED_SLICE):
            if self._refused or self.transport.is_closing():
                break
            piece = data[at:at + FEED_SLICE]
            self._progressed = False
            super().data_received(piece)
            self._unread = 0 if self._progressed else self._unread + len(piece)
            if self._unread > MAX_HEAD_BYTES:
                self._head_too_large()
        scope = getattr(self, "scope", None)
        if isinstance(scope, dict):  # the request whose bytes these were (the last one)
            scope[PARSE_CPU] = scope.get(PARSE_CPU, 0.0) + time.thread_time() - cpu

    # The parser's callbacks: each counts what it keeps, or that it went on (a body's bytes
    # are the app's to bound).
    def on_message_begin(self) -> None:
        self._kept, self._progressed, self._in_head = 0, True, True
        self._read_whole = self._answered = False
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        self._keep(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._keep(len(name) + len(value) + 4)
        if not self._refused:
            super().on_header(name, value)

    def on_body(self, body: bytes) -> None:
        self._progressed = True
        if not self._refused:
            super().on_body(body)

    def on_chunk_header(self) -> None:
        self._progressed = True

    def on_chunk_complete(self) -> None:
        self._progressed = True

    def on_message_complete(self) -> None:
        self._progressed, self._read_whole = True, True
        if not self._refused:
            super().on_message_complete()
        if self._answered and not self.pipeline and not self.transport.is_closing():
            self._await_head()  # answered before its end (trailers): the next head is due

    def _keep(self, size: int) -> None:
        self._kept += size
        self._progressed = True
        if self._kept > MAX_HEAD_BYTES:
            self._head_too_large()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_head()

    def on_headers_complete(self) -> None:
        self._cancel_deadline()
        self._progressed, self._in_head = True, False
        if not self._refused:  # a head refused in the middle of a read starts no request
            super().on_headers_complete()

    def on_response_complete(self) -> None:
        idle = not self.pipeline  # a pipelined request's head is already here
        super().on_response_complete()
        self._answered = True
        # the next head is awaited once the request is read to its end (its trailers too)
        if idle and self._read_whole and not self.transport.is_closing():
            self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        super().connection_lost(exc)

    def _await_head(self) -> None:
        self._cancel_deadline()
        self._head_seen, self._head_tail = 0, b""
        self._head_deadline = self.loop.call_later(self.timeout_keep_alive, self._too_slow)

    def _cancel_deadline(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_too_large(self) -> None:
        awaited = self._head_seen is not None or self._in_head  # a head, not trailers
        self._cancel_deadline()
        self._head_seen = None
        if self.transport.is_closing():
            return
        if not awaited or self.cycle is not None and not self.cycle.response_complete:
            # trailers, whose request may be answered already, or a head pipelined behind a
            # request not yet answered: an answer now would be a second one, or come before
            # the one owed; the connection is closed (a request under way goes on, and its
            # submission, if any, can be read back)
            self._refused = True
            self.transport.close()
            return
        self.transport.write(closing_problem(431, "Request Header Fields Too Large",
                                             f"the request head is over {MAX_HEAD_BYTES} "
                                             f"bytes"))
        # Closed at once, the rest of the head unread would reset the connection, and the
        # client might lose the answer: the sending side is shut, what comes is thrown away
        # for a moment, then the connection is closed.
        self._refused = True
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to bytes httptools cannot parse, as problem+json like every other
        answer (uvicorn's own is text/plain); the connection is closed, as uvicorn does."""
        self._cancel_deadline()
        self.transport.write(closing_problem(
            400, "Bad Request", "the request is not valid HTTP/1.1: its request line, a "
            "header, or its body's framing (Content-Length, chunks) could not be parsed"))
        self.transport.close()

    def _too_slow(self) -> None:
        self._head_deadline = None
        if not self.transport.is_closing():
            self.transport.close()


def closing_problem(status: int, title: str, detail: str) -> bytes:
    """A whole HTTP/1.1 answer, problem+json, that closes the connection: for what is
    answered before the app has a request to answer."""
    body = json.dumps({"type": "about:blank", "title": title, "status": status,
                       "detail": detail}).encode()
    return (b"HTTP/1.1 %d %s\r\ncontent-type: application/problem+json\r\n"
            b"content-length: %d\r\nconnection: close\r\n\r\n"
            % (status, title.encode(), len(body)) + body)


# The scope's key for the CPU seconds uvicorn took to parse the request.
PARSE_CPU = "grader.parse_cpu"


class CpuAccount:
    """Opens each request's CPU account (``grader.sandbox.account``) and, once it is answered,
    hands the figures of each stage to the metrics. The request's stage is its code on the
    event loop's thread until it waits for the grading, the response's from then on."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        charged = account.Account()
        charged.add(account.Stage.REQUEST, scope.get(PARSE_CPU, 0.0))
        with account.using(charged):
            account.resume(account.Stage.REQUEST)
            try:
                await self.app(scope, receive, send)
            finally:
                account.pause()
        metrics = getattr(getattr(getattr(self.app, "state", None), "grader", None),
                          "metrics", None)
        if metrics is not None and account.Stage.HANDOFF in charged.seconds:  # a grading
            account.observed(charged, metrics.stage_cpu)


# A query parameter whose value is a credential (a report link's signature, a token, a key),
# with its value: up to the next parameter.
SECRET_PARAMETER = re.compile(
    r"(?P<name>(?:^|&)[^=&]*(?:sig|token|secret|key|password|auth)[^=&]*=)[^&]*",
    re.IGNORECASE)


def redact(target: str) -> str:
    """A request target with the values of its credential-like query parameters replaced by
    REDACTED: a signed report link stays usable for a day, and an access log is read by more
    people than the link's holder. The rest is left as it came."""
    path, mark, query = target.partition("?")
    if not mark:
        return target
    return path + "?" + SECRET_PARAMETER.sub(r"\g<name>REDACTED", query)


class RedactedAccessLog(logging.Filter):
    """Redacts the request target of uvicorn's access log lines (``redact``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact(args[2]), *args[3:])
        return True


def serve(app: Any, settings: Settings, host: str, port: int) -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactedAccessLog) for f in access.filters):
        access.addFilter(RedactedAccessLog())
    # log_config=None: uvicorn's loggers go to the root handler, whose output is inert.
    uvicorn.run(CpuAccount(app), host=host, port=port, http=HeadDeadlineProtocol,
                timeout_keep_alive=settings.keep_alive_seconds,
                log_level=settings.log_level.lower(), log_config=None, workers=1)
