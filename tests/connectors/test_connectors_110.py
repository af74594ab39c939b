from datetime import date, datetime

from connectors.feed110 import parse_110
from connectors.load import load_file_feed
from connectors_testkit import PII, SAMPLES, csv_110, query, row_110, write


def test_sample_file_parses_with_quoted_line_breaks_and_events():
    data = (SAMPLES / "110" / "fjwjq_20240305.csv").read_bytes()
    parsed = parse_110(data, "fjwjq_20240305.csv", PII, load_id="L1")
    assert parsed.failure is None and parsed.quarantine == []
    first, second = parsed.rows
    assert first["source_id"] == "340111202403050017"
    assert first["received_at"] == datetime(2024, 3, 5, 8, 5, 31)
    assert "\n" in first["content"]  # the quoted line break survives
    assert second["content"] == '楼上装修"电钻"声音很大,影响休息'
    assert first["handed_to"] == "12345平台" and first["dispatched_at"] == datetime(2024, 3, 5, 8, 20, 10)
    assert first["caller_key"] == PII.caller_key("13805512345")
    kinds = [(e["source_id"], e["event_type"], e["unit"]) for e in parsed.events]
    assert ("340111202403050017", "dispatched", "12345平台") in kinds
    assert ("340111202403050044", "dispatched", "滨湖世纪社区街道办事处") in kinds
    # 报警人 is never stored
    assert all("张先生" not in str(v) for r in parsed.rows for v in r.values())


def test_bad_rows_are_quarantined_and_the_rest_loads():
    rows = [row_110(1), row_110(2, 接警时间="昨天"), row_110(3, 警情编号=" "), row_110(4)]
    parsed = parse_110(csv_110(rows), "fjwjq_20240305.csv", PII, load_id="L1")
    assert [r["source_id"] for r in parsed.rows] == ["340111202403050001", "340111202403050004"]
    assert [(q.position, q.reason) for q in parsed.quarantine] == [
        (2, "接警时间 is not a time like 2024/3/5 8:05:31"), (3, "警情编号 is empty")]
    assert all("13805512345" not in q.content_masked and "张先生" not in q.content_masked for q in parsed.quarantine)


def test_missing_or_wrong_trailer_rejects_the_whole_delivery(tmp_path):
    landing, wh = tmp_path / "landing", tmp_path / "wh.duckdb"
    write(landing / "110" / "fjwjq_20240305.csv", csv_110([row_110(1), row_110(2)], trailer=None))
    write(landing / "110" / "fjwjq_20240306.csv", csv_110([row_110(3)], trailer=5))
    report = load_file_feed(wh, landing, "110", pii=PII)
    assert not report.ok and report.deliveries_failed == 2
    assert report.rows_in == 3 and report.rows_loaded == 0 and report.rows_quarantined == 3
    assert any("trailer" in f and "missing" in f for f in report.failures)
    assert any("trailer says 5 rows, file has 1" in f for f in report.failures)
    assert query(wh, "SELECT count(*) FROM core.intake") == [(0,)]
    assert query(wh, "SELECT count(*) FROM core.quarantine WHERE position = -1") == [(2,)]
    assert query(wh, "SELECT sum(rows_in), sum(rows_quarantined) FROM core.load_log") == [(3, 3)]


def test_v2_replaces_the_day_entirely(tmp_path):
    landing, wh = tmp_path / "landing", tmp_path / "wh.duckdb"
    write(landing / "110" / "fjwjq_20240305.csv", csv_110([row_110(1), row_110(2), row_110(3)]))
    write(landing / "110" / "fjwjq_20240306.csv", csv_110([row_110(9, 警情编号="340111202403060001")]))
    load_file_feed(wh, landing, "110", pii=PII)
    # The correction drops incident 2 and changes the text of incident 1 (same times: a tie, the later load wins).
    write(landing / "110" / "fjwjq_20240305_v2.csv", csv_110([row_110(1, 简要警情="更正后"), row_110(3)]))
    report = load_file_feed(wh, landing, "110", pii=PII)
    assert report.deliveries_loaded == 1 and report.deliveries_skipped == 2
    current = dict(query(wh, "SELECT source_id, content FROM core.intake"))
    assert sorted(current) == ["340111202403050001", "340111202403050003", "340111202403060001"]
    assert current["340111202403050001"] == "更正后"
    assert query(wh, "SELECT count(*) FROM core.intake_event WHERE source_id = '340111202403050002'") == [(0,)]
    assert query(wh, "SELECT count(*) FROM core.intake_event WHERE source_id = '340111202403050001'") == [(2,)]
    # raw keeps every delivered version
    assert query(wh, 'SELECT count(*) FROM raw."110__intake"') == [(6,)]


def test_rejected_v2_replaces_nothing_and_late_v1_stays_out_of_current(tmp_path):
    landing, wh = tmp_path / "landing", tmp_path / "wh.duckdb"
    write(landing / "110" / "fjwjq_20240305.csv", csv_110([row_110(1), row_110(2)]))
    write(landing / "110" / "fjwjq_20240305_v2.csv", csv_110([row_110(1)], trailer=None))  # truncated
    load_file_feed(wh, landing, "110", pii=PII)
    assert len(query(wh, "SELECT * FROM core.intake")) == 2
    # v3 arrives, and then (out of order) the same day's v2 is re-sent intact: v3 stays current.
    write(landing / "110" / "fjwjq_20240305_v3.csv", csv_110([row_110(2, 简要警情="v3")]))
    load_file_feed(wh, landing, "110", pii=PII)
    write(landing / "110" / "fjwjq_20240305_v2.csv", csv_110([row_110(1, 简要警情="v2"), row_110(2, 简要警情="v2")]))
    load_file_feed(wh, landing, "110", pii=PII)
    assert query(wh, "SELECT source_id, content FROM core.intake") == [("340111202403050002", "v3")]


def test_day_filter_loads_only_that_day(tmp_path):
    landing, wh = tmp_path / "landing", tmp_path / "wh.duckdb"
    write(landing / "110" / "fjwjq_20240305.csv", csv_110([row_110(1)]))
    write(landing / "110" / "fjwjq_20240306.csv", csv_110([row_110(2)]))
    report = load_file_feed(wh, landing, "110", day=date(2024, 3, 6), pii=PII)
    assert report.deliveries_found == 1
    assert query(wh, "SELECT delivery FROM core.load_log") == [("fjwjq_20240306.csv",)]


def test_unrecognised_file_name_is_reported_not_dropped(tmp_path):
    landing, wh = tmp_path / "landing", tmp_path / "wh.duckdb"
    write(landing / "110" / "notes.txt", b"hello")
    report = load_file_feed(wh, landing, "110", pii=PII)
    assert report.deliveries_failed == 1 and "naming" in report.failures[0]


def test_columns_in_another_order_or_new_columns_are_accepted_and_kept():
    import csv
    import io
    import json

    from connectors.feed110 import COLUMNS
    header = list(reversed(COLUMNS)) + ["新字段"]
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    row = {**row_110(1), "新字段": "值"}
    writer.writerow([row[h] for h in header])
    data = (buf.getvalue() + "合计：1条\r\n").encode("gb18030")
    parsed = parse_110(data, "fjwjq_20240305.csv", PII, load_id="L")
    (loaded,) = parsed.rows
    assert loaded["source_id"] == "340111202403050001"
    assert json.loads(loaded["extra"])["新字段"] == "值"
    bad = csv_110([row_110(1)]).replace("警情编号".encode("gb18030"), "编号".encode("gb18030"), 1)
    assert "警情编号" in parse_110(bad, "fjwjq_20240305.csv", PII, load_id="L").failure
