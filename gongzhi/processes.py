"""Worker processes shared by the simulator and the matcher."""
from __future__ import annotations

import multiprocessing
import multiprocessing.pool
import signal


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
