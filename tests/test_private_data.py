"""The data folder the grader makes holds learners' code and reports: no other user reads it."""

from __future__ import annotations

import stat
from pathlib import Path

import httpx
import pytest

from tests.conftest import EXERCISES, Server

pytestmark = pytest.mark.processes

CORRECT = (EXERCISES / "conv2d" / "samples" / "correct_loops.py").read_text()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_fresh_data_folder_and_its_files_are_the_owners_alone(tmp_path: Path) -> None:
    data = tmp_path / "fresh" / "data"
    server = Server(tmp_path, {"GRADER_DATA_DIR": str(data)}).start()
    try:
        response = httpx.post(f"{server.url}/v1/submissions", timeout=60,
                              json={"exercise_id": "conv2d", "source": CORRECT})
        assert response.status_code == 200
        made = {path.name: mode(path) for path in data.iterdir()}
    finally:
        server.stop()
    assert mode(data) == 0o700
    # the database, its write-ahead log and shared memory, and the hidden-input secret
    assert {"grader.db", "grader.db-wal", "grader.db-shm", "hidden-secret"} <= set(made)
    assert made == {name: 0o600 for name in made}, made


def test_an_existing_database_file_is_made_the_owners_alone(tmp_path: Path) -> None:
    from grader.storage.database import Database

    (tmp_path / "grader.db").touch(mode=0o644)
    (tmp_path / "grader.db").chmod(0o644)
    database = Database(f"sqlite:///{tmp_path / 'grader.db'}")
    try:
        assert database.ping()
    finally:
        database.close()
    assert mode(tmp_path / "grader.db") == 0o600
