"""End to end on the simulator's own output: serve it, fetch through faults, map; its malformed list is caught."""
from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from connectors.api12345 import fetch_work_orders, map_work_order
from connectors.errors import RecordError
from connectors.pii import PHONE_PATTERN, PiiHasher
from simulator.server12345 import Faults, start_server

TOKEN = "sim-token"


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    from simulator.cli import simulate_main

    home = tmp_path_factory.mktemp("sim")
    assert simulate_main(["--days", "2", "--per-day", "150", "--seed", "5", "--fault-rate", "0.03",
                          "--home", str(home)]) == 0
    return home


def test_simulated_orders_fetched_once_and_malformed_ones_quarantined(simulated):
    landing = simulated / "landing" / "12345"
    lines = [json.loads(line) for path in sorted(landing.glob("work_orders_*.jsonl"))
             for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    truth = [m for m in pq.read_table(simulated / "truth" / "malformed.parquet").to_pylist()
             if m["channel"] == "12345"]
    expected_bad = {(m["source_id"], m["version_at"].replace(microsecond=0)) for m in truth}
    srv = start_server(landing, token=TOKEN, faults=Faults(rates={"code": 0.1, "503": 0.1, "drop": 0.1},
                                                            retry_after=0, seed=3))
    try:
        pages = list(fetch_work_orders(srv.url, TOKEN, None, page_size=50, max_retries=20,
                                       backoff_initial=0.001, backoff_max=0.002))
    finally:
        srv.stop()
    fetched = [r for p in pages for r in p.records]
    assert sorted(json.dumps(r, sort_keys=True) for r in fetched) == sorted(json.dumps(r, sort_keys=True)
                                                                           for r in lines)
    pii = PiiHasher("k")
    quarantined, loaded = set(), 0
    for page in pages:
        for position, record in enumerate(page.records):
            try:
                row, _ = map_work_order(record, pii, delivery=page.delivery, position=position, load_id="L")
            except RecordError:
                quarantined.add((record["gdbh"], record["gxsj"]))
                continue
            loaded += 1
            assert not PHONE_PATTERN.search(row["content"] or "")
    assert loaded + len(quarantined) == len(lines)
    assert expected_bad, "the simulator broke some 12345 records on purpose"
    as_times = {(g, t.strftime("%Y-%m-%d %H:%M:%S")) for g, t in expected_bad}
    assert quarantined == as_times  # exactly the records the simulator broke on purpose
