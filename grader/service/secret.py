"""The server's secret from which hidden case inputs are derived (see ``grader.grading.inputs``).

``GRADER_HIDDEN_SECRET`` when it is set; otherwise 32 random bytes kept in
``<data_dir>/hidden-secret`` (mode 0600), made by the first process that needs them. Graders
that share the setting or the data dir draw the same hidden inputs from a seed, so a regrade,
or ``grader grade --seed`` on the server, gives the same report.

    SecretFileError     the file cannot be made or read, or is not fit to be used
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from grader.errors import ConfigError
from grader.grading.inputs import MIN_SECRET_BYTES
from grader.settings import Settings
from grader.storage.database import private_folder

SECRET_FILE = "hidden-secret"
SECRET_BYTES = 32


class SecretFileError(ConfigError):
    """The hidden-input secret's file is unusable; the operator's to fix, never a learner's."""


def hidden_secret(settings: Settings) -> bytes:
    """The configured secret, else the one in the data dir, made there if there is none."""
    if settings.hidden_secret is not None:
        return settings.hidden_secret.get_secret_value().encode("utf-8")
    path = settings.data_dir / SECRET_FILE
    try:
        return _read(path)
    except FileNotFoundError:
        return _create(path)


def _read(path: Path) -> bytes:
    try:
        with open(path, "rb") as file:
            mode = os.fstat(file.fileno()).st_mode
            secret = file.read(4096)
    except FileNotFoundError:
        raise
    except OSError as error:
        raise SecretFileError(f"cannot read the hidden-input secret {path}: {error}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SecretFileError(f"the hidden-input secret {path} is open to other users "
                              f"(mode {stat.S_IMODE(mode):04o}); make it 0600")
    if len(secret) < MIN_SECRET_BYTES:
        raise SecretFileError(f"the hidden-input secret {path} has {len(secret)} bytes; "
                              f"it needs at least {MIN_SECRET_BYTES}")
    return secret


def _create(path: Path) -> bytes:
    """Write a new secret in full under a name of its own, then link it into place.

    ``link`` fails when the name is taken, as ``O_EXCL`` does, so of two processes starting
    together exactly one secret is kept and both use it; and no reader ever sees a file that is
    only partly written."""
    secret = secrets.token_bytes(SECRET_BYTES)
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    try:
        private_folder(path.parent)
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(secret)
                file.flush()
                os.fsync(file.fileno())
            os.link(draft, path)
        finally:
            draft.unlink(missing_ok=True)
    except FileExistsError:
        return _read(path)  # another process made it meanwhile: theirs is the one
    except OSError as error:
        raise SecretFileError(f"cannot create the hidden-input secret {path}: {error}") \
            from None
    return secret
