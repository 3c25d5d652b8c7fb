"""What every row of the benchmark shares: timed calls from concurrent clients, their figures,
the baseline a row is compared with, and a free port for a server it starts."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Figures:
    name: str
    clients: int
    count: int
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.count / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(int(q * len(ordered)), len(ordered) - 1)] * 1000

    def line(self, baselines: Baselines | None = None) -> str:
        if baselines is None:
            ratio = "  (latency only)"
        else:
            baseline = baselines.like(self.clients)
            ratio = f"  {self.rate / baseline.rate:6.1f}x baseline@{baseline.clients}"
        return (f"{self.name:<40} clients {self.clients:>2}  {self.rate:8.1f} /s  "
                f"p50 {self.percentile(0.5):7.2f} ms  p99 {self.percentile(0.99):7.2f} ms{ratio}")


class Baselines:
    """The baseline measured with several client counts; a row is compared with the baseline
    that had as many clients, or the most it had."""

    def __init__(self, rows: list[Figures]) -> None:
        self.rows = sorted(rows, key=lambda row: row.clients)

    def like(self, clients: int) -> Figures:
        fitting = [row for row in self.rows if row.clients <= clients]
        return fitting[-1] if fitting else self.rows[0]


def measure(name: str, clients: int, count: int, one: Callable[[int], None],
            pause: float = 0.0) -> Figures:
    """``count`` calls of ``one(i)`` spread over ``clients`` threads, each timed; each client
    waits ``pause`` seconds between calls (0: back to back, the machine saturated)."""
    latencies: list[float] = []
    lock = threading.Lock()
    counter = iter(range(count))

    def client() -> None:
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            started = time.perf_counter()
            one(i)
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
            time.sleep(pause)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Figures(name, clients, count, time.perf_counter() - started, latencies)
