"""A deadline burst, simulated from measured service times: how deep the queue gets and how
long submissions wait, against the number of workers.

The model is the distributed mode's: submissions arrive at random (a Poisson stream) at a
given rate for the burst's length; each worker has as many fast places as CPUs; a submission
waits in one queue, first come first served, for the first free place, and holds it for one
service time drawn from the measured ones. A runaway (an infinite loop) holds its place only
for the fast lane's CPU budget, then goes on at idle priority, where it takes no CPU that
honest work wants; it is charged that budget here.
"""

from __future__ import annotations

import heapq
import random
import statistics
from dataclasses import dataclass


@dataclass
class Outcome:
    workers: int
    places: int
    deepest: int
    wait_p50: float
    wait_p99: float
    drained_after: float  # seconds after the last arrival until the queue is empty

    def line(self) -> str:
        return (f"{self.workers:>7}  {self.places:>6}  {self.deepest:>9}  "
                f"{self.wait_p50:>10.2f}  {self.wait_p99:>10.2f}  {self.drained_after:>9.1f}")


HEADER = "workers  places  max queue  wait p50 s  wait p99 s  drained s"


def simulate(submissions: int, seconds: float, workers: int, cpus_per_worker: int,
             service: list[float], runaway_share: float = 0.0, runaway_cost: float = 0.05,
             overhead: float = 0.0, seed: int = 1) -> Outcome:
    """``service``: measured seconds per honest submission on one place; ``overhead``:
    seconds the queue adds to each (fetching, claiming, writing the report)."""
    rng = random.Random(seed)
    rate = submissions / seconds
    places = workers * cpus_per_worker
    free_at = [0.0] * places  # a heap: when each place is next free
    heapq.heapify(free_at)
    arrival, waits, deepest = 0.0, [], 0
    starts: list[float] = []  # start times of the queued ones, a heap, to count the queue
    last_start = 0.0
    for _ in range(submissions):
        arrival += rng.expovariate(rate)
        runaway = rng.random() < runaway_share
        cost = (runaway_cost if runaway else rng.choice(service)) + overhead
        start = max(arrival, heapq.heappop(free_at))
        heapq.heappush(free_at, start + cost)
        waits.append(start - arrival)
        heapq.heappush(starts, start)
        while starts and starts[0] <= arrival:
            heapq.heappop(starts)
        deepest = max(deepest, len(starts))
        last_start = max(last_start, start)
    ordered = sorted(waits)
    return Outcome(workers, places, deepest, statistics.median(ordered),
                   ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
                   max(0.0, last_start - arrival))


def table(submissions: int, seconds: float, workers: list[int], cpus_per_worker: int,
          service: list[float], runaway_share: float, overhead: float) -> list[str]:
    mean = statistics.fmean(service) + overhead
    out = [f"{submissions} submissions in {seconds / 60:g} min ({submissions / seconds:.1f}/s), "
           f"{runaway_share:.0%} infinite loops; service {mean * 1000:.1f} ms per honest "
           f"submission per place (measured, with {overhead * 1000:.1f} ms of queue), "
           f"{cpus_per_worker} places per worker", HEADER]
    out += [simulate(submissions, seconds, n, cpus_per_worker, service, runaway_share,
                     overhead=overhead).line() for n in workers]
    return out
