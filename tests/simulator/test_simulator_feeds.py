"""The simulator's feeds parse exactly as ../shared/feeds/README.md says, and its truth matches them."""
from __future__ import annotations

import csv
import gzip
import io
import json
import re
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pyarrow.parquet as pq
import pytest

from simulator import SimulationConfig, simulate
from simulator.cli import simulate_main
from simulator.feeds import HEADER_110
from simulator.geography import load_district
from simulator.text import id_check_char
from simulator_testkit import file_digests

FIELDS_12345 = ["gdbh", "slsj", "ldhm", "sqrxm", "sfbm", "sqlx", "sqbt", "sqnr", "sfdz", "xzqh", "jd", "zbx", "zby",
                "fl1", "fl2", "fl3", "jjcd", "cbdw", "pdsj", "qssj", "blsx", "yqsx", "bjsj", "gdzt", "hfmyd", "cbcs",
                "cbbz", "glgdbh", "gxsj", "lc"]
PETITION_HEADERS = ["信访件编号", "登记日期", "信访形式", "信访人", "证件号码", "联系电话", "人数", "问题属地", "信访目的",
                    "内容分类", "信访事项", "责任单位", "办理期限", "办结日期", "办理状态", "是否重复信访", "评价"]
TS = "%Y-%m-%d %H:%M:%S"


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    home = tmp_path_factory.mktemp("sim")
    rc = simulate_main(["--start", "2024-03-01", "--days", "9", "--per-day", "200", "--fault-rate", "0.05",
                        "--seed", "7", "--home", str(home)])
    assert rc == 0
    landing, truth = home / "landing", home / "truth"
    malformed = pq.read_table(truth / "malformed.parquet").to_pylist()
    return {
        "landing": landing,
        "intakes": pq.read_table(truth / "intakes.parquet").to_pylist(),
        "incidents": pq.read_table(truth / "incidents.parquet").to_pylist(),
        "malformed": malformed,
        "bad": {(m["delivery"], m["position"]): m for m in malformed},
    }


def test_same_seed_gives_same_bytes_whatever_the_workers_and_other_seed_differs(tmp_path):
    cfg = SimulationConfig(start=date(2024, 3, 4), days=7, per_day=60, seed=11)
    for run, workers in (("a", 1), ("b", 2)):
        simulate(cfg, tmp_path / run / "landing", tmp_path / run / "truth", workers=workers)
    simulate(SimulationConfig(start=date(2024, 3, 4), days=7, per_day=60, seed=12),
             tmp_path / "c" / "landing", tmp_path / "c" / "truth")
    a, b, c = (file_digests(tmp_path / r) for r in "abc")
    assert any(k.endswith(".xlsx") for k in a) and any(k.endswith(".gz") for k in a)
    assert a == b
    assert a != c


def test_110_files_are_gb18030_crlf_with_trailer(sim):
    files = sorted((sim["landing"] / "110").glob("fjwjq_*.csv"))
    assert files and any("_v2" in f.name for f in files)
    for f in files:
        raw = f.read_bytes()
        text = raw.decode("gb18030")
        assert "\r\n" in text and text.endswith("\r\n")
        lines = text.split("\r\n")
        rows = list(csv.reader(io.StringIO(text, newline="")))
        assert rows[0] == HEADER_110
        trailer_fault = sim["bad"].get((f.name, -1))
        data = rows[1:]
        if trailer_fault and trailer_fault["fault_kind"] == "missing_trailer":
            assert not lines[-2].startswith("合计")
        else:
            trailer = data.pop()
            n = int(re.fullmatch(r"合计：(\d+)条", trailer[0]).group(1))
            assert (n == len(data)) == (trailer_fault is None)
        for pos, row in enumerate(data, start=1):
            fault = sim["bad"].get((f.name, pos))
            if fault is None:
                assert len(row) == 13
                datetime.strptime(row[1], "%Y/%m/%d %H:%M:%S")
            else:
                assert len(row) != 13 or fault["fault_kind"] == "bad_datetime"


