"""Published exercise versions: each spec, and a pushed bundle's files. A version is never
changed once written; a restore publishes a copy as the next one. (The table of outputs that
older versions computed for a pool of seeds is kept, unread: outputs are now computed for each
submission.)"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection

from grader.storage.database import Database
from grader.storage.rows import NewestRow, NewestSpec, SpecRow, VersionRow
from grader.storage.tables import ExerciseVersion, utc_now


def latest_version(connection: Connection, exercise_id: str) -> int:
    """The newest stored version of an exercise, in ``connection``'s transaction; 0: none."""
    return int(connection.execute(
        select(func.coalesce(func.max(ExerciseVersion.version), 0))
        .where(ExerciseVersion.exercise_id == exercise_id)).scalar_one())


class VersionRows(Database):
    latest_version = staticmethod(latest_version)

    def put_exercise(self, exercise_id: str, spec_json: str,
                     after: Callable[[Connection, int], None] | None = None, *,
                     files_json: str | None = None, message: str | None = None,
                     published_by: str | None = None) -> int:
        """Publish a spec as the exercise's next version; returns its number. A pushed
        bundle's ``files_json``, its instructor's ``message`` and the name of the token that
        published it are stored with it.
        ``after`` is given it in the same transaction."""
        with self.engine.begin() as connection:
            version = latest_version(connection, exercise_id) + 1
            connection.execute(insert(ExerciseVersion).values(
                exercise_id=exercise_id, version=version, spec=spec_json, created_at=utc_now(),
                files=files_json, message=message, published_by=published_by))
            if after is not None:
                after(connection, version)
        return version

    def restore_exercise(self, exercise_id: str, version: int, builtin_spec_json: str | None,
                         after: Callable[[Connection, int], None] | None = None,
                         published_by: str | None = None) -> int | None:
        """Publish a copy of ``version`` (its spec and files) as the next version;
        version 0 is ``builtin_spec_json``. Returns the new version; None when there is no
        such version to copy."""
        with self.engine.begin() as connection:
            if version == 0:
                if builtin_spec_json is None:
                    return None
                copied = SpecRow(builtin_spec_json, None)
            else:
                row = connection.execute(
                    select(ExerciseVersion.spec, ExerciseVersion.files).where(
                        ExerciseVersion.exercise_id == exercise_id,
                        ExerciseVersion.version == version)).first()
                if row is None:
                    return None
                copied = SpecRow(row.spec, row.files)
            new = latest_version(connection, exercise_id) + 1
            connection.execute(insert(ExerciseVersion).values(
                exercise_id=exercise_id, version=new, spec=copied.spec, files=copied.files,
                restored_from=version, created_at=utc_now(), published_by=published_by))
            if after is not None:
                after(connection, new)
        return new

    def exercises(self) -> list[NewestSpec]:
        """The newest stored version of every stored exercise, with its spec."""
        return [NewestSpec(row.exercise_id, row.version, row.spec) for row in self.newest_rows()]

    def exercise_version(self, exercise_id: str, version: int) -> str | None:
        """A stored version's spec; None when there is no such version."""
        row = self.exercise_row(exercise_id, version)
        return None if row is None else row.spec

    def exercise_row(self, exercise_id: str, version: int) -> SpecRow | None:
        """A stored version's spec and, for a pushed bundle, its files; None when there is
        no such version."""
        with self._session() as session:
            row = session.get(ExerciseVersion, (exercise_id, version))
            return None if row is None else SpecRow(row.spec, row.files)

    def newest_rows(self) -> list[NewestRow]:
        """The newest stored version of every stored exercise, with its spec and files."""
        newest = (select(ExerciseVersion.exercise_id,
                         func.max(ExerciseVersion.version).label("version"))
                  .group_by(ExerciseVersion.exercise_id).subquery())
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(ExerciseVersion.exercise_id, ExerciseVersion.version,
                       ExerciseVersion.spec, ExerciseVersion.files)
                .join(newest, (newest.c.exercise_id == ExerciseVersion.exercise_id)
                      & (newest.c.version == ExerciseVersion.version))
                .order_by(ExerciseVersion.exercise_id)).all()
        return [NewestRow(r.exercise_id, int(r.version), r.spec, r.files) for r in rows]

    def versions(self, exercise_id: str) -> list[VersionRow]:
        """Every stored version, oldest first."""
        with self._session() as session:
            return [VersionRow(v.version, v.created_at, v.files is not None, v.restored_from,
                               v.message, v.published_by)
                    for v in session.scalars(
                        select(ExerciseVersion).where(ExerciseVersion.exercise_id == exercise_id)
                        .order_by(ExerciseVersion.version))]
