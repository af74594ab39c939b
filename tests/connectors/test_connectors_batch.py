"""Batched writes (many deliveries per transaction) give exactly what writing them one by one gives, and the
12345 cursor only moves past pages whose batch has committed."""
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import connectors.load as load
from connectors.load import load_file_feed
from connectors import api12345
from connectors.api12345 import CursorStore, Page
from connectors.common import ParsedDelivery, QuarantinedRow, blank_row, make_event
from connectors.store import Warehouse
from connectors_testkit import PII, csv_110, query, row_110, write

BASE = datetime(2024, 3, 5, 8, 0, 0)
TABLES = ("core.intake", "core.intake_event", "core.quarantine", 'raw."hotline__intake"', 'raw."hotline__intake_event"')


def delivery(n: int, versions: list[tuple[str, int]], quarantined: int = 0) -> ParsedDelivery:
    """Delivery n: one row per (source_id, minutes after BASE) in that order, each with two events."""
    load_id = f"L{n:03d}"
    parsed = ParsedDelivery("hotline", f"d{n}.jsonl", load_id)
    for position, (source_id, minutes) in enumerate(versions):
        at = BASE + timedelta(minutes=minutes)
        row = blank_row("hotline", source_id, load_id=load_id, delivery=parsed.delivery, position=position)
        row.update(version_at=at, received_at=BASE, title=f"{source_id} from {parsed.delivery}@{position}")
        parsed.rows.append(row)
        parsed.events.append(make_event("hotline", source_id, 1, BASE, "received", position))
        parsed.events.append(make_event("hotline", source_id, 2, at, "closed", position, note=parsed.delivery))
    for k in range(quarantined):
        parsed.quarantine.append(QuarantinedRow(len(versions) + k, "bad line", "{}"))
    return parsed


def current_tables(wh: Warehouse) -> dict[str, list]:
    """The current layer, raw events and quarantine (without the write time), sorted."""
    select = {t: "SELECT * EXCLUDE (quarantined_at)" if t == "core.quarantine" else "SELECT *" for t in TABLES}
    return {t: sorted(wh.con.execute(f"{select[t]} FROM {t}").fetchall(), key=repr) for t in TABLES}


versions_strategy = st.lists(
    st.lists(st.tuples(st.sampled_from("ABCD"), st.integers(0, 3)), max_size=5), min_size=1, max_size=5)


@settings(max_examples=15, deadline=None)
@given(batches=versions_strategy, quarantined=st.integers(0, 2))
def test_one_transaction_equals_one_by_one(batches, quarantined):
    with Warehouse(":memory:") as wh:
        single = [wh.write_delivery(delivery(n, v, quarantined), f"c{n}") for n, v in enumerate(batches)]
        expected = current_tables(wh)
    with Warehouse(":memory:") as wh:
        batched = wh.write_deliveries([(delivery(n, v, quarantined), f"c{n}") for n, v in enumerate(batches)])
        assert current_tables(wh) == expected
        # each current intake is counted once, for the delivery its current row came from
        current = wh.con.execute("SELECT load_id, count(*) FROM core.intake GROUP BY load_id").fetchall()
        logged = wh.con.execute("SELECT count(*) FROM core.load_log").fetchone()[0]
    assert [(r.rows_in, r.rows_loaded, r.rows_quarantined) for r in batched] == \
           [(r.rows_in, r.rows_loaded, r.rows_quarantined) for r in single]
    assert {f"L{n:03d}": r.became_current for n, r in enumerate(batched) if r.became_current} == dict(current)
    assert logged == len(batches)


def test_a_batch_never_overwrites_a_newer_committed_version(tmp_path):
    with Warehouse(tmp_path / "wh.duckdb") as wh:
        wh.write_delivery(delivery(0, [("A", 3)]), "c0")
        results = wh.write_deliveries([(delivery(1, [("A", 1), ("B", 0)]), "c1"), (delivery(2, [("A", 2)]), "c2")])
        rows = wh.con.execute("SELECT source_id, load_id FROM core.intake ORDER BY source_id").fetchall()
        notes = wh.con.execute("SELECT note FROM core.intake_event WHERE source_id = 'A' AND seq = 2").fetchall()
    assert rows == [("A", "L000"), ("B", "L001")]
    assert notes == [("d0.jsonl",)]
    assert [r.became_current for r in results] == [1, 0]


def test_a_replacing_delivery_is_refused_in_a_batch(tmp_path):
    parsed = delivery(0, [("A", 0)])
    parsed.superseded_deliveries = ("old.csv",)
    with Warehouse(tmp_path / "wh.duckdb") as wh, pytest.raises(ValueError):
        wh.write_deliveries([(parsed, "c0")])


# ---- 12345: the cursor and batches ------------------------------------------------------------------------

RECORD = {"gdbh": "HF0", "slsj": "2024-03-05 09:00:00", "gxsj": "2024-03-05 09:00:00", "bt": "噪音", "nr": "楼上装修"}


