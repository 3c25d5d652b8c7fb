"""Settings, read from ``GRADER_*`` environment variables once, when first asked for."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import os
import re
from collections.abc import Iterable
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, PrivateAttr, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent

Tokens = Annotated[list[SecretStr], NoDecode]
# "name:token" names an instructor token: the name is recorded with what it publishes
TOKEN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}")


class Mode(StrEnum):
    """Who grades: this process (embedded), or workers taking jobs from a queue."""

    EMBEDDED = "embedded"
    PROCRASTINATE = "procrastinate"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GRADER_", extra="ignore")

    exercises_dir: Path = Field(default=PROJECT_ROOT / "exercises",
                                description="Exercise bundles shipped with the grader")
    extra_exercises_dir: Path | None = Field(
        default=None, description="More bundles, e.g. a mounted folder; same layout")
    data_dir: Path = Field(default=PROJECT_ROOT / "data",
                           description="Where the SQLite database lives")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default sqlite:///<data_dir>/grader.db")
    slots: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1, le=256,
                       description="Submissions graded at once")
    backlog: int = Field(default=64, ge=1, le=100_000,
                         description="Accepted submissions waiting or grading before 503")
    queue: Mode = Field(
        default=Mode.EMBEDDED,
        description="embedded: this process stores, queues and grades (SQLite or PostgreSQL). "
        "procrastinate: PostgreSQL only; `serve` stores and defers jobs, `grader worker` "
        "processes grade them")
    learner_limit: int = Field(
        default=4, ge=1, le=10_000,
        description="Submissions of one learner waiting or grading at once; more is 429")
    token_limit: int | None = Field(
        default=None, ge=1, le=1_000_000,
        description="Submissions of one platform token waiting or grading at once; more is "
        "429. Default: three quarters of the backlog when several platform tokens are set, "
        "so that one platform's burst leaves room for the others; else the backlog")
    report_page_learner_limit: int = Field(
        default=1, ge=1, le=1000,
        description="Report pages of one learner's submissions graded before their arrays "
        "were kept (each runs the learner's code again) drawn at once; more is 429")
    report_page_token_limit: int | None = Field(
        default=None, ge=1, le=1000,
        description="Report pages of one platform token's submissions drawn at once; more is "
        "429. Default: 1 when several platform tokens are set, so that one platform leaves "
        "room for the others; else every page drawn at once")
    proof_token_limit: int = Field(
        default=1, ge=1, le=100,
        description="Pushed bundles one instructor token has proven at once (each runs its "
        "reference.py for up to a minute); more is 429")
    worker_concurrency: int = Field(
        default_factory=lambda: os.cpu_count() or 1, ge=1, le=256,
        description="`grader worker`: submissions graded at once in the fast lane")
    stalled_seconds: int = Field(
        default=30, ge=5, le=3600,
        description="A worker silent this long is taken for dead; its jobs are retried")
    max_source_bytes: int = Field(default=64 * 1024, ge=1024, le=1024 * 1024,
                                  description="Largest accepted source")
    keep_alive_seconds: int = Field(
        default=5, ge=1, le=300,
        description="How long a connection may wait for its next request (or its first) and "
        "take to send that request's head before it is closed")
    body_seconds: int = Field(default=30, ge=1, le=600,
                              description="How long a request's body may take to arrive; "
                              "longer is 408 and the connection is closed")
    sandbox_base_uid: int = Field(
        default=61000, ge=1000, le=2**31 - 1024,
        description="Lowest uid the sandbox children may use (as root); each grader claims "
        "free blocks of 64 from here on")
    fast_lane_cpu_ms: int = Field(
        default=50, ge=5, le=60_000,
        description="time a submission may hold a fast-lane place, computing or waiting (not "
        "waiting for a busy CPU), before it leaves the fast lane for the slow one, at the lowest "
        "priority; the name is kept for existing deployments")
    slow_lane_slots: int | None = Field(
        default=None, ge=1, le=4096,
        description="Submissions in the slow lane at once; 16 x slots if unset")
    sandbox_without: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated sandbox layers to leave out (seccomp, landlock); the "
        "sandbox then refuses to grade. For proving that it fails closed")
    platform_tokens: Tokens = Field(default_factory=list,
                                    description="Comma-separated; may submit and read")
    instructor_tokens: Tokens = Field(
        default_factory=list, description="Comma-separated; may do everything. Each may be "
        "named, name:token; the name is recorded with the versions it publishes")
    metrics_token: SecretStr | None = Field(
        default=None, description="Bearer token that may read /metrics (as may instructor "
        "tokens). Unset: /metrics is open when no platform token is set, else instructor "
        "tokens only")
    callback_secret: SecretStr | None = Field(
        default=None, description="Key that signs callbacks (Standard Webhooks): "
        "whsec_<base64> (the decoded bytes), or any other text (its UTF-8 bytes)")
    hidden_secret: SecretStr | None = Field(
        default=None,
        description="Key from which hidden inputs are derived; default <data_dir>/hidden-secret")
    callback_attempts: int = Field(default=5, ge=1, le=20,
                                   description="Deliveries tried per callback")
    callback_host_concurrency: int = Field(
        default=8, ge=1, le=256,
        description="Callbacks in flight to one host at once, across every process")
    callback_networks: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated networks (10.0.0.0/8, ::1/128) callbacks may reach "
        "besides public addresses; a callback to any other address is refused")
    callback_timeout_seconds: float = Field(
        default=10.0, ge=0.5, le=300,
        description="One callback attempt's deadline (connect, send, answer); a receiver "
        "slower than that is tried again later")
    report_link_seconds: int = Field(
        default=24 * 3600, ge=60, le=30 * 24 * 3600,
        description="How long a report_url (a signed link to the report page) stays valid")
    log_level: str = Field(default="INFO", description="Python logging level")
    _instructor_names: list[str | None] = PrivateAttr(default_factory=list)

    @field_validator("callback_secret", "hidden_secret", "metrics_token", "database_url",
                     "extra_exercises_dir", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("platform_tokens", "instructor_tokens", "sandbox_without",
                     "callback_networks", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [t.strip() for t in value.split(",") if t.strip()]
        return value

    @field_validator("callback_networks")
    @classmethod
    def _networks(cls, entries: list[str]) -> list[str]:
        try:
            parse_networks(entries)
        except ValueError as error:
            raise ValueError(f"GRADER_CALLBACK_NETWORKS: {error}") from None
        return entries

    @field_validator("platform_tokens")
    @classmethod
    def _long_enough(cls, tokens: list[SecretStr]) -> list[SecretStr]:
        for token in tokens:
            if len(token.get_secret_value()) < 16:
                raise ValueError("tokens must be at least 16 characters")
        return tokens

    @model_validator(mode="after")
    def _named_instructors(self) -> Settings:
        """``name:token`` entries: the token alone is kept in ``instructor_tokens``, its name
        beside it. An entry whose part before the first colon is no name (letters, digits,
        ``_.@-``) is a token without a name, colon and all."""
        tokens, names = [], []
        for entry in self.instructor_tokens:
            text = entry.get_secret_value()
            name, _, token = text.partition(":")
            if not token or not TOKEN_NAME.fullmatch(name):
                name, token = "", text
            if len(token) < 16:
                raise ValueError("tokens must be at least 16 characters")
            tokens.append(SecretStr(token))
            names.append(name or None)
        self.instructor_tokens, self._instructor_names = tokens, names
        return self

    def instructor_name(self, index: int) -> str | None:
        """The name given to the ``index``-th instructor token, if any."""
        return self._instructor_names[index] if index < len(self._instructor_names) else None

    @model_validator(mode="after")
    def _secret_strength(self) -> Settings:
        if self.callback_secret is not None:
            _check_callback_secret(self.callback_secret.get_secret_value())
        if self.hidden_secret is not None and len(self.hidden_secret.get_secret_value()) < 16:
            raise ValueError("GRADER_HIDDEN_SECRET must be at least 16 characters")
        if self.metrics_token is not None and len(self.metrics_token.get_secret_value()) < 16:
            raise ValueError("GRADER_METRICS_TOKEN must be at least 16 characters")
        return self

    @model_validator(mode="after")
    def _queue_needs_postgresql(self) -> Settings:
        if self.distributed and not self.database.startswith("postgresql"):
            raise ValueError("GRADER_QUEUE=procrastinate needs GRADER_DATABASE_URL to be a "
                             "PostgreSQL URL (postgresql+psycopg://...)")
        return self

    @property
    def distributed(self) -> bool:
        """The mode, read here alone: workers grade (True), or this process does."""
        return self.queue is Mode.PROCRASTINATE

    @property
    def per_token(self) -> int:
        if self.token_limit is not None:
            return self.token_limit
        return max(1, self.backlog * 3 // 4) if len(self.platform_tokens) > 1 else self.backlog

    def pages_per_token(self, at_once: int) -> int:
        """Report pages of one token drawn at once, of the ``at_once`` drawn in all."""
        if self.report_page_token_limit is not None:
            return self.report_page_token_limit
        return 1 if len(self.platform_tokens) > 1 else at_once

    @property
    def database(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'grader.db'}"


def parse_networks(entries: Iterable[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """CIDR networks (``10.0.0.0/8``, ``::1/128``) or single addresses; raises ValueError
    with the entry that is neither."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{entry.strip()!r} is not a network (10.0.0.0/8) nor an "
                             "address") from None
    return networks


@lru_cache
def get_settings() -> Settings:
    return Settings()


def _check_callback_secret(secret: str) -> None:
    """At least 16 characters; a ``whsec_`` one, base64 of at least 16 bytes."""
    if len(secret) < 16:
        raise ValueError("GRADER_CALLBACK_SECRET must be at least 16 characters")
    if secret.startswith("whsec_"):
        try:
            key = base64.b64decode(secret[len("whsec_"):], validate=True)
        except binascii.Error:
            raise ValueError("GRADER_CALLBACK_SECRET: whsec_ must be followed by base64") \
                from None
        if len(key) < 16:
            raise ValueError("GRADER_CALLBACK_SECRET: a whsec_ key must be at least 16 bytes")
