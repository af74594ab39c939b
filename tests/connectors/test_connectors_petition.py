from datetime import datetime

from connectors.load import load_file_feed
from connectors.petition import parse_petition
from connectors_testkit import PII, SAMPLES, petition_row, query, write, xlsx_petition


def test_sample_export_title_row_and_mixed_dates():
    data = (SAMPLES / "petition" / "xfdj_20240307.xlsx").read_bytes()
    parsed = parse_petition(data, "xfdj_20240307.xlsx", PII, load_id="L1")
    assert parsed.quarantine == []
    by_id = {r["source_id"]: r for r in parsed.rows}
    assert by_id["XF3401112024000381"]["received_at"] == datetime(2024, 3, 6)  # a real Excel date
    assert by_id["XF3401112024000395"]["received_at"] == datetime(2024, 3, 7)  # text 2024年3月5日 form
    assert by_id["XF3401112024000395"]["deadline_at"] == datetime(2024, 5, 6)  # text 2024.05.06
    assert by_id["XF3401112024000395"]["people_count"] == 6
    assert by_id["XF3401112024000395"]["marked_repeat"] is True
    assert all(r["rating"] is None for r in parsed.rows)  # 未评价
    assert all(r["version_at"] == datetime(2024, 3, 7) for r in parsed.rows)
    stored = repr(parsed.rows)
    assert "李某某" not in stored and "34010419800101123X" not in stored and "63351234" not in stored


def test_excel_serial_dates_closure_and_bad_rows():
    rows = [
        petition_row(1, 登记日期=45356, 办结日期="2024-03-20", 评价="满意", 办理状态="已办结"),
        petition_row(2, 登记日期="三月五日"),
        petition_row(3, 评价="很好"),
        petition_row(4, 信访件编号=None),
    ]
    parsed = parse_petition(xlsx_petition(rows), "xfdj_20240321.xlsx", PII, load_id="L1")
    (row,) = parsed.rows
    assert row["received_at"] == datetime(2024, 3, 5) and row["closed_at"] == datetime(2024, 3, 20)
    assert row["rating"] == "满意"
    assert [e["event_type"] for e in parsed.events] == ["received", "closed"]
    assert [(q.position, q.reason) for q in parsed.quarantine] == [
        (4, "登记日期 is not a date"), (5, "评价 '很好' is not 满意/基本满意/不满意/未评价"), (6, "信访件编号 is empty")]
    assert all("李某某" not in q.content_masked and "1123X" not in q.content_masked for q in parsed.quarantine)


def test_overlapping_exports_the_later_export_wins_in_any_load_order(tmp_path):
    landing, wh = tmp_path / "landing", tmp_path / "wh.duckdb"
    write(landing / "petition" / "xfdj_20240314.xlsx",
          xlsx_petition([petition_row(1, 办理状态="已办结", 办结日期="2024.03.12"), petition_row(2)]))
    load_file_feed(wh, landing, "petition", pii=PII)
    # The earlier export lands late: it must not overwrite the later one's rows.
    write(landing / "petition" / "xfdj_20240307.xlsx", xlsx_petition([petition_row(1), petition_row(3)]))
    report = load_file_feed(wh, landing, "petition", pii=PII)
    assert report.deliveries_loaded == 1 and report.deliveries_skipped == 1
    current = dict(query(wh, "SELECT source_id, source_status FROM core.intake"))
    assert current == {"XF3401112024000001": "已办结", "XF3401112024000002": "办理中", "XF3401112024000003": "办理中"}
    assert query(wh, "SELECT event_type FROM core.intake_event WHERE source_id = 'XF3401112024000001' ORDER BY seq") \
        == [("received",), ("closed",)]


def test_broken_workbook_is_rejected_with_a_reason(tmp_path):
    landing, wh = tmp_path / "landing", tmp_path / "wh.duckdb"
    write(landing / "petition" / "xfdj_20240314.xlsx", b"PK\x03\x04 not really a zip")
    report = load_file_feed(wh, landing, "petition", pii=PII)
    assert report.deliveries_failed == 1 and "not a readable XLSX" in report.failures[0]