def test_petition_exports_have_title_headers_and_valid_ids(sim):
    files = sorted((sim["landing"] / "petition").glob("xfdj_*.xlsx"))
    assert len(files) >= 2
    numbers_per_file = []
    for f in files:
        wb = openpyxl.load_workbook(f)
        assert wb.sheetnames == ["信访事项"]
        ws = wb["信访事项"]
        assert "A1:Q1" in {str(r) for r in ws.merged_cells.ranges}
        assert re.fullmatch(r"包河区信访事项登记表（\d{4}-\d\d-\d\d至\d{4}-\d\d-\d\d）", ws["A1"].value)
        rows = list(ws.iter_rows(min_row=2, values_only=True))
        assert list(rows[0]) == PETITION_HEADERS
        numbers = set()
        for pos, row in enumerate(rows[1:], start=1):
            numbers.add(row[0])
            idno = row[4]
            assert len(idno) == 18 and id_check_char(idno[:17]) == idno[17]
            if (f.name, pos) not in sim["bad"]:
                assert isinstance(row[1], datetime) or re.fullmatch(r"\d{4}\.\d\d\.\d\d|\d{4}年\d{1,2}月\d{1,2}日", row[1])
        numbers_per_file.append(numbers)
    # consecutive exports overlap
    assert any(a & b for a, b in zip(numbers_per_file, numbers_per_file[1:]))


def _hotline_lines(path: Path) -> list[str]:
    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    return data.decode("utf-8").splitlines()


def test_hotline_lines_parse_except_the_listed_faults(sim):
    files = sorted((sim["landing"] / "hotline").rglob("*.jsonl*"))
    assert {f.parent.name for f in files} == {"12315", "12319", "12369", "12320"}
    assert any(f.suffix == ".gz" for f in files)
    crs_seen, epoch_seen = set(), False
    for f in files:
        delivery = f"{f.parent.name}/{f.name}"
        for pos, line in enumerate(_hotline_lines(f), start=1):
            fault = sim["bad"].get((delivery, pos))
            if fault and fault["fault_kind"] == "truncated_line":
                with pytest.raises(json.JSONDecodeError):
                    json.loads(line)
                continue
            rec = json.loads(line)
            assert rec["hotline"] == f.parent.name
            assert rec["location"]["crs"] in ("wgs84", "gcj02", "bd09")
            crs_seen.add(rec["location"]["crs"])
            epoch_seen |= isinstance(rec["received_at"], int)
            assert rec["rating"] is None or 1 <= rec["rating"] <= 5
            if fault is None and isinstance(rec["received_at"], str):
                datetime.fromisoformat(rec["received_at"])
    assert crs_seen == {"wgs84", "gcj02", "bd09"} and epoch_seen


def _orders(sim) -> list[tuple[str, int, dict]]:
    out = []
    for f in sorted((sim["landing"] / "12345").glob("work_orders_*.jsonl")):
        for pos, line in enumerate(f.read_text(encoding="utf-8").splitlines(), start=1):
            out.append((f.name, pos, json.loads(line)))
    return out


def test_12345_store_records_have_every_field_and_lifecycle(sim):
    orders = _orders(sim)
    versions = Counter(r["gdbh"] for _, _, r in orders)
    assert max(versions.values()) >= 4  # orders re-delivered as they change
    phones = set()
    for name, pos, rec in orders:
        assert list(rec) == FIELDS_12345
        assert name == f"work_orders_{rec['gxsj'][:10].replace('-', '')}.jsonl"
        assert rec["lc"][0]["dz"] == "受理"
        fault = sim["bad"].get((name, pos))
        if fault is None:
            datetime.strptime(rec["slsj"], TS)
            if rec["pdsj"]:
                datetime.strptime(rec["pdsj"], TS)
        else:
            assert fault["source_id"] == rec["gdbh"]
        phones.add(re.sub(r"\d", "9", rec["ldhm"]))
    # every phone format of the spec: plain, spaced, +86-, landline, withheld
    assert {"99999999999", "999 9999 9999", "+99-999-9999-9999", "9999-99999999", ""} <= phones
    actions = {e["dz"] for _, _, r in orders for e in r["lc"]}
    assert {"派单", "签收", "退单", "改派", "延期申请", "催办", "办结", "回访", "直接答复"} <= actions
    files = [n for n, _, _ in orders]
    for name in set(files):
        keys = [(r["gxsj"], r["gdbh"]) for n, _, r in orders if n == name]
        assert keys == sorted(keys)


