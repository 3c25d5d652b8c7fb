"""The database itself: its engine (SQLite, a file in WAL mode, or PostgreSQL through a URL),
its pooled connections kept alive, and its schema, made and upgraded by the Alembic
migrations in ``grader/storage/migrations``."""

from __future__ import annotations

import contextlib
import logging
import os
import select as selectors_
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from psycopg import Error as PgError
from psycopg import InterfaceError as PgInterfaceError
from psycopg import OperationalError as PgOperationalError
from psycopg_pool import PoolTimeout
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolFull
from sqlalchemy.orm import Session, sessionmaker

from grader.errors import StorageError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
PING_AFTER_IDLE = 1.0  # seconds
T = TypeVar("T")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1].split("?", 1)[0]
        private = Path(path) if path and path != ":memory:" else None
        if private is not None:
            private_file(private)
        # Last in, first out: the connection used last is used again, and its page cache is
        # still good (each connection's cache is read again once another one has written).
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               pool_use_lifo=True)

        @event.listens_for(engine, "connect")
        def _pragmas(connection: Any, _record: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()
            if private is not None:  # SQLite made them with the database's mode; made sure
                for companion in ("-wal", "-shm"):
                    _owner_only(private.with_name(private.name + companion))

        return engine
    engine = create_engine(url)
    _ping_after_idle(engine)
    return engine


def private_folder(folder: Path) -> None:
    """Make ``folder`` (and its missing parents) as the grader's own: mode 0700, for it holds
    learners' code and reports. A folder that exists is left as its owner set it."""
    if not folder.is_dir():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        _owner_only(folder, 0o700)


def private_file(path: Path) -> None:
    """The SQLite database file, made (empty) with mode 0600 before SQLite opens it, or set to
    0600 when it exists: it holds learners' code and reports, which no other user may read.
    SQLite makes its -wal and -shm files with the database file's mode."""
    private_folder(path.parent)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    except OSError:
        return  # SQLite says why when it opens it
    os.close(descriptor)
    _owner_only(path)


def _owner_only(path: Path, mode: int = 0o600) -> None:
    with contextlib.suppress(OSError):  # absent, or another user's: left as it is
        if path.exists() and path.stat().st_uid == os.geteuid():
            path.chmod(mode)


def suspect(connection: Any, idle: float) -> bool:
    """Whether a pooled connection (psycopg's) must be pinged before use: it has been idle
    for over a second, or the server has sent it something while idle, which is how a
    dropped connection shows (an idle connection of a pool is sent nothing else)."""
    if idle > PING_AFTER_IDLE or connection.closed:
        return True
    try:
        readable, _, _ = selectors_.select([connection.fileno()], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def _ping_after_idle(engine: Engine) -> None:
    """A pooled connection that is ``suspect`` is pinged before it is handed out, and replaced
    if the database has dropped it (a restart, ``pg_terminate_backend``). One in steady use is
    not: a ping on every checkout would cost a round trip per transaction."""

    @event.listens_for(engine, "checkin")
    def _idle_from(_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _alive(connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or not suspect(connection, time.monotonic() - since):
            return
        autocommit = connection.autocommit
        try:
            connection.autocommit = True
            connection.execute("SELECT 1")
        except Exception as error:
            raise DisconnectionError(f"a pooled connection was dropped: {error}") from error
        finally:
            with contextlib.suppress(Exception):
                connection.autocommit = autocommit


# Errors that say the database cannot be reached now (down, restarting, refusing connections,
# every pooled connection in use past the pool's timeout), not that a statement was wrong.
_AWAY = (OperationalError, InterfaceError, DisconnectionError, PoolFull, PgOperationalError,
         PgInterfaceError, PoolTimeout)

# Every error that the database's drivers raise (for a handler of them all)
DATABASE_ERRORS: tuple[type[Exception], ...] = (SQLAlchemyError, PgError, PoolTimeout)


def unreachable(error: BaseException) -> bool:
    """Whether ``error``, or one it was raised from, says the database is away for now: an
    answer to try again later (503), not a fault of the grader's (500)."""
    seen: set[int] = set()
    cause: BaseException | None = error
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, _AWAY):
            return True
        if isinstance(cause, DBAPIError) and cause.connection_invalidated:
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def log_failure(log: logging.Logger, what: str, error: BaseException) -> None:
    """Log a background task's failure: one line when the database is away for now (an
    outage, waited out), the whole traceback for anything else (a fault to look into)."""
    if unreachable(error):
        log.warning("%s: the database cannot be reached: %s", what, first_line(error))
    else:
        log.error("%s", what, exc_info=error)


def first_line(error: BaseException) -> str:
    """An error in one short line, for a log that says why without a traceback."""
    return str(error).splitlines()[0][:300] if str(error) else type(error).__name__


def again_if_dropped(work: Callable[[], T]) -> T:
    """Run ``work`` (a transaction, or one statement), once more if the database dropped the
    connection under it (a restart, ``pg_terminate_backend``): the pool has thrown away the
    dropped connections by then. ``work`` must be safe to run twice."""
    try:
        return work()
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
    return work()


def _alembic() -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine) -> None:
    """Create or upgrade the schema to the newest migration."""
    from alembic import command

    config = _alembic()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


class OldSchema(StorageError, RuntimeError):
    """The database is not at the schema this grader needs: run ``grader migrate``."""


def revisions(engine: Engine) -> tuple[str | None, str, int]:
    """The database's schema revision (None: no schema yet), the one this code needs, and
    how many tables the database has."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import inspect

    head = ScriptDirectory.from_config(_alembic()).get_current_head()
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
        tables = len(inspect(connection).get_table_names())
    assert head is not None
    return current, head, tables


def revisions_between(before: str | None, head: str) -> list[tuple[str, str]]:
    """The migrations that take a schema at ``before`` (None: none yet) to ``head``, oldest
    first: each one's revision and the first line of what it says it does."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(_alembic())
    steps = [(script.revision, (script.doc or "").strip().splitlines()[0:1])
             for script in scripts.iterate_revisions(head, before or "base")]
    return [(revision, doc[0] if doc else "") for revision, doc in reversed(steps)]


def schema_problem(engine: Engine) -> str | None:
    """Why the database's schema is not the one this code needs; None when it is."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic()).get_current_head()
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    if current == head:
        return None
    return (f"the database's schema is at {current or 'nothing'}, and this grader needs "
            f"{head}: run `grader migrate` once, before the servers and workers start")


class Database:
    """A database at the schema this code needs, with the ways the store's parts use it:
    ``engine`` (a transaction per ``begin``), ``_single`` (one statement that commits alone,
    one round trip) and ``_session`` (the ORM, in a transaction)."""

    def __init__(self, url: str, migrate: bool = True) -> None:
        """``migrate``: bring the schema up to date (one process alone on its database);
        otherwise refuse a schema that is not up to date (``OldSchema``)."""
        self.engine = make_engine(url)
        if migrate:
            upgrade(self.engine)
        else:
            problem = schema_problem(self.engine)
            if problem is not None:
                self.engine.dispose()
                raise OldSchema(problem)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # One statement, one round trip: no BEGIN and COMMIT around it.
        self._single = self.engine.execution_options(isolation_level="AUTOCOMMIT")

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    def close(self) -> None:
        self.engine.dispose()

    def ping(self) -> bool:
        with self.engine.connect() as connection:
            return connection.execute(text("SELECT 1")).scalar() == 1
