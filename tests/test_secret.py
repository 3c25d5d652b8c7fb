"""The server's secret for hidden inputs: from the setting, else a file in the data dir."""

from __future__ import annotations

import multiprocessing
import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from grader.service.secret import SECRET_FILE, SecretFileError, hidden_secret
from grader.settings import Settings


@pytest.fixture(autouse=True)
def _no_secret_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRADER_HIDDEN_SECRET", raising=False)


def settings(data_dir: Path, **values: object) -> Settings:
    return Settings(data_dir=data_dir, **values)  # type: ignore[arg-type]


def test_the_configured_secret_is_used_and_no_file_is_made(tmp_path: Path) -> None:
    secret = hidden_secret(settings(tmp_path, hidden_secret="s" * 16))
    assert secret == b"s" * 16
    assert not (tmp_path / SECRET_FILE).exists()


def test_without_a_setting_a_secret_file_is_made_0600_with_32_random_bytes(
    tmp_path: Path,
) -> None:
    secret = hidden_secret(settings(tmp_path / "data"))
    path = tmp_path / "data" / SECRET_FILE
    assert path.read_bytes() == secret and len(secret) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == [SECRET_FILE]  # no draft left behind
    assert hidden_secret(settings(tmp_path / "other")) != secret


def test_the_secret_file_is_reused_on_the_next_call(tmp_path: Path) -> None:
    first = hidden_secret(settings(tmp_path))
    assert hidden_secret(settings(tmp_path)) == first


def test_an_empty_setting_means_unset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADER_HIDDEN_SECRET", "")
    assert settings(tmp_path).hidden_secret is None


def test_a_short_hidden_secret_setting_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GRADER_HIDDEN_SECRET", "fifteen-chars!!")
    with pytest.raises(ValidationError, match="GRADER_HIDDEN_SECRET must be at least 16"):
        settings(tmp_path)
    monkeypatch.setenv("GRADER_HIDDEN_SECRET", "sixteen-chars!!!")
    assert hidden_secret(settings(tmp_path)) == b"sixteen-chars!!!"


def test_a_secret_file_open_to_other_users_is_refused(tmp_path: Path) -> None:
    path = tmp_path / SECRET_FILE
    path.write_bytes(b"x" * 32)
    path.chmod(0o644)
    with pytest.raises(SecretFileError, match="open to other users"):
        hidden_secret(settings(tmp_path))


def test_a_short_secret_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / SECRET_FILE
    path.write_bytes(b"x" * 15)
    path.chmod(0o600)
    with pytest.raises(SecretFileError, match="15 bytes"):
        hidden_secret(settings(tmp_path))


def _secret_of(data_dir: str) -> bytes:
    return hidden_secret(Settings(data_dir=Path(data_dir)))


def test_processes_starting_together_agree_on_one_secret(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    with context.Pool(8) as pool:
        secrets = pool.map(_secret_of, [str(tmp_path)] * 32)
    assert set(secrets) == {(tmp_path / SECRET_FILE).read_bytes()}
    assert [p.name for p in tmp_path.iterdir()] == [SECRET_FILE]
