import re
import shutil

import pytest

from connectors.common import ParsedDelivery, QuarantinedRow, blank_row
from connectors.load import load_file_feed
from connectors.pii import ID_CARD_PATTERN, PHONE_PATTERN
from connectors.store import LoadAccountingError, Warehouse
from connectors_testkit import (FIXTURES, PII, SAMPLES, csv_110, jsonl, petition_row, query, row_110, table_snapshot,
                                ticket, write, xlsx_petition)

HEX_DIGEST = re.compile(r"[0-9a-f]{64}")


def _landing(tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(SAMPLES, landing)
    write(landing / "110" / "fjwjq_20240306.csv", csv_110([row_110(n, 报警电话=f"1390551{n:04d}") for n in range(1, 30)]))
    write(landing / "110" / "fjwjq_20240306_v2.csv", csv_110([row_110(n) for n in range(1, 20)]))
    write(landing / "petition" / "xfdj_20240314.xlsx", xlsx_petition(
        [petition_row(n, 信访事项=f"电话13905518{n:03d}，身份证340104198001011{n:03d}") for n in range(1, 10)]))
    write(landing / "hotline" / "12315" / "2024-03-06.jsonl.gz", jsonl(
        [ticket(n, "12315", detail=f"联系电话 0551-6335{n:04d}") for n in range(1, 40)] + ["{broken"], gz=True))
    shutil.copytree(FIXTURES / "open311", landing / "open311")
    return landing


def _load_everything(wh, landing):
    return [load_file_feed(wh, landing, ch, pii=PII) for ch in ("110", "petition", "hotline", "open311")]


def test_loading_twice_changes_nothing(tmp_path):
    wh, landing = tmp_path / "wh.duckdb", _landing(tmp_path)
    first = _load_everything(wh, landing)
    assert sum(r.rows_loaded for r in first) > 100
    snapshot = table_snapshot(wh)
    second = _load_everything(wh, landing)
    assert all(r.rows_in == 0 and r.deliveries_skipped == r.deliveries_found for r in second)
    assert table_snapshot(wh) == snapshot
    # rows in = loaded + quarantined, per delivery
    assert query(wh, "SELECT count(*) FROM core.load_log WHERE rows_in <> rows_loaded + rows_quarantined") == [(0,)]


def test_no_phone_or_id_number_anywhere_in_the_warehouse(tmp_path):
    wh, landing = tmp_path / "wh.duckdb", _landing(tmp_path)
    _load_everything(wh, landing)
    # A 110 incident number (340111 + date + sequence) has exactly the shape of an ID-card number: those
    # identifiers, and only those, are allowed to match ID_CARD_PATTERN.
    incident_numbers = {r[0] for r in query(wh, "SELECT source_id FROM raw.\"110__intake\"")}
    # caller_key and checksum are 64-hex digests: a random digit run in one can look like a phone number.
    leaks, scanned = [], 0
    for table, rows in table_snapshot(wh).items():
        for row in rows:
            for value in row:
                if isinstance(value, str) and not HEX_DIGEST.fullmatch(value):
                    scanned += 1
                    ids = {m.group(0) for m in ID_CARD_PATTERN.finditer(value)} - incident_numbers
                    if PHONE_PATTERN.search(value) or ids:
                        leaks.append((table, value[:80]))
    assert scanned > 1000
    assert leaks == []
    # and names never stored
    assert not any("张先生" in str(v) or "李某某" in str(v) for rows in table_snapshot(wh).values()
                   for row in rows for v in row)


def test_a_delivery_that_does_not_balance_is_rolled_back(tmp_path):
    parsed = ParsedDelivery("110", "x.csv", "L1")
    parsed.rows.append(blank_row("110", "A", load_id="L1", delivery="x.csv", position=1))
    parsed.quarantine.append(QuarantinedRow(1, "also quarantined?", None))

    class Lying(ParsedDelivery):
        @property
        def rows_in(self):
            return 3

    lying = Lying(**parsed.__dict__)
    with Warehouse(tmp_path / "wh.duckdb") as wh:
        with pytest.raises(LoadAccountingError):
            wh.write_delivery(lying, "abc")
        assert wh.con.execute("SELECT count(*) FROM core.load_log").fetchone() == (0,)
