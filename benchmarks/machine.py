"""How fast the machine is at the moment a benchmark runs.

This host's speed swings by up to 1.7x within an hour while steal time stays at 1-2 % (docs/simulator.md, tenth
session): a figure measured alone cannot tell a slower program from a slower moment. Every benchmark row therefore
carries the time of one fixed pure-Python workload, taken before and after the run; compare rows only where the
probe agrees, or run a control beside them.
"""
from __future__ import annotations

import statistics
import time

PROBE_UPDATES = 300_000  # 39-117 ms seen in session 11, 110-230 ms in session 10 (its fast and slow phases)


def _workload() -> None:
    counts: dict[int, int] = {}
    for k in range(PROBE_UPDATES):
        counts[k % 1000] = counts.get(k % 1000, 0) + k


def speed_probe_ms(repeats: int = 5) -> float:
    """Median wall milliseconds of the fixed workload (lower = faster machine)."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        _workload()
        times.append((time.perf_counter() - started) * 1000.0)
    return round(statistics.median(times), 1)
