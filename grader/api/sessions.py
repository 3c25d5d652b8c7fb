"""Instructor sessions for the pages under ``/instructor/``: signed, stateless cookies.

Signing in with an instructor token in a form gives a cookie (HttpOnly, SameSite=Strict,
path ``/instructor``, Secure over HTTPS) holding the session's expiry, the token's digest and
name, and HMAC-SHA256 of them under a key derived from the server's hidden-input secret with
a label of its own. A session is good until it expires and while its token is still one of
``GRADER_INSTRUCTOR_TOKENS`` (removing a token ends its sessions). A platform token, a report
link or a cookie of another server opens nothing.

Every form posts a CSRF token: HMAC of the session's cookie under the same key (the sign-in
form's, of a random nonce in a cookie of its own), so a form from another site cannot post
in the instructor's name even where SameSite is not enforced.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from grader.api.deps import Principal, instructor_of, token_digest
from grader.settings import Settings

LABEL = b"grader instructor sessions v1"
COOKIE = "grader_instructor"
SIGN_IN_COOKIE = "grader_sign_in"
PATH = "/instructor"
SESSION_SECONDS = 8 * 3600
SIGN_IN_SECONDS = 1800


@dataclass(frozen=True)
class Session:
    principal: Principal
    cookie: str  # the cookie's value, which its CSRF token is derived from
    expires: int


def _b64(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def _unb64(value: str) -> str:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()


class Sessions:
    def __init__(self, hidden_secret: bytes, settings: Settings) -> None:
        self._key = hmac.digest(hidden_secret, LABEL, hashlib.sha256)
        self.settings = settings

    def _mac(self, *parts: str) -> str:
        return hmac.new(self._key, "\x00".join(parts).encode(), hashlib.sha256).hexdigest()

    def start(self, token: str, now: float | None = None) -> tuple[Session, str] | None:
        """A new session for an instructor token, and its cookie's value; None for any
        other token."""
        principal = instructor_of(self.settings, token)
        if principal is None:
            return None
        expires = int(now if now is not None else time.time()) + SESSION_SECONDS
        body = f"{expires}.{principal.token}.{_b64(principal.name or '')}"
        value = f"{body}.{self._mac('session', body)}"
        return Session(principal, value, expires), value

    def read(self, value: str | None, now: float | None = None) -> Session | None:
        """The session a cookie holds, if it is this server's, not expired, and its token is
        still an instructor token; else None."""
        if not value or len(value) > 1024 or value.count(".") != 3:
            return None
        body, _, mac = value.rpartition(".")
        if not hmac.compare_digest(self._mac("session", body).encode(),
                                   mac.encode("ascii", "replace")):
            return None
        expires_text, digest, name_b64 = body.split(".")
        if not expires_text.isdigit() or int(expires_text) <= (now or time.time()):
            return None
        known = [i for i, t in enumerate(self.settings.instructor_tokens)
                 if hmac.compare_digest(token_digest(t.get_secret_value()), digest)]
        if not known:
            return None
        name = self.settings.instructor_name(known[0])
        if (name or "") != _unb64(name_b64):
            return None
        return Session(Principal("instructor", "instructor", digest, name), value,
                       int(expires_text))

    def csrf(self, session: Session) -> str:
        return self._mac("csrf", session.cookie)

    def csrf_valid(self, session: Session, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(
            self.csrf(session).encode(), given.encode("ascii", "replace"))

    # -- the sign-in form, before there is a session ---------------------------------------

    @staticmethod
    def nonce() -> str:
        return secrets.token_urlsafe(24)

    def sign_in_csrf(self, nonce: str) -> str:
        return self._mac("sign-in", nonce)

    def sign_in_valid(self, nonce: str | None, given: str | None) -> bool:
        return bool(nonce) and given is not None and hmac.compare_digest(
            self.sign_in_csrf(nonce or "").encode(), given.encode("ascii", "replace"))
