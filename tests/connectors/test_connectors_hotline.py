import json
from datetime import datetime

from connectors.geo import to_wgs84
from connectors.hotline import parse_hotline
from connectors.load import load_file_feed
from connectors_testkit import PII, SAMPLES, jsonl, query, ticket, write


def test_samples_plain_and_gzip(tmp_path):
    wh = tmp_path / "wh.duckdb"
    report = load_file_feed(wh, SAMPLES, "hotline", pii=PII)
    assert report.deliveries_loaded == 2 and report.rows_loaded == 2 and report.rows_quarantined == 1
    row = dict(zip(["received_at", "rating", "rating_score", "extra", "lon", "lat"], query(
        wh, "SELECT received_at, rating, rating_score, extra, lon, lat FROM core.intake "
            "WHERE source_id = '12369:E2403050007'")[0]))
    assert row["received_at"] == datetime(2024, 3, 5, 21, 53, 50)  # epoch ms 1709646830000 in CST
    assert row["rating"] == "不满意" and row["rating_score"] == 2
    assert json.loads(row["extra"]) == {"channel_note": "微信"}
    assert (row["lon"], row["lat"]) == to_wgs84(117.3017, 31.7264, "bd09")
    (reason,) = query(wh, "SELECT reason FROM core.quarantine")[0]
    assert reason.startswith("invalid JSON")


def test_times_ratings_unknown_keys_and_quarantine():
    objs = [
        ticket(1, received_at="2024-03-05T00:31:10Z", rating=4, closed_at="2024-03-06T10:00:00+08:00",
               status="closed", new_field={"x": 1}, caller={"phone": "138 0551 2345", "name": "王", "wx": "abc"}),
        ticket(2, rating=3),
        ticket(3, rating=7),
        ticket(4, received_at="soon"),
        ticket(5, hotline="12315"),
        '{"hotline": "12319", "ticket_id": "U9", "rece',
        "[1, 2]",
        ticket(6, location={"address": "x", "lng": 117.28, "lat": 31.74, "crs": "mercator"}),
    ]
    parsed = parse_hotline(jsonl(objs), "12319/2024-03-05.jsonl", PII, load_id="L", expected_hotline="12319")
    rows = {r["source_id"]: r for r in parsed.rows}
    assert sorted(rows) == ["12319:U2403050001", "12319:U2403050002"]
    first = rows["12319:U2403050001"]
    assert first["received_at"] == datetime(2024, 3, 5, 8, 31, 10)
    assert first["rating"] == "满意" and rows["12319:U2403050002"]["rating"] == "基本满意"
    assert first["caller_key"] == PII.caller_key("13805512345")
    assert json.loads(first["extra"]) == {"new_field": {"x": 1}, "caller.wx": "abc"}
    assert [e["event_type"] for e in parsed.events if e["source_id"] == "12319:U2403050001"] == [
        "received", "closed", "callback"]
    reasons = {q.position: q.reason for q in parsed.quarantine}
    assert sorted(reasons) == [3, 4, 5, 6, 7, 8]
    assert reasons[3] == "rating is not 1-5 or null"
    assert reasons[5] == "hotline 12315 in the folder of 12319"
    assert reasons[6].startswith("invalid JSON") and reasons[7] == "line is not a JSON object"
    assert "mercator" in reasons[8]
    assert all("张先生" not in (q.content_masked or "") for q in parsed.quarantine)


def test_an_older_version_never_overwrites_a_newer_one(tmp_path):
    landing, wh = tmp_path / "landing", tmp_path / "wh.duckdb"
    newer = ticket(1, status="closed", updated_at="2024-03-07T09:00:00+08:00", closed_at="2024-03-07T08:00:00+08:00")
    older = ticket(1, status="in_progress", updated_at="2024-03-05T09:00:00+08:00")
    write(landing / "hotline" / "12319" / "2024-03-07.jsonl", jsonl([newer]))
    load_file_feed(wh, landing, "hotline", pii=PII)
    write(landing / "hotline" / "12319" / "2024-03-05.jsonl.gz", jsonl([older], gz=True))  # a late, older file
    report = load_file_feed(wh, landing, "hotline", pii=PII)
    assert report.rows_loaded == 1 and report.rows_current == 0
    assert query(wh, "SELECT source_status FROM core.intake") == [("closed",)]
    assert query(wh, "SELECT count(*) FROM core.intake_event WHERE event_type = 'closed'") == [(1,)]
    assert query(wh, 'SELECT count(*) FROM raw."hotline__intake"') == [(2,)]


def test_later_line_of_the_same_file_wins_on_equal_version_time(tmp_path):
    landing, wh = tmp_path / "landing", tmp_path / "wh.duckdb"
    write(landing / "hotline" / "12319" / "2024-03-05.jsonl", jsonl([ticket(1, status="open"),
                                                                     ticket(1, status="in_progress")]))
    load_file_feed(wh, landing, "hotline", pii=PII)
    assert query(wh, "SELECT source_status, position FROM core.intake") == [("in_progress", 2)]


def test_truncated_gzip_keeps_what_was_readable():
    data = jsonl([ticket(n) for n in range(1, 200)], gz=True)
    parsed = parse_hotline(data[: len(data) // 2], "12319/2024-03-05.jsonl.gz", PII, load_id="L")
    assert len(parsed.rows) > 0
    assert any(q.position == -1 and "gzip" in q.reason for q in parsed.quarantine)
    assert parsed.rows_in == len(parsed.rows) + sum(1 for q in parsed.quarantine if q.position != -1)


def test_a_phone_written_as_a_json_number_still_gives_the_caller_key():
    parsed = parse_hotline(jsonl([ticket(1, caller={"phone": 13805512345})]), "12319/2024-03-05.jsonl", PII,
                           load_id="L")
    assert parsed.rows[0]["caller_key"] == PII.caller_key("13805512345")
