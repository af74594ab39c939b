"""The 12345 connector against the real simulated server with injected faults: nothing lost, nothing twice."""
from __future__ import annotations

import json
import logging
from datetime import datetime

import httpx
import pytest

from api12345_helpers import make_versions, version_key, write_landing
from connectors.api12345 import Api12345AuthError, Api12345Error, CursorStore, fetch_work_orders
from simulator.server12345 import Faults, start_server

TOKEN = "tok-SECRET-4f9a2c"
NO_WAIT = {"backoff_initial": 0.001, "backoff_max": 0.002}


@pytest.fixture(scope="module")
def versions():
    return make_versions(150)


@pytest.fixture()
def server(tmp_path, versions):
    write_landing(tmp_path / "12345", versions)
    srv = start_server(tmp_path / "12345", token=TOKEN)
    yield srv
    srv.stop()


def _all_keys(versions):
    return sorted(version_key(v) for v in versions)


def test_every_version_once_with_small_pages_and_ties(server, versions):
    # 40 distinct seconds for ~375 versions: tie groups larger than the page, across page boundaries
    pages = list(fetch_work_orders(server.url, TOKEN, None, page_size=7))
    got = [version_key(r) for p in pages for r in p.records]
    assert sorted(got) == _all_keys(versions)
    cursors = [p.cursor_after for p in pages]
    assert cursors == sorted(cursors)
    assert cursors[-1] == max(datetime.fromisoformat(v["gxsj"]) for v in versions)
    # the cursor promise: once a page is committed, every version up to its cursor has been seen
    seen: set = set()
    for p in pages:
        seen.update(version_key(r) for r in p.records)
        assert {version_key(v) for v in versions if datetime.fromisoformat(v["gxsj"]) <= p.cursor_after} <= seen


def test_every_version_once_despite_faults(server, versions):
    # every kind once up front (one page fails seven times in a row), then at random
    server.set_faults(Faults(script=["code", "429", "500", "502", "503", "drop", "truncate"],
                             rates={"code": 0.1, "429": 0.08, "500": 0.05, "502": 0.05, "503": 0.05,
                                    "drop": 0.08, "truncate": 0.05}, retry_after=0, seed=11))
    got = [version_key(r) for p in fetch_work_orders(server.url, TOKEN, None, page_size=20, max_retries=30,
                                                     **NO_WAIT) for r in p.records]
    assert sorted(got) == _all_keys(versions)
    injected = server.faults_injected
    assert len(injected) == 7 and sum(injected.values()) > 7  # every kind happened, and random ones too


def test_slow_response_times_out_and_is_retried(server, versions):
    server.set_faults(Faults(script=["slow"], slow_seconds=1.5))
    with httpx.Client(timeout=0.5) as client:
        got = [version_key(r) for p in fetch_work_orders(server.url, TOKEN, None, client=client, max_retries=10,
                                                         **NO_WAIT)
               for r in p.records]
    assert sorted(got) == _all_keys(versions)
    assert server.faults_injected == {"slow": 1}


def test_retry_after_is_honoured(server):
    server.set_faults(Faults(script=["429", "ok", "429"], retry_after=3))
    waits: list[float] = []
    list(fetch_work_orders(server.url, TOKEN, None, page_size=500, sleep=waits.append, **NO_WAIT))
    assert waits == [3.0]


def test_gives_up_loudly_and_keeps_the_token_secret(server, caplog):
    caplog.set_level(logging.DEBUG)
    server.set_faults(Faults(every={"503": 1}))
    with pytest.raises(Api12345Error) as err:
        list(fetch_work_orders(server.url, TOKEN, None, max_retries=3, **NO_WAIT))
    assert "gave up after 4 attempts" in str(err.value) and "503" in str(err.value)
    assert server.requests == 4
    assert caplog.records, "retries are logged"
    assert TOKEN not in caplog.text
    assert TOKEN not in str(err.value) and TOKEN not in repr(err.value)
    assert err.value.__cause__ is None and err.value.__suppress_context__  # httpx's exceptions are not chained


def test_failure_mid_run_raises_after_the_good_pages(server, versions):
    pages = fetch_work_orders(server.url, TOKEN, None, page_size=10, max_retries=2, **NO_WAIT)
    first = next(pages)
    assert len(first.records) == 10
    server.set_faults(Faults(every={"code": 1}))
    with pytest.raises(Api12345Error):
        for _ in pages:  # partial data never ends as if it were complete
            pass


