"""The four feeds as the simulator writes them, 12345 served over HTTP by the simulator's server."""
import re

import pyarrow.parquet as pq
import pytest

from connectors.api12345 import CursorStore
from connectors.load import load_12345, load_file_feed
from connectors.pii import ID_CARD_PATTERN, PHONE_PATTERN
from connectors_testkit import PII, query, table_snapshot
from simulator.cli import simulate_main
from simulator.server12345 import start_server

HEX_DIGEST = re.compile(r"[0-9a-f]{64}")


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    home = tmp_path_factory.mktemp("sim")
    assert simulate_main(["--days", "4", "--per-day", "150", "--seed", "11", "--fault-rate", "0.03",
                          "--home", str(home)]) == 0
    wh = home / "warehouse.duckdb"
    reports = {ch: load_file_feed(wh, home / "landing", ch, pii=PII) for ch in ("110", "petition", "hotline")}
    with start_server(home / "landing" / "12345", token="t") as server:
        reports["12345"] = load_12345(wh, server.url, "t", CursorStore(home / "state" / "cursor.json"), pii=PII)
        snapshot = table_snapshot(wh)
        again = {ch: load_file_feed(wh, home / "landing", ch, pii=PII) for ch in ("110", "petition", "hotline")}
        again["12345"] = load_12345(wh, server.url, "t", CursorStore(home / "state" / "cursor.json"), pii=PII)
    return home, wh, reports, snapshot, again


def test_every_intake_of_the_truth_is_current(simulated):
    home, wh, reports, _, _ = simulated
    truth = pq.read_table(home / "truth" / "intakes.parquet").to_pylist()
    malformed = pq.read_table(home / "truth" / "malformed.parquet").to_pylist()
    current = set(query(wh, "SELECT channel, source_id FROM core.intake"))
    expected = {(t["channel"], t["source_id"]) for t in truth}
    # an intake all of whose versions were malformed cannot be current; every other one must be
    assert current <= expected
    missing = expected - current
    assert missing <= {(m["channel"], m["source_id"]) for m in malformed}
    assert len(current) >= 0.95 * len(expected)
    assert all(r.rows_in == r.rows_loaded + r.rows_quarantined for r in reports.values())


def test_every_malformed_record_is_in_quarantine(simulated):
    home, wh, _, _, _ = simulated
    malformed = pq.read_table(home / "truth" / "malformed.parquet").to_pylist()
    assert malformed, "the simulator wrote no malformed records at this fault rate"
    quarantined = set(query(wh, "SELECT channel, delivery, position FROM core.quarantine"))
    contents_12345 = [c for (c,) in query(wh, "SELECT content_masked FROM core.quarantine WHERE channel = '12345'")]
    for m in malformed:
        if m["channel"] == "12345":  # served as API pages: found by work-order number
            assert any(m["source_id"] in (c or "") for c in contents_12345), m
        else:
            assert (m["channel"], m["delivery"], m["position"]) in quarantined, m


def test_loading_again_changes_nothing(simulated):
    _, wh, _, snapshot, again = simulated
    assert all(r.rows_loaded == 0 for r in again.values())
    assert table_snapshot(wh) == snapshot


def test_no_personal_data_in_the_warehouse(simulated):
    _, wh, _, snapshot, _ = simulated
    incident_numbers = {r[0] for r in query(wh, 'SELECT source_id FROM raw."110__intake"')}
    leaks = []
    for table, rows in snapshot.items():
        for row in rows:
            for value in row:
                if isinstance(value, str) and not HEX_DIGEST.fullmatch(value):
                    ids = {m.group(0) for m in ID_CARD_PATTERN.finditer(value)} - incident_numbers
                    if PHONE_PATTERN.search(value) or ids:
                        leaks.append((table, value[:120]))
    assert leaks == []
