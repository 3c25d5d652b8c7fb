"""A learning platform for the tests, written from the LTI 1.3 specification (Core, Security
Framework, Deep Linking, Assignment and Grade Services): real RS256 keys, and over real HTTP
on a free loopback port its JWKS, its OIDC auth endpoint, its OAuth2 token endpoint, a
deep-linking return URL and a line item's score service.

What it checks of the tool is what a platform checks: the auth request's parameters and its
registered redirect URI; the client assertion's signature against the tool's own JWKS, its
issuer, subject, audience and expiry; the access token and its scope on every score, and the
score's media type and fields; the deep-linking answer's signature, issuer and audience.
"""

from __future__ import annotations

import html
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
AUTH_PARAMS = ("scope", "response_type", "response_mode", "prompt", "client_id",
               "redirect_uri", "login_hint", "state", "nonce")


@dataclass
class Plan:
    """What the next id_token says: who launches, what, and what a test makes wrong."""

    user: str = "learner-1"
    roles: list[str] = field(default_factory=lambda: [LEARNER])
    message_type: str = "LtiResourceLinkRequest"
    exercise: str = "conv2d"
    overrides: dict[str, Any] = field(default_factory=dict)  # claims replaced (e.g. aud)


class Platform:
    def __init__(self, client_id: str = "grader-tool", deployment_id: str = "deploy-1") -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "platform-key-1"
        self.client_id = client_id
        self.deployment_id = deployment_id
        self.plan = Plan()
        self.tool_url = ""  # the grader's root, once known
        self.scores: list[dict[str, Any]] = []
        self.tokens: dict[str, float] = {}  # access token: when it expires
        self.assertions: list[dict[str, Any]] = []
        self.refusals: list[str] = []
        self.deep_links: list[dict[str, Any]] = []
        self.fail_scores = 0  # the next so many scores are answered 503
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.issuer = self.url
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> Platform:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- what the tool's operator pastes ---------------------------------------------------

    def registration(self) -> list[str]:
        return ["--issuer", self.issuer, "--client-id", self.client_id,
                "--deployment-id", self.deployment_id, "--auth-login-url", f"{self.url}/auth",
                "--auth-token-url", f"{self.url}/token", "--jwks-url", f"{self.url}/jwks"]

    def lineitem(self, exercise: str) -> str:
        return f"{self.url}/lineitems/{exercise}?course=7"

    # -- messages --------------------------------------------------------------------------

    def jwks(self) -> dict[str, Any]:
        jwk = RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return {"keys": [{**jwk, "kid": self.kid, "alg": "RS256", "use": "sig"}]}

    def id_token(self, nonce: str, redirect_uri: str, **overrides: Any) -> str:
        plan = self.plan
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer, "aud": self.client_id, "sub": plan.user, "iat": now,
            "exp": now + 300, "nonce": nonce, "name": "Ada Lovelace",
            LTI + "message_type": plan.message_type, LTI + "version": "1.3.0",
            LTI + "deployment_id": self.deployment_id, LTI + "roles": plan.roles,
            LTI + "target_link_uri": redirect_uri,
            LTI + "context": {"id": "course-7", "title": "Numerical Python"},
        }
        if plan.message_type == "LtiResourceLinkRequest":
            claims[LTI + "resource_link"] = {"id": f"link-{plan.exercise}"}
            claims[LTI + "custom"] = {"exercise": plan.exercise}
            claims["https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"] = {
                "scope": [SCORE_SCOPE], "lineitem": self.lineitem(plan.exercise)}
        else:
            claims["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"] = {
                "deep_link_return_url": f"{self.url}/deep-link-return",
                "accept_types": ["ltiResourceLink"], "accept_presentation_document_targets":
                ["iframe", "window"], "data": "opaque-data-42"}
        claims.update(plan.overrides)
        claims.update(overrides)
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})

    def authorize(self, query: dict[str, str]) -> tuple[int, str]:
        """The auth endpoint: a page that form-posts id_token and state to the tool."""
        missing = [name for name in AUTH_PARAMS if not query.get(name)]
        expected = {"scope": "openid", "response_type": "id_token",
                    "response_mode": "form_post", "prompt": "none",
                    "client_id": self.client_id, "redirect_uri": f"{self.tool_url}/lti/launch"}
        wrong = [name for name, value in expected.items() if query.get(name) != value]
        if missing or wrong:
            return 400, f"refused: missing {missing}, wrong {wrong}"
        token = self.id_token(query["nonce"], query["redirect_uri"])
        page = (f'<form method="post" action="{html.escape(query["redirect_uri"])}">'
                f'<input type="hidden" name="id_token" value="{token}">'
                f'<input type="hidden" name="state" value="{html.escape(query["state"])}">'
                "</form><script>document.forms[0].submit();</script>")
        return 200, page

    def _tool_key(self, token: str) -> Any:
        return jwt.PyJWKClient(f"{self.tool_url}/lti/jwks").get_signing_key_from_jwt(token).key

    def grant(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """The token endpoint: client credentials with a JWT assertion (RFC 7523)."""
        if form.get("grant_type") != "client_credentials" or form.get(
                "client_assertion_type") != \
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            return 400, {"error": "unsupported_grant_type"}
        if SCORE_SCOPE not in form.get("scope", "").split():
            return 400, {"error": "invalid_scope"}
        assertion = form.get("client_assertion", "")
        try:
            claims = jwt.decode(assertion, self._tool_key(assertion), algorithms=["RS256"],
                                audience=f"{self.url}/token", issuer=self.client_id,
                                options={"require": ["exp", "iat", "jti", "sub"]})
        except jwt.PyJWTError as error:
            self.refusals.append(f"assertion: {error}")
            return 401, {"error": "invalid_client"}
        if claims["sub"] != self.client_id:
            return 401, {"error": "invalid_client"}
        token = secrets.token_urlsafe(24)
        with self.lock:
            self.assertions.append(claims)
            self.tokens[token] = time.time() + 3600
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600,
                     "scope": SCORE_SCOPE}

    def score(self, path: str, headers: Any, body: bytes) -> int:
        """A line item's score service: a valid token, the score media type and fields."""
        token = headers.get("Authorization", "").removeprefix("Bearer ")
        if self.tokens.get(token, 0) < time.time():
            self.refusals.append("score: no valid access token")
            return 401
        if headers.get("Content-Type") != "application/vnd.ims.lis.v1.score+json":
            return 415
        score = json.loads(body)
        needed = {"userId", "scoreGiven", "scoreMaximum", "activityProgress",
                  "gradingProgress", "timestamp"}
        if not needed <= set(score) or not re.fullmatch(r"/lineitems/[\w-]+/scores", path):
            return 400
        with self.lock:
            if self.fail_scores:
                self.fail_scores -= 1
                return 503
            self.scores.append({**score, "lineitem": path})
        return 200

    def deep_link_return(self, form: dict[str, str]) -> int:
        token = form.get("JWT", "")
        try:
            claims = jwt.decode(token, self._tool_key(token), algorithms=["RS256"],
                                audience=self.issuer, issuer=self.client_id)
        except jwt.PyJWTError as error:
            self.refusals.append(f"deep link: {error}")
            return 400
        self.deep_links.append(claims)
        return 200


def _handler(platform: Platform) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _answer(self, status: int, body: str | dict[str, Any],
                    kind: str = "text/html") -> None:
            data = (json.dumps(body) if isinstance(body, dict) else body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json" if isinstance(body, dict)
                             else kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            parts = urlsplit(self.path)
            if parts.path == "/jwks":
                self._answer(200, platform.jwks())
            elif parts.path == "/auth":
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                self._answer(*platform.authorize(query))
            else:
                self._answer(404, "not found")

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            path = urlsplit(self.path).path
            if path == "/token":
                self._answer(*platform.grant(form))
            elif path == "/deep-link-return":
                self._answer(platform.deep_link_return(form), "ok")
            elif path.startswith("/lineitems/"):
                self._answer(platform.score(path, self.headers, body), "")
            else:
                self._answer(404, "not found")

    return Handler