def _delivered_ids(sim) -> set[tuple[str, str]]:
    ids = {("12345", r["gdbh"]) for _, _, r in _orders(sim)}
    for f in (sim["landing"] / "110").glob("*.csv"):
        for row in list(csv.reader(io.StringIO(f.read_bytes().decode("gb18030"), newline="")))[1:]:
            if not row[0].startswith("合计"):
                ids.add(("110", row[0]))
    for f in (sim["landing"] / "petition").glob("*.xlsx"):
        for row in openpyxl.load_workbook(f).active.iter_rows(min_row=3, values_only=True):
            ids.add(("petition", row[0]))
    for f in (sim["landing"] / "hotline").rglob("*.jsonl*"):
        for line in _hotline_lines(f):
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            ids.add(("hotline", f"{rec['hotline']}:{rec['ticket_id']}"))
    return ids


def test_truth_intakes_are_exactly_the_delivered_intakes(sim):
    truth_ids = {(r["channel"], r["source_id"]) for r in sim["intakes"]}
    assert len(truth_ids) == len(sim["intakes"])
    assert truth_ids == _delivered_ids(sim)
    assert {r["channel"] for r in sim["intakes"]} == {"12345", "110", "petition", "hotline"}


def test_truth_links_leads_and_repeat_share(sim):
    intakes, incidents = sim["intakes"], sim["incidents"]
    by_incident = Counter(r["incident_id"] for r in intakes)
    leads = Counter(r["incident_id"] for r in intakes if r["is_lead"])
    assert set(by_incident) == {i["incident_id"] for i in incidents}
    assert all(leads[i] == 1 for i in by_incident)
    links = Counter(r["link_type"] for r in intakes)
    assert {"lead", "duplicate", "same_caller", "repeat"} <= set(links)
    assert all(r["is_lead"] == (r["link_type"] in ("lead", "repeat")) for r in intakes)
    share = 1 - links["lead"] / len(intakes)
    assert 0.12 <= share <= 0.32
    assert max(by_incident.values()) >= 5  # heavy tail
    repeats = [i for i in incidents if i["repeat_of_incident_id"]]
    known = {i["incident_id"]: i for i in incidents}
    for i in repeats:
        parent = known[i["repeat_of_incident_id"]]
        assert parent["closed_at"] is not None and parent["closed_at"] < i["first_received_at"]
    district = load_district()
    communities = {c.code: c for c in district.communities}
    for i in incidents:
        assert communities[i["community_code"]].street_code == i["street_code"]
        assert 117.27 < i["lon"] < 117.41 and 31.69 < i["lat"] < 31.87


def test_truth_handling_is_what_the_lead_12345_order_says(sim):
    latest: dict[str, dict] = {}
    for _, _, rec in _orders(sim):
        latest[rec["gdbh"]] = rec  # files are in gxsj order
    checked = 0
    for inc in sim["incidents"]:
        if inc["lead_channel"] != "12345":
            continue
        rec = latest[inc["lead_source_id"]]
        assert rec["cbdw"] == (inc["unit"] or "")
        for col, field in (("dispatched_at", "pdsj"), ("signed_at", "qssj"), ("deadline_at", "blsx"),
                           ("extended_deadline_at", "yqsx"), ("closed_at", "bjsj")):
            assert (inc[col].strftime(TS) if inc[col] else None) == rec[field], (col, rec["gdbh"])
        assert inc["rating"] == rec["hfmyd"] and inc["urge_count"] == rec["cbcs"]
        assert inc["reopened"] == bool(rec["cbbz"])
        checked += 1
    assert checked > 100


def test_hard_negatives_exist(sim):
    kinds = Counter(i["hard_negative_kind"] for i in sim["incidents"] if i["hard_negative_kind"])
    assert set(kinds) == {"same_estate_other_kind", "same_caller_other_kind", "neighbouring_road_same_kind"}
    incidents = {i["incident_id"]: i for i in sim["incidents"]}
    for i in sim["incidents"]:
        twin = incidents.get(i["hard_negative_of"])
        if twin is None:
            continue
        if i["hard_negative_kind"] == "neighbouring_road_same_kind":
            assert twin["kind_code"] == i["kind_code"]
        else:
            assert twin["kind_code"] != i["kind_code"]


