"""How long an exercise's summary takes on PostgreSQL with many submissions: a figure, not a
test. ``python -m grader.bench.summary [POSTGRES_URL] [--rows N]``

A scratch schema is made on the server, migrated, and filled by the server itself
(``INSERT ... SELECT`` over ``generate_series``, no row through Python) with ``--rows``
graded submissions of one exercise (the worst case: all of them in the summary), from
``--rows / 20`` learners, over 30 days and 3 versions, each failing one with a mistake; then
``VACUUM ANALYZE`` (as autovacuum would), and each summary is timed warm, the median and
the slowest of ``--repeat`` runs. The schema is dropped at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
import uuid
from collections.abc import Callable

import sqlalchemy as sa

from grader.storage.listing import Wanted
from grader.storage.store import Store
from grader.storage.summary import Filters

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CASES = ["square 8x8", "tall 12x10", "square 10x10", "tall 12x8"]
MISTAKES = "ARRAY['flipped_kernel','same_padding','transposed_output','full_padding'," \
           "'integer_truncation','wrapped_indices']"

# Row i: learner i % L, their (i / L + 1)-th attempt; the later the attempt, the likelier a
# pass. A pass has every case (bits 0-3: 15) and 100 %; a fail some of them.
FILL = """
INSERT INTO submissions (id, exercise_id, learner_id, source, seed, status, report, extra,
  scope, attempts, exercise_version, round, created_at, passed, score_pct, cases_passed,
  duration_ms, attempt, first_pass)
SELECT md5(i::text), 'conv2d', 'learner-' || learner, 'def conv(i, k): ...', i, 'done', '{}',
  '{}', 'bench', 1, (i * 3 / :rows)::int, 0, :start + (i * interval '30 days' / :rows),
  passed, CASE WHEN passed THEN 100 ELSE (25 * (i % 4))::smallint END,
  CASE WHEN passed THEN 15 ELSE (1 << (i % 4)) - 1 END, 5 + 200 * random() ^ 4,
  i / :learners + 1, passed AND NOT coalesce(bool_or(passed) OVER (PARTITION BY learner
    ORDER BY i ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), false)
FROM (SELECT i, i % :learners AS learner, random() < 0.25 + 0.15 * (i / :learners) AS passed
      FROM generate_series(0, :rows - 1) AS i) AS drawn
"""
MISTAKE_ROWS = f"""
INSERT INTO submission_mistakes (submission_id, mistake, exercise_id, exercise_version,
  created_at)
SELECT id, ({MISTAKES})[1 + (abs(hashtext(id)) % 6)], exercise_id, exercise_version,
  created_at FROM submissions WHERE passed IS FALSE AND abs(hashtext(id)) % 5 <> 0
"""


def timed(run: Callable[[], object], repeat: int) -> tuple[float, float]:
    """The median and the slowest of ``repeat`` warm runs, in ms."""
    run()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times)


def fill(url: str, rows: int) -> tuple[Store, float]:
    store = Store(url)
    started = time.perf_counter()
    start = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    with store.engine.begin() as connection:
        connection.execute(sa.text(FILL), {"rows": rows, "learners": max(1, rows // 20),
                                           "start": start})
        connection.execute(sa.text(MISTAKE_ROWS))
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("VACUUM ANALYZE submissions"))
        connection.execute(sa.text("VACUUM ANALYZE submission_mistakes"))
    return store, time.perf_counter() - started


def measure(url: str, rows: int, repeat: int) -> list[tuple[str, float, float]]:
    store, seconds = fill(url, rows)
    print(f"{rows} submissions inserted and vacuumed in {seconds:.1f} s")
    since = dt.datetime(2026, 11, 24, tzinfo=dt.UTC)
    runs: list[tuple[str, Callable[[], object]]] = [
        ("summary, every submission", lambda: store.summary("conv2d", Filters(), CASES)),
        ("summary, version=2", lambda: store.summary("conv2d", Filters(version=2), CASES)),
        ("summary, since the last 7 days",
         lambda: store.summary("conv2d", Filters(since=since), CASES)),
        ("every exercise's counts", store.exercise_counts),
        ("submissions page 1, no filter", lambda: store.listed("conv2d", Wanted(), 50, 0)),
        ("submissions page 1, one mistake",
         lambda: store.listed("conv2d", Wanted(mistake="same_padding"), 50, 0)),
    ]
    try:
        return [(name, *timed(run, repeat)) for name, run in runs]
    finally:
        store.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.bench.summary",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("url", nargs="?", default=DEFAULT_URL,
                        help="a PostgreSQL server's URL (default: %(default)s)")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    schema = f"bench_summary_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(args.url)
    with admin.begin() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    joiner = "&" if "?" in args.url else "?"
    try:
        figures = measure(f"{args.url}{joiner}options=-csearch_path%3D{schema}", args.rows,
                          args.repeat)
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
    print(f"{'what':<36} {'median':>10} {'slowest':>10}")
    for name, median, slowest in figures:
        print(f"{name:<36} {median:>7.0f} ms {slowest:>7.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