def test_bad_token_fails_at_once(server, caplog):
    caplog.set_level(logging.DEBUG)
    with pytest.raises(Api12345AuthError) as err:
        list(fetch_work_orders(server.url, "wrong-" + TOKEN, None, **NO_WAIT))
    assert TOKEN not in str(err.value) and TOKEN not in caplog.text


def test_incremental_polls_with_advancing_clock_deliver_each_version_once(server, versions, tmp_path):
    cursor = CursorStore(tmp_path / "state" / "cursors.json")
    times = sorted({v["gxsj"] for v in versions})
    delivered: list = []
    for as_of in (times[5], times[17], times[30], None):
        server.set_as_of(as_of)
        for page in fetch_work_orders(server.url, TOKEN, cursor.get(), page_size=9):
            delivered += [version_key(r) for r in page.records]
            cursor.set(page.cursor_after)
    assert sorted(delivered) == _all_keys(versions)  # across polls too: exactly once
    assert cursor.get() == max(times).replace(" ", "T") + "+08:00"


class _Crash(Exception):
    pass


def test_cursor_resumes_after_a_crash_without_loss(server, versions, tmp_path):
    """Commit each page then advance the cursor; crash between commit and cursor write, and mid-page."""
    cursor = CursorStore(tmp_path / "state" / "cursors.json")
    committed: list = []

    def run(crash_after_commits: int | None) -> None:
        n = 0
        for page in fetch_work_orders(server.url, TOKEN, cursor.get(), page_size=8):
            committed.extend(version_key(r) for r in page.records)  # the store's transaction
            n += 1
            if crash_after_commits is not None and n == crash_after_commits:
                raise _Crash  # committed, but the cursor was not advanced
            cursor.set(page.cursor_after)

    with pytest.raises(_Crash):
        run(5)
    server.set_faults(Faults(every={"drop": 4}))
    with pytest.raises(_Crash):
        run(7)
    server.set_faults(None)
    run(None)
    assert set(committed) == set(_all_keys(versions))  # nothing lost
    # re-deliveries only of what the crashes left uncommitted in the cursor: the store's idempotence absorbs them
    assert len(committed) - len(set(committed)) <= 2 * 8 + 2 * 8


def test_cursor_store_is_atomic_json(tmp_path):
    path = tmp_path / "state" / "cursors.json"
    store = CursorStore(path)
    assert store.get() is None and store.get("other") is None
    store.set(datetime(2024, 3, 5, 8, 0, 1))
    store.set("other", "x")
    assert store.get() == "2024-03-05T08:00:01+08:00" and store.get("other") == "x"
    assert json.loads(path.read_text()) == {"12345": "2024-03-05T08:00:01+08:00", "other": "x"}
    assert [p.name for p in path.parent.iterdir()] == ["cursors.json"]  # no temp files left behind
    path.write_text("[1, 2]")
    with pytest.raises(ValueError):
        store.get()


def test_parameters_are_checked():
    with pytest.raises(ValueError):
        next(fetch_work_orders("http://127.0.0.1:1", TOKEN, None, page_size=501))
    with pytest.raises(Api12345AuthError):
        next(fetch_work_orders("http://127.0.0.1:1", "", None))
    with pytest.raises(Api12345Error):  # nothing listens there: connection errors, retried, then a clear error
        next(fetch_work_orders("http://127.0.0.1:1", TOKEN, None, max_retries=1, **NO_WAIT))


def test_version_with_unreadable_gxsj_in_a_new_file_reaches_an_incremental_poll(tmp_path):
    """The server places it with the next readable line of its file, so a polling cursor cannot pass it."""
    landing = tmp_path / "12345"
    old = make_versions(20, seed=2)
    write_landing(landing, old)
    srv = start_server(landing, token=TOKEN)
    try:
        cursor = [p.cursor_after for p in fetch_work_orders(srv.url, TOKEN, None)][-1]
        broken = {**old[0], "gdbh": "BH123452024039999", "gxsj": "not a time"}
        later = {**old[1], "gxsj": "2024-03-20 10:00:00"}
        (landing / "work_orders_20240320.jsonl").write_text(
            json.dumps(broken, ensure_ascii=False) + "\n" + json.dumps(later, ensure_ascii=False) + "\n",
            encoding="utf-8")
        got = [r for p in fetch_work_orders(srv.url, TOKEN, cursor) for r in p.records]
    finally:
        srv.stop()
    assert sorted(r["gxsj"] for r in got) == ["2024-03-20 10:00:00", "not a time"]  # same key: gdbh order
