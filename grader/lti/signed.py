"""Values the server signs and gets back: the OIDC ``state`` of a login, and a learner's
ticket in the exercise page's form. They stand in for cookies, which a browser does not send
to a tool in an LMS's iframe (third-party cookies): what the server gave is bound by its
HMAC, and each expires.

The key is derived from the server's hidden-input secret with a label of its own, so it signs
nothing else and every replica that shares the secret accepts the others' values.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from grader.lti.claims import LaunchRefused

LABEL = b"grader lti signed values v1"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    def __init__(self, hidden_secret: bytes) -> None:
        self._key = hmac.digest(hidden_secret, LABEL, hashlib.sha256)

    def _mac(self, kind: str, body: str) -> str:
        return _b64(hmac.digest(self._key, f"{kind}\x00{body}".encode(), hashlib.sha256))

    def sign(self, kind: str, values: dict[str, Any], seconds: int,
             now: float | None = None) -> str:
        """``values`` and an expiry, signed for use as ``kind`` only."""
        moment = now if now is not None else time.time()
        body = _b64(json.dumps({**values, "exp": int(moment) + seconds},
                               separators=(",", ":")).encode())
        return f"{body}.{self._mac(kind, body)}"

    def open(self, kind: str, token: str, now: float | None = None) -> dict[str, Any]:
        """The values of a token signed as ``kind``; ``LaunchRefused`` when it is not this
        server's, was signed for another use, or has expired."""
        body, _, mac = token.partition(".")
        if not mac or not hmac.compare_digest(mac.encode(), self._mac(kind, body).encode()):
            raise LaunchRefused(f"the {kind} is not one this tool signed")
        try:
            values = json.loads(_unb64(body))
        except ValueError:
            raise LaunchRefused(f"the {kind} is malformed") from None
        if not isinstance(values, dict) or not isinstance(values.get("exp"), int):
            raise LaunchRefused(f"the {kind} is malformed")
        if values["exp"] <= (now if now is not None else time.time()):
            raise LaunchRefused(f"the {kind} has expired: launch the activity again")
        return values
