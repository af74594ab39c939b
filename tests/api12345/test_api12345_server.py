"""The simulated 12345 API: contract, ordering, paging, clock and injected faults, over real HTTP."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from api12345_helpers import make_versions, version_key, write_landing
from simulator.server12345 import API_PATH, Faults, serve_main, start_server, write_sample_landing

TOKEN = "test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "feed_samples" / "12345_page.json"


@pytest.fixture(scope="module")
def versions():
    return make_versions(80)


@pytest.fixture()
def server(tmp_path, versions):
    write_landing(tmp_path / "12345", versions)
    srv = start_server(tmp_path / "12345", token=TOKEN)
    yield srv
    srv.stop()


def _get(srv, **params):
    return httpx.get(srv.url + API_PATH, params=params, headers=AUTH, timeout=10)


def test_pages_cover_every_version_in_order(server, versions):
    expected = sorted(versions, key=lambda v: (v["gxsj"], v["gdbh"]))
    got = []
    page_no = 1
    while True:
        body = _get(server, page_no=page_no, page_size=50).json()
        assert body["code"] == 0 and body["msg"] == "ok"
        assert body["data"]["total"] == len(versions) and body["data"]["page_size"] == 50
        if not body["data"]["records"]:
            break
        got += body["data"]["records"]
        page_no += 1
    assert [version_key(r) for r in got] == [version_key(v) for v in expected]
    assert got[0] == expected[0]  # records are served exactly as landed


def test_updated_after_is_exclusive_and_accepts_offsets(server, versions):
    cut = sorted(v["gxsj"] for v in versions)[len(versions) // 2]
    iso = cut.replace(" ", "T") + "+08:00"
    body = _get(server, updated_after=iso, page_size=500).json()
    assert {version_key(r) for r in body["data"]["records"]} == {version_key(v) for v in versions if v["gxsj"] > cut}
    in_utc = (datetime.fromisoformat(cut) - timedelta(hours=8)).isoformat() + "Z"
    utc = _get(server, updated_after=in_utc, page_size=500).json()
    assert utc["data"]["total"] == body["data"]["total"]


def test_as_of_hides_later_versions(server, versions):
    cut = sorted(v["gxsj"] for v in versions)[10]
    server.set_as_of(cut)
    body = _get(server, page_size=500).json()
    assert {version_key(r) for r in body["data"]["records"]} == {version_key(v) for v in versions if v["gxsj"] <= cut}
    server.set_as_of(None)
    assert _get(server, page_size=500).json()["data"]["total"] == len(versions)


def test_bad_token_and_bad_parameters(server):
    r = httpx.get(server.url + API_PATH, headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401 and TOKEN not in r.text
    assert httpx.get(server.url + API_PATH).status_code == 401
    for params in ({"page_size": 501}, {"page_size": 0}, {"page_no": 0}, {"updated_after": "yesterday"}):
        r = _get(server, **params)
        assert r.status_code == 400 and r.json()["code"] != 0
    assert httpx.get(server.url + "/other", headers=AUTH).status_code == 404


def test_scripted_faults(server):
    server.set_faults(Faults(script=["429", "code", "500", "502", "503", "drop", "truncate", "ok"], retry_after=7))
    r = _get(server)
    assert r.status_code == 429 and r.headers["Retry-After"] == "7"
    r = _get(server)
    assert r.status_code == 200 and r.json() == {"code": 5003, "msg": "系统繁忙", "data": None}
    assert [_get(server).status_code for _ in range(3)] == [500, 502, 503]
    with pytest.raises(httpx.RemoteProtocolError):
        _get(server)
    with pytest.raises(httpx.RemoteProtocolError):
        _get(server)
    assert _get(server).json()["code"] == 0
    assert server.faults_injected == {"429": 1, "code": 1, "500": 1, "502": 1, "503": 1, "drop": 1, "truncate": 1}


def test_every_nth_request_and_unknown_fault(server):
    server.set_faults(Faults(every={"503": 3}))
    assert [_get(server).status_code for _ in range(6)] == [200, 200, 503, 200, 200, 503]
    with pytest.raises(ValueError):
        Faults(rates={"teapot": 0.5})


def test_new_files_are_picked_up_and_bad_lines_counted(tmp_path):
    landing = tmp_path / "12345"
    write_sample_landing(landing, SAMPLE)
    srv = start_server(landing, token=TOKEN)
    try:
        assert _get(srv).json()["data"]["total"] == 3
        extra = make_versions(2, seed=3)
        (landing / "work_orders_20240320.jsonl").write_text(
            json.dumps(extra[0], ensure_ascii=False) + "\n{truncated\n", encoding="utf-8")
        assert _get(srv).json()["data"]["total"] == 4
        assert srv.store.unservable_lines == 1
    finally:
        srv.stop()


def test_cli_refuses_missing_landing(tmp_path, capsys):
    assert serve_main(["--landing", str(tmp_path / "nope"), "--port", "0"]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_cli_serves_with_the_token_from_the_environment(tmp_path):
    import os
    import subprocess
    import sys

    landing = tmp_path / "12345"
    write_sample_landing(landing, SAMPLE)
    env = {**os.environ, "GONGZHI_12345_TOKEN": "env-secret-7"}
    proc = subprocess.Popen([sys.executable, "-m", "gongzhi.cli", "serve-12345", "--landing", str(landing),
                             "--port", "0", "--fault-every", "503=2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        out = [proc.stdout.readline(), proc.stdout.readline()]
        assert "3 work-order versions" in out[0]
        url = out[1].split(" at ")[1].strip()
        auth = {"Authorization": "Bearer env-secret-7"}
        assert httpx.get(url, headers=auth, timeout=10).json()["data"]["total"] == 3
        assert httpx.get(url, headers=auth, timeout=10).status_code == 503  # every 2nd request
        assert httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10).status_code == 401
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert "env-secret-7" not in "".join(out) + err


def test_columnar_index_equals_line_by_line(tmp_path, monkeypatch):
    import numpy as np

    import simulator.server12345 as server_module

    versions = make_versions(30, seed=9)
    versions[3]["gxsj"] = "20240305"  # odd shapes: an ISO parse, else right after the line before
    versions[4]["gxsj"] = "2024-03-05T09:00:00+08:00"
    versions[5]["gxsj"] = "??"
    landing = tmp_path / "12345"
    write_landing(landing, versions)
    crlf = landing / "work_orders_20240301.jsonl"
    no_gxsj = {**versions[1], "gxsj": None}
    crlf.write_bytes(b"\n" + (json.dumps(no_gxsj, ensure_ascii=False) + "\r\n\r\n").encode())
    fast = server_module.VersionStore(landing)
    monkeypatch.setattr(server_module, "_index_file_columnar", lambda *args: None)
    slow = server_module.VersionStore(landing)
    for column in ("_keys", "_gdbh", "_file_no", "_offset", "_length"):
        assert np.array_equal(getattr(fast, column), getattr(slow, column)), column
    assert len(fast) == len(versions) + 1
    assert [json.loads(b) for b in fast.read(0, len(fast))] == [json.loads(b) for b in slow.read(0, len(slow))]


def test_order_store_serves_the_same_bytes_as_the_plain_store(tmp_path, monkeypatch):
    """The simulator's order store (--compact-12345: each order once, with its event plan) is a fraction of the
    plain store's size, and the server renders from it exactly the records of the plain store: same pages, same
    bytes, broken versions included; the fault list names the same versions."""
    from datetime import date

    import pyarrow.parquet as pq

    import numpy as np

    import simulator.server12345 as server_module
    from simulator import SimulationConfig, simulate
    from simulator.store12345 import ORDER_MARK
    from simulator.server12345 import VersionStore

    stores, broken = {}, {}
    for compact in (False, True):
        cfg = SimulationConfig(start=date(2024, 3, 1), days=6, per_day=150, seed=5, fault_rate=0.05,
                               compact_12345=compact)
        home = tmp_path / str(compact)
        simulate(cfg, home / "landing", home / "truth", workers=1)
        stores[compact] = home / "landing" / "12345"
        broken[compact] = sorted((m["source_id"], m["version_at"], m["fault_kind"])
                                 for m in pq.read_table(home / "truth" / "malformed.parquet").to_pylist()
                                 if m["channel"] == "12345")
    assert broken[True] == broken[False] and len(broken[True]) > 5
    sizes = {c: sum(p.stat().st_size for p in d.glob("work_orders_*.jsonl")) for c, d in stores.items()}
    assert sizes[True] < 0.4 * sizes[False]
    lines = [line for p in stores[True].glob("*.jsonl") for line in p.read_bytes().splitlines()]
    assert lines and all(json.loads(line)[ORDER_MARK] for line in lines)
    plain, compact = VersionStore(stores[False]), VersionStore(stores[True])
    assert len(plain) == len(compact) > 1000
    assert plain.read(0, len(plain)) == compact.read(0, len(compact))
    monkeypatch.setattr(server_module, "_index_file_columnar", lambda *args: None)
    by_line = VersionStore(stores[True])  # the line-by-line index finds the same versions
    for column in ("_keys", "_gdbh", "_offset", "_length", "_version"):
        assert np.array_equal(getattr(by_line, column), getattr(compact, column)), column
    monkeypatch.undo()
    with start_server(stores[True], token=TOKEN) as srv_compact, start_server(stores[False], token=TOKEN) as srv:
        for page_no in (1, 3):
            a = _get(srv, updated_after="2024-03-02 12:00:00", page_no=page_no, page_size=500)
            b = _get(srv_compact, updated_after="2024-03-02 12:00:00", page_no=page_no, page_size=500)
            assert a.status_code == b.status_code == 200 and a.content == b.content
            assert len(a.json()["data"]["records"]) == 500
