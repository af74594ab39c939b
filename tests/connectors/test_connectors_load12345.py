"""load_12345 against a real local HTTP server (pytest-httpserver) that serves the spec's page format."""
import json
from datetime import datetime

from werkzeug import Response

from connectors.api12345 import CursorStore
from connectors.load import load_12345
from connectors_testkit import PII, SAMPLES, query

RECORDS = json.loads((SAMPLES / "12345_page.json").read_text(encoding="utf-8"))["data"]["records"]


def serve(httpserver, records, fail_first: int = 0):
    calls = {"n": 0}

    def handler(request):
        calls["n"] += 1
        if calls["n"] <= fail_first:
            return Response(json.dumps({"code": 5003, "msg": "系统繁忙", "data": None}), content_type="application/json")
        after = request.args.get("updated_after") or ""
        after = datetime.fromisoformat(after).replace(tzinfo=None) if after else datetime.min
        page_no, size = int(request.args.get("page_no", 1)), int(request.args.get("page_size", 200))
        visible = sorted((r for r in records if datetime.fromisoformat(r["gxsj"]) > after),
                         key=lambda r: (r["gxsj"], r["gdbh"]))
        page = visible[(page_no - 1) * size: page_no * size]
        body = {"code": 0, "msg": "ok", "data": {"total": len(visible), "page_no": page_no, "page_size": size,
                                                   "records": page}}
        return Response(json.dumps(body, ensure_ascii=False), content_type="application/json")

    httpserver.expect_request("/api/v2/work-orders").respond_with_handler(handler)
    return calls


def test_pages_load_cursor_advances_and_a_rerun_changes_nothing(httpserver, tmp_path):
    bad = {"gdbh": "", "slsj": "2024-03-05 09:00:00", "gxsj": "2024-03-06 11:00:00", "ldhm": "13805512345"}
    serve(httpserver, RECORDS + [bad], fail_first=1)
    wh, cursor = tmp_path / "wh.duckdb", CursorStore(tmp_path / "state" / "cursor.json")
    report = load_12345(wh, httpserver.url_for(""), "secret", cursor, pii=PII)
    assert report.ok and report.rows_in == len(RECORDS) + 1
    assert report.rows_loaded == len(RECORDS) and report.rows_quarantined == 1
    assert cursor.get() is not None
    assert query(wh, "SELECT count(*) FROM core.intake WHERE channel = '12345'") == [(len({r['gdbh'] for r in RECORDS}),)]
    assert query(wh, "SELECT count(*) FROM core.intake_event WHERE channel = '12345'")[0][0] > 0
    (content,) = query(wh, "SELECT content_masked FROM core.quarantine")[0]
    assert "13805512345" not in content
    before = query(wh, "SELECT count(*) FROM core.load_log")
    again = load_12345(wh, httpserver.url_for(""), "secret", cursor, pii=PII)
    assert again.rows_loaded == 0
    assert query(wh, "SELECT count(*) FROM core.load_log") == before
