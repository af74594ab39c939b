"""Exports: partitioned parquet with a verifiable manifest, atomic replacement, Open311 shape, no personal data."""
from __future__ import annotations

import json
import shutil

import duckdb
import pyarrow.parquet as pq
import pytest

from connectors.pii import ID_CARD_PATTERN, PHONE_PATTERN
from warehouse import export as export_module
from warehouse.export import MARTS, export_marts, verify_manifest


@pytest.fixture()
def warehouse(built_fixture, tmp_path):
    home, result = built_fixture
    assert result.ok, result.output[-2000:]
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(home / "warehouse.duckdb", copy)
    return copy


def test_every_mart_is_exported_by_month_with_a_verifiable_manifest(warehouse, tmp_path):
    exports = tmp_path / "exports"
    manifest = export_marts(warehouse, exports)
    assert verify_manifest(exports) == []
    on_disk = json.loads((exports / "_manifest.json").read_text(encoding="utf-8"))
    assert on_disk["run_id"] == manifest.run_id
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for mart in MARTS:
            table = next(t for t in manifest.tables if t.name == mart)
            assert table.rows == con.execute(f"select count(*) from marts.{mart}").fetchone()[0]
            assert {p.partition for p in table.partitions} >= {"2024-03"}
            assert (exports / mart / "month=2024-03" / "part-0.parquet").is_file()
            columns = [c["name"] for c in table.columns]
            assert columns == [d[0] for d in con.execute(f"describe marts.{mart}").fetchall()]
    march = pq.read_table(exports / "mart_unit_monthly" / "month=2024-03" / "part-0.parquet")
    assert march.num_rows == 2


def test_tampered_file_fails_verification(warehouse, tmp_path):
    exports = tmp_path / "exports"
    export_marts(warehouse, exports)
    target = exports / "fct_case" / "month=2024-03" / "part-0.parquet"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    problems = verify_manifest(exports)
    assert any("fct_case/month=2024-03/part-0.parquet" in p and "checksum" in p for p in problems)


def test_failed_export_leaves_the_previous_one_intact(warehouse, tmp_path, monkeypatch):
    exports = tmp_path / "exports"
    first = export_marts(warehouse, exports, run_id="run-1")
    before = {p: p.read_bytes() for p in exports.rglob("*.parquet")}
    real_write = export_module._write_parquet
    calls = {"n": 0}

    def failing_write(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 5:  # part-way through: some partitions of the new run are already written
            raise OSError("disk full")
        return real_write(*args, **kwargs)

    monkeypatch.setattr(export_module, "_write_parquet", failing_write)
    with pytest.raises(OSError, match="disk full"):
        export_marts(warehouse, exports, run_id="run-2")
    assert json.loads((exports / "_manifest.json").read_text(encoding="utf-8"))["run_id"] == first.run_id
    assert verify_manifest(exports) == []
    assert {p: p.read_bytes() for p in exports.rglob("*.parquet")} == before
    assert not (exports / "_runs" / "run-2").exists()  # the half-written run is cleaned away


def test_second_export_replaces_links_and_prunes_old_runs(warehouse, tmp_path):
    exports = tmp_path / "exports"
    for i in range(5):
        last = export_marts(warehouse, exports, run_id=f"run-{i}")
    assert (exports / "fct_case").resolve().parent.name == last.run_id
    assert sorted(p.name for p in (exports / "_runs").iterdir()) == ["run-2", "run-3", "run-4"]
    assert verify_manifest(exports) == []


def test_open311_shape_and_links(warehouse, tmp_path):
    exports = tmp_path / "exports"
    export_marts(warehouse, exports)
    requests = {r["service_request_id"]: r for r in
                json.loads((exports / "open311" / "requests.json").read_text(encoding="utf-8"))}
    assert set(requests) == {f"C{i}" for i in range(1, 10)}
    c1 = requests["C1"]
    for key in ("status", "service_name", "description", "requested_datetime", "updated_datetime", "address",
                "lat", "long", "agency_responsible", "parent_service_request_id"):
        assert key in c1
    assert c1["status"] == "closed" and c1["requested_datetime"] == "2024-03-01T08:50:00+08:00"
    assert requests["C4"]["status"] == "open"
    assert requests["C7"]["parent_service_request_id"] == "C1"  # merged into C1
    assert requests["C6"]["repeat_of_service_request_id"] == "C1"
    assert "caller_key" not in c1 and "content" not in c1
    assert pq.read_table(exports / "open311" / "requests.parquet").num_rows == 9


def test_no_personal_data_in_any_export(warehouse, tmp_path):
    exports = tmp_path / "exports"
    export_marts(warehouse, exports)
    scanned = 0
    for path in exports.rglob("*.parquet"):
        table = pq.read_table(path)
        for name in table.column_names:
            if str(table.schema.field(name).type) != "string":
                continue
            for value in table.column(name).to_pylist():
                if value:
                    assert not PHONE_PATTERN.search(value) and not ID_CARD_PATTERN.search(value), (path, name, value)
                    scanned += 1
    assert scanned > 100