def test_malformed_list_covers_every_channel_and_fault_kind(tmp_path):
    summary = simulate(SimulationConfig(days=24, per_day=60, fault_rate=0.3, seed=5), tmp_path / "l", tmp_path / "t")
    malformed = pq.read_table(tmp_path / "t" / "malformed.parquet").to_pylist()
    assert summary.malformed == len(malformed)
    kinds = {(m["channel"], m["fault_kind"]) for m in malformed}
    assert kinds == {("12345", "bad_slsj"), ("12345", "bad_pdsj"), ("110", "missing_columns"),
                     ("110", "bad_datetime"), ("110", "wrong_trailer"), ("110", "missing_trailer"),
                     ("hotline", "truncated_line"), ("hotline", "bad_datetime"), ("petition", "bad_date")}
    for m in malformed:
        if m["fault_kind"] in ("wrong_trailer", "missing_trailer"):
            assert m["position"] == -1 and (tmp_path / "l" / "110" / m["delivery"].replace(".csv", "_v2.csv")).exists()
        else:
            assert m["position"] >= 1 and m["source_id"]


def test_no_faults_at_fault_rate_zero(tmp_path):
    summary = simulate(SimulationConfig(days=8, per_day=60, fault_rate=0.0, seed=5), tmp_path / "l", tmp_path / "t")
    assert summary.malformed == 0 and summary.intakes > 300


def test_bad_configuration_is_a_clear_error(tmp_path, capsys):
    assert simulate_main(["--days", "0", "--home", str(tmp_path)]) == 2
    assert "days" in capsys.readouterr().err


def test_truth_handling_is_what_the_lead_hotline_ticket_says(sim):
    latest: dict[str, dict] = {}
    for f in sorted((sim["landing"] / "hotline").rglob("*.jsonl*")):
        for line in _hotline_lines(f):
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            latest[f"{rec['hotline']}:{rec['ticket_id']}"] = rec  # per hotline, files and lines are in time order
    checked = 0
    for inc in sim["incidents"]:
        if inc["lead_channel"] != "hotline":
            continue
        rec = latest[inc["lead_source_id"]]
        assert (inc["closed_at"] is None) == (rec["closed_at"] is None)
        score = rec["rating"]
        expected = None if score is None else "满意" if score >= 4 else "基本满意" if score == 3 else "不满意"
        assert inc["rating"] == expected
        checked += 1
    assert checked > 10


def test_coordinate_systems_shift_by_the_published_offsets():
    from simulator.geography import distance_m
    from connectors.geo import to_wgs84
    from simulator.text import wgs84_to

    lon, lat = 117.33, 31.78
    gx, gy = wgs84_to("gcj02", lon, lat)
    assert 200 < distance_m(lon, lat, gx, gy) < 900  # GCJ-02 moves points a few hundred metres in Hefei
    bx, by = wgs84_to("bd09", lon, lat)
    assert abs(bx - gx - 0.0065) < 0.002 and abs(by - gy - 0.006) < 0.002
    assert wgs84_to("wgs84", lon, lat) == (lon, lat)
    for crs, (x, y) in (("gcj02", (gx, gy)), ("bd09", (bx, by))):  # what the connectors undo lands on the point
        back = to_wgs84(x, y, crs)
        assert distance_m(lon, lat, *back) < 0.01


def test_tabled_gcj02_offsets_match_the_formulas_within_millimetres():
    """text.wgs84_to interpolates the GCJ-02 offset from a table inside the district: it must stay within a few
    millimetres of the published formulas there (and be the formulas outside the table)."""
    import random

    from connectors import geo
    from simulator.geography import distance_m
    from simulator.text import wgs84_to

    rnd = random.Random(7)
    exact = {"gcj02": geo.wgs84_to_gcj02, "bd09": geo.wgs84_to_bd09}
    worst = {crs: 0.0 for crs in exact}
    for _ in range(20_000):
        lon, lat = rnd.uniform(117.27, 117.41), rnd.uniform(31.69, 31.87)
        for crs, formula in exact.items():
            worst[crs] = max(worst[crs], distance_m(*wgs84_to(crs, lon, lat), *formula(lon, lat)))
    assert all(0.0 < err < 0.005 for err in worst.values()), worst
    far = (116.0, 30.0)  # outside the table
    assert wgs84_to("gcj02", *far) == geo.wgs84_to_gcj02(*far)
    with pytest.raises(ValueError):
        wgs84_to("utm", 117.3, 31.8)