def pages(n: int) -> list[Page]:
    out = []
    for i in range(n):
        gxsj = f"2024-03-05 09:{i:02d}:00"
        out.append(Page([dict(RECORD, gdbh=f"HF{i}", gxsj=gxsj)], 1, f"12345:page={i}",
                        datetime.fromisoformat(gxsj), n))
    return out


def fake_api(monkeypatch, delivered: list[Page], then: Exception | None = None):
    def fetch(base_url, token, after):
        yield from delivered
        if then is not None:
            raise then
    monkeypatch.setattr(api12345, "fetch_work_orders", fetch)


def test_pages_fetched_before_the_api_gives_up_are_committed_with_their_cursor(monkeypatch, tmp_path):
    monkeypatch.setattr(load, "BATCH_ROWS_12345", 2)
    delivered = pages(5)
    fake_api(monkeypatch, delivered, then=api12345.Api12345Error("gave up"))
    cursor = CursorStore(tmp_path / "cursor.json")
    with pytest.raises(api12345.Api12345Error):
        load.load_12345(tmp_path / "wh.duckdb", "http://unused", "t", cursor, pii=PII)
    with Warehouse(tmp_path / "wh.duckdb") as wh:
        assert wh.con.execute("SELECT count(*) FROM core.intake").fetchone() == (5,)
    assert datetime.fromisoformat(cursor.get()).replace(tzinfo=None) == delivered[-1].cursor_after


def test_the_cursor_does_not_pass_a_batch_that_failed_to_commit(monkeypatch, tmp_path):
    monkeypatch.setattr(load, "BATCH_ROWS_12345", 2)
    delivered = pages(5)
    fake_api(monkeypatch, delivered)
    real_write = Warehouse.write_deliveries
    calls = {"n": 0}

    def write_then_fail(self, batch):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full")
        return real_write(self, batch)

    monkeypatch.setattr(Warehouse, "write_deliveries", write_then_fail)
    cursor = CursorStore(tmp_path / "cursor.json")
    with pytest.raises(OSError):
        load.load_12345(tmp_path / "wh.duckdb", "http://unused", "t", cursor, pii=PII)
    # the first batch (pages 0 and 1) committed; the second did not, so the cursor stays at page 1's
    assert datetime.fromisoformat(cursor.get()).replace(tzinfo=None) == delivered[1].cursor_after
    with Warehouse(tmp_path / "wh.duckdb") as wh:
        assert wh.con.execute("SELECT count(*) FROM core.intake").fetchone() == (2,)
    # a rerun from that cursor loads the rest, and the committed pages are not loaded twice
    monkeypatch.setattr(Warehouse, "write_deliveries", real_write)
    report = load.load_12345(tmp_path / "wh.duckdb", "http://unused", "t", cursor, pii=PII)
    assert report.deliveries_skipped == 2 and report.rows_loaded == 3
    with Warehouse(tmp_path / "wh.duckdb") as wh:
        assert wh.con.execute("SELECT count(*) FROM core.intake").fetchone() == (5,)


# ---- 110: first files of their day are batched, corrections are written on their own -----------------------

def landing_110(root):
    files = {
        "fjwjq_20240305.csv": [row_110(1), row_110(2)],
        "fjwjq_20240306.csv": [row_110(2, 简要警情="第二天又报"), row_110(3)],
        "fjwjq_20240306_v2.csv": [row_110(3, 简要警情="更正"), row_110(4)],
        "fjwjq_20240307.csv": [row_110(4, 简要警情="第三天")],
    }
    for name, rows in files.items():
        write(root / "110" / name, csv_110(rows))
    return [date(2024, 3, 5), date(2024, 3, 6), date(2024, 3, 7)]


CURRENT_110 = """SELECT i.source_id, i.delivery, i.version_at, i.content, count(e.seq) FROM core.intake i
                 LEFT JOIN core.intake_event e USING (channel, source_id) GROUP BY ALL ORDER BY ALL"""


def test_110_in_one_run_equals_day_by_day(tmp_path):
    days = landing_110(tmp_path / "landing")
    for day in days:
        load_file_feed(tmp_path / "daily.duckdb", tmp_path / "landing", "110", day=day, pii=PII)
    report = load_file_feed(tmp_path / "once.duckdb", tmp_path / "landing", "110", pii=PII)
    assert report.ok and report.deliveries_loaded == 4
    daily, once = query(tmp_path / "daily.duckdb", CURRENT_110), query(tmp_path / "once.duckdb", CURRENT_110)
    assert once == daily
    # the corrected day-6 file replaced the first one: intake 2 comes from day 5 again, intake 3 is corrected
    by_id = {row[0][-2:]: row[1] for row in once}
    assert by_id == {"01": "fjwjq_20240305.csv", "02": "fjwjq_20240305.csv",
                     "03": "fjwjq_20240306_v2.csv", "04": "fjwjq_20240307.csv"}
