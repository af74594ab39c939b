"""Worker processes shared by the simulator and the matcher, and how much memory a process used at its peak."""
from __future__ import annotations

import multiprocessing
import multiprocessing.pool
import resource
import signal
from pathlib import Path


def fork_pool(workers: int) -> multiprocessing.pool.Pool:
    """A pool of forked workers (they inherit the parent's tables instead of unpickling them) that die on SIGTERM.

    `Pool.terminate()` (also what leaving a `with Pool(...)` block does) stops workers with SIGTERM. A worker forked
    from a process where Dagster's in-process execution had set SIGTERM to raise KeyboardInterrupt would instead run
    Python clean-up and could wait forever on a lock of the pool's queues, and the parent with it: the full test
    suite hung that way once (the simulator's pool, after the pipelines tests).
    """
    return multiprocessing.get_context("fork").Pool(
        workers, initializer=signal.signal, initargs=(signal.SIGTERM, signal.SIG_DFL)
    )


def peak_rss_mb(pid: int | str = "self") -> float | None:
    """A process's peak resident memory in MB: VmHWM, the kernel's high-water mark of that process's own memory.
    Not ru_maxrss: Linux carries a parent's peak into an exec'd child's ru_maxrss (a parent holding a 17 GB DuckDB
    replica made every benchmark child report 17 GB). Without /proc: this process's ru_maxrss, another's None."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 if pid == "self" else None
