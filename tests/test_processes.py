import signal

from gongzhi.processes import fork_pool


def test_fork_pool_workers_die_on_sigterm_whatever_handler_the_parent_has():
    """Dagster's in-process runs leave SIGTERM raising KeyboardInterrupt; Pool.terminate() relies on SIGTERM
    killing a worker outright, so the workers must not inherit that handler."""
    before = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        with fork_pool(2) as pool:
            handlers = pool.map(signal.getsignal, [signal.SIGTERM] * 4)
        assert handlers == [signal.SIG_DFL] * 4
        assert signal.getsignal(signal.SIGTERM) is signal.default_int_handler  # the parent's own is untouched
    finally:
        signal.signal(signal.SIGTERM, before)
