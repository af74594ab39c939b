import shutil

import pytest

from connectors import declarative
from connectors.load import load_file_feed
from connectors_testkit import FIXTURES, PII, query


def test_open311_mapping_loads_into_the_shared_layers(tmp_path):
    landing, wh = tmp_path / "landing", tmp_path / "wh.duckdb"
    shutil.copytree(FIXTURES / "open311", landing / "open311")
    report = load_file_feed(wh, landing, "open311", pii=PII)
    assert (report.rows_in, report.rows_loaded, report.rows_quarantined) == (7, 3, 4)
    rows = {r[0]: r[1:] for r in query(
        wh, "SELECT source_id, received_at::VARCHAR, source_status, closed_at::VARCHAR, content, extra "
            "FROM core.intake WHERE channel = 'open311'")}
    assert rows["638345"][0] == "2024-03-05 09:30:00"  # 01:30Z in CST
    assert rows["638346"][0] == "2024-03-05 21:00:00"  # naive time taken as CST
    assert rows["638344"][2] == "2024-03-05 15:02:11"
    assert "13805512345" not in rows["638344"][3]
    assert "media_url" in rows["638344"][4]  # unmapped column kept in extra
    assert query(wh, 'SELECT count(*) FROM raw."open311__intake"') == [(3,)]
    events = query(wh, "SELECT event_type FROM core.intake_event WHERE source_id = '638344' ORDER BY seq")
    assert events == [("received",), ("dispatched",), ("closed",)]
    reasons = sorted(r[0] for r in query(wh, "SELECT reason FROM core.quarantine"))
    assert any("pending" in r for r in reasons) and any("fields" in r for r in reasons)


def test_a_jsonl_feed_with_nested_fields_and_a_rating_scale():
    spec = declarative.spec_from_dict({
        "channel": "app", "format": "jsonl", "source_id": {"column": "id", "prefix": "APP-"},
        "time_formats": ["epoch_ms", "%Y/%m/%d %H:%M"], "caller_phone": "who.tel", "personal_columns": ["who"],
        "fields": {"received_at": "at", "rating": {"column": "stars", "scale": "score"}, "address": "where.text",
                   "reopened": "again"},
        "events": [{"type": "received", "at": "received_at"}],
    })
    data = ('{"id": 7, "at": 1709646830000, "stars": 5, "where": {"text": "滨湖"}, "who": {"tel": "13805512345"}, '
            '"again": "是"}\n{"id": 8, "at": "2024/03/05 10:00", "stars": 9}\n').encode()
    parsed = declarative.parse(spec, data, "app_2024-03-05.jsonl", PII, load_id="L")
    (row,) = parsed.rows
    assert row["source_id"] == "APP-7" and row["rating"] == "满意" and row["rating_score"] == 5
    assert row["address"] == "滨湖" and row["reopened"] is True
    assert row["caller_key"] == PII.caller_key("13805512345") and row["extra"] is None
    assert "1-5" in parsed.quarantine[0].reason


@pytest.mark.parametrize("doc, message", [
    ({"channel": "x", "source_id": "id", "fields": {}}, "received_at"),
    ({"channel": "x", "source_id": "id", "fields": {"received_at": "a", "colour": "c"}}, "colour"),
    ({"channel": "x", "source_id": "id", "fields": {"received_at": "a"}, "events": [{"type": "exploded", "at": "received_at"}]}, "exploded"),
    ({"channel": "x", "fields": {"received_at": "a"}}, "source_id"),
])
def test_bad_mapping_files_fail_before_any_data(doc, message):
    with pytest.raises(declarative.SpecError, match=message):
        declarative.spec_from_dict(doc)


def test_unknown_channel_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="unknown channel"):
        load_file_feed(tmp_path / "wh.duckdb", tmp_path, "telegraph", pii=PII)
