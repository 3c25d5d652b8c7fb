"""CPU time by process group, for the distributed mode's rows: what one graded submission
costs the embedded server (with its zygote and children) against the API process, the
workers (with theirs) and the PostgreSQL backends serving the scratch database.

Read from ``/proc/<pid>/stat`` before and after a row: a process's own CPU time and that of
the children it reaped, summed over each group's process trees. PostgreSQL's backends are the
ones ``pg_stat_activity`` lists for the scratch database (the benchmark runs on the database's
machine); its shared background processes (WAL writer, checkpointer) serve every database on
the server and are left out. CPU time is what this run used, whatever the load of the machine.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import psycopg
from sqlalchemy.engine import make_url

from grader.bench.stages import _children, stat


def tree_cpu(pid: int) -> tuple[float, float]:
    """CPU seconds of ``pid`` itself, and of every descendant with the children each of them
    reaped (and those ``pid`` reaped): a grader process, and its sandbox."""
    own, reaped = stat(pid)
    below, pending = reaped, _children(pid)
    while pending:
        current = pending.pop()
        below += sum(stat(current))
        pending.extend(_children(current))
    return own, below


class Backends:
    """The PostgreSQL backends connected to one database, found through the database itself."""

    def __init__(self, url: str) -> None:
        target = make_url(url)
        self.database = target.database
        self.connection = psycopg.connect(
            target.set(drivername="postgresql", database="postgres").render_as_string(
                hide_password=False), autocommit=True)

    def cpu(self) -> dict[int, float]:
        """Each backend's CPU seconds, by pid."""
        rows = self.connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", (self.database,)).fetchall()
        return {pid: sum(stat(pid)) for (pid,) in rows}

    def transactions(self) -> int:
        """Transactions the database has ended, committed or rolled back, as its backends
        have reported them (a busy one each second, an idle one up to 10 s late)."""
        row = self.connection.execute(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s",
            (self.database,)).fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        self.connection.close()


@dataclass
class Groups:
    """CPU seconds of each named group at one moment; ``backends`` by pid; and the
    database's transactions so far."""
    trees: dict[str, float]
    backends: dict[int, float]
    transactions: int = 0


def snapshot(groups: Mapping[str, Sequence[int]], backends: Backends | None) -> Groups:
    trees: dict[str, float] = {}
    for name, pids in groups.items():
        split = [tree_cpu(pid) for pid in pids]
        trees[name] = sum(own for own, _ in split)
        trees[f"{name}' sandbox" if name.endswith("s") else f"{name}'s sandbox"] = sum(
            below for _, below in split)
    if backends is None:
        return Groups(trees, {})
    return Groups(trees, backends.cpu(), backends.transactions())


def per_submission(before: Groups, after: Groups, count: int) -> dict[str, float]:
    """ms of CPU time per graded submission, by group (a backend that started during the row
    counts whole; one that ended is lost, which the pools' long-lived connections make rare)."""
    per = 1000.0 / count
    out = {name: (after.trees[name] - before.trees[name]) * per for name in after.trees}
    if after.backends or before.backends:
        out["PostgreSQL"] = sum(cpu - before.backends.get(pid, 0.0)
                                for pid, cpu in after.backends.items()) * per
    return out


def transactions_per_submission(before: Groups, after: Groups, count: int) -> float:
    return (after.transactions - before.transactions) / count


def cpu_lines(clients: int, embedded: dict[str, float], distributed: dict[str, float],
              transactions: float) -> list[str]:
    """The two modes' CPU per submission, by group, and the ratio of their totals."""
    def described(groups: dict[str, float]) -> str:
        return ", ".join(f"{name} {value:.2f}" for name, value in groups.items())

    alone, queued = sum(embedded.values()), sum(distributed.values())
    return [
        f"    CPU per graded submission with {clients:>2} clients (ms): embedded {alone:.2f} "
        f"({described(embedded)}); distributed {queued:.2f} ({described(distributed)}); "
        f"distributed/embedded {queued / alone:.2f}x; {transactions:.1f} PostgreSQL "
        f"transactions per submission; load average {os.getloadavg()[0]:.1f}"]
