"""Export the marts as parquet, atomically, with a manifest; plus an Open311 GeoReport v2 export of cases.

Layout under ``exports`` (``$GONGZHI_HOME/exports``)::

    <mart>/month=YYYY-MM/part-0.parquet     marts with a month, day or week (partitioned by its month)
    <mart>/part-0.parquet                   marts without one (none today)
    open311/requests.json, requests.parquet
    _manifest.json                          the current run's manifest
    _runs/<run_id>/...                      the real files: each run writes a complete new version here

``<mart>``, ``open311`` and ``_manifest.json`` are symbolic links into the current run's directory. A run writes
every file into ``_runs/<run_id>`` (fsynced), then swaps each link with ``os.replace`` -- an atomic rename, so a
reader opening ``exports/<mart>/month=2024-03/part-0.parquet`` sees the old version or the new one, never half a
partition. A run that fails before the swap leaves the previous links, files and manifest untouched; its
half-written directory is removed. The manifest is swapped last. Old runs are pruned (``KEEP_RUNS``).

No personal data leaves: caller numbers never reach the warehouse in clear (``caller_key`` is an HMAC of the
number, which tells that two reports came from the same person and not who), free text is masked by the connectors
(connectors/pii.py), and Open311 carries neither the caller key nor the free text (only the short title).
tests/warehouse scans every exported text column with connectors.pii's patterns.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

MANIFEST_NAME = "_manifest.json"
RUNS_DIR = "_runs"
KEEP_RUNS = 3
OPEN311 = "open311"
NULL_PARTITION = "__null__"

# mart -> column whose month partitions it (None: unpartitioned)
MARTS: dict[str, str | None] = {
    "fct_intake": "received_at",
    "fct_case": "first_received_at",
    "fct_case_event": "event_at",
    "mart_unit_monthly": "month",
    "mart_area_monthly": "month",
    "mart_intake_daily": "day",
    "mart_hotspot_weekly": "week_start",
}

class ExportError(RuntimeError):
    """The export could not be completed; the previous export is intact."""


@dataclass
class PartitionExport:
    path: str  # relative to the exports folder, through the table's link (e.g. fct_case/month=2024-03/part-0.parquet)
    partition: str | None  # 'YYYY-MM', NULL_PARTITION, or None when unpartitioned
    rows: int
    bytes: int
    sha256: str


@dataclass
class TableExport:
    name: str
    partition_column: str | None
    rows: int
    columns: list[dict[str, str]]  # [{"name": ..., "type": ...}] (parquet / arrow types)
    partitions: list[PartitionExport] = field(default_factory=list)


@dataclass
class ExportManifest:
    run_id: str
    created_at: str
    warehouse: str
    exports: str
    table_count: int
    partition_count: int
    total_rows: int
    tables: list[TableExport] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2)


def export_marts(warehouse: Path, exports: Path, run_id: str | None = None) -> ExportManifest:
    """Export every mart and the Open311 view of cases from ``warehouse`` into ``exports``; return the manifest."""
    warehouse, exports = Path(warehouse), Path(exports)
    if not warehouse.exists():
        raise ExportError(f"warehouse {warehouse} does not exist: run the pipeline (dbt build) first")
    run_id = run_id or dt.datetime.now().strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    run_dir = exports / RUNS_DIR / run_id
    run_dir.mkdir(parents=True, exist_ok=False)
    try:
        tables = []
        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            missing = [m for m in MARTS if not _table_exists(con, "marts", m)]
            if missing:
                raise ExportError(f"marts missing from {warehouse}: {', '.join(missing)} (run dbt build)")
            for mart, column in MARTS.items():
                tables.append(_export_table(con, f"marts.{mart}", mart, column, run_dir))
            tables.append(_export_open311(con, run_dir))
        finally:
            con.close()
        manifest = ExportManifest(
            run_id=run_id,
            created_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            warehouse=str(warehouse),
            exports=str(exports),
            table_count=len(tables),
            partition_count=sum(len(t.partitions) for t in tables),
            total_rows=sum(t.rows for t in tables),
            tables=tables,
        )
        _write_durably(run_dir / MANIFEST_NAME, manifest.to_json().encode("utf-8"))
        _fsync_dir(run_dir)
    except BaseException:
        shutil.rmtree(run_dir, ignore_errors=True)
        raise
    # Publish: every table link, then the manifest. Each swap is one atomic rename.
    for table in tables:
        _swap_link(exports / table.name, Path(RUNS_DIR) / run_id / table.name)
    _swap_link(exports / MANIFEST_NAME, Path(RUNS_DIR) / run_id / MANIFEST_NAME)
    _fsync_dir(exports)
    _prune_runs(exports, keep=KEEP_RUNS, current=run_id)
    return manifest


def verify_manifest(exports: Path) -> list[str]:
    """Check the current export against its manifest; return the problems found (empty when all is well)."""
    exports = Path(exports)
    manifest_path = exports / MANIFEST_NAME
    if not manifest_path.exists():
        return [f"{manifest_path} is missing"]
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    problems = []
    for table in manifest["tables"]:
        for part in table["partitions"]:
            path = exports / part["path"]
            if not path.exists():
                problems.append(f"{part['path']}: missing")
                continue
            if _sha256(path) != part["sha256"]:
                problems.append(f"{part['path']}: checksum differs from the manifest")
            elif path.suffix == ".parquet" and pq.ParquetFile(path).metadata.num_rows != part["rows"]:
                problems.append(f"{part['path']}: row count differs from the manifest")
    return problems


# --- tables -----------------------------------------------------------------------------------------------------

def _export_table(con, relation: str, name: str, partition_column: str | None, run_dir: Path) -> TableExport:
    table_dir = run_dir / name
    table_dir.mkdir(parents=True)
    if partition_column is None:
        keys: list[str | None] = [None]
    else:
        keys = [r[0] for r in con.execute(
            f"select distinct coalesce(strftime({partition_column}, '%Y-%m'), '{NULL_PARTITION}') "
            f"from {relation} order by 1").fetchall()]
        if not keys:  # an empty mart still publishes its schema
            keys = []
    partitions = []
    for key in keys:
        if key is None:
            where, rel_dir = "true", Path(name)
        else:
            where = (f"{partition_column} is null" if key == NULL_PARTITION
                     else f"strftime({partition_column}, '%Y-%m') = '{key}'")
            rel_dir = Path(name) / f"month={key}"
        partitions.append(_write_parquet(con, f"select * from {relation} where {where}", run_dir, rel_dir, key))
    schema_source = run_dir / partitions[0].path if partitions else None
    if schema_source is None:  # no rows at all: write one empty file so readers still get the columns
        partitions.append(_write_parquet(con, f"select * from {relation} limit 0", run_dir, Path(name), None))
        schema_source = run_dir / partitions[0].path
    columns = [{"name": f.name, "type": str(f.type)} for f in pq.read_schema(schema_source)]
    return TableExport(name, partition_column, sum(p.rows for p in partitions), columns, partitions)


def _write_parquet(con, query: str, run_dir: Path, rel_dir: Path, key: str | None) -> PartitionExport:
    (run_dir / rel_dir).mkdir(parents=True, exist_ok=True)
    rel_path = rel_dir / "part-0.parquet"
    path = run_dir / rel_path
    con.execute(f"copy ({query}) to '{path}' (format parquet, compression zstd)")
    _fsync_file(path)
    rows = pq.ParquetFile(path).metadata.num_rows
    return PartitionExport(str(rel_path), key, rows, path.stat().st_size, _sha256(path))


# --- Open311 ----------------------------------------------------------------------------------------------------

OPEN311_QUERY = """
with cases as (
    select * from marts.fct_case
),
leads as (
    select channel, source_id, title, address from marts.fct_intake where is_lead
),
last_event as (
    select case_id, max(event_at) as last_event_at from marts.fct_case_event group by case_id
)
select
    cases.case_id as service_request_id,
    case when cases.status in ('closed', 'answered', 'merged') then 'closed' else 'open' end as status,
    case cases.status
        when 'merged' then 'duplicate of ' || cases.merged_into_case_id
        when 'answered' then 'answered directly'
        else cases.status
    end as status_notes,
    coalesce(cases.category_l2_code, '9999') as service_code,
    coalesce(cases.category_l2, '未归类') as service_name,
    -- the title, not the free text: short, and it names the problem rather than the person
    coalesce(leads.title, cases.category_l2) as description,
    cases.unit as agency_responsible,
    cases.first_received_at as requested_datetime,
    greatest(cases.first_received_at, cases.last_received_at, cases.closed_at, last_event.last_event_at)
        as updated_datetime,
    cases.deadline_at as expected_datetime,
    leads.address as address,
    cases.lat as lat,
    cases.lon as long,
    -- GeoReport v2 extension: a merged case points at the case it was merged into
    cases.merged_into_case_id as parent_service_request_id,
    cases.repeat_of_case_id as repeat_of_service_request_id,
    cases.intake_count as report_count,
    cases.channel_count as channel_count
from cases
left join leads on leads.channel = cases.lead_channel and leads.source_id = cases.lead_source_id
left join last_event on last_event.case_id = cases.case_id
order by requested_datetime, service_request_id
"""

CST = dt.timezone(dt.timedelta(hours=8))


def _export_open311(con, run_dir: Path) -> TableExport:
    rel_dir = Path(OPEN311)
    parquet_part = _write_parquet(con, OPEN311_QUERY, run_dir, rel_dir, None)
    parquet_path = run_dir / parquet_part.path
    final_parquet = parquet_path.with_name("requests.parquet")
    os.replace(parquet_path, final_parquet)
    parquet_part.path = str(rel_dir / "requests.parquet")
    table = pq.read_table(final_parquet)
    records = [_open311_record(row) for row in table.to_pylist()]
    json_path = run_dir / rel_dir / "requests.json"
    _write_durably(json_path, json.dumps(records, ensure_ascii=False).encode("utf-8"))
    json_part = PartitionExport(str(rel_dir / "requests.json"), None, len(records), json_path.stat().st_size,
                                _sha256(json_path))
    columns = [{"name": f.name, "type": str(f.type)} for f in table.schema]
    return TableExport(OPEN311, None, table.num_rows, columns, [parquet_part, json_part])


def _open311_record(row: dict) -> dict:
    out = {}
    for key, value in row.items():
        if isinstance(value, dt.datetime):  # warehouse times are naive CST: say so
            value = value.replace(tzinfo=CST).isoformat()
        out[key] = value
    return out


# --- atomic file system operations -------------------------------------------------------------------------------

def _table_exists(con, schema: str, name: str) -> bool:
    return con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, name]
    ).fetchone()[0] > 0


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_file(path: Path) -> None:
    with path.open("rb") as fh:
        os.fsync(fh.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_durably(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _swap_link(link: Path, target: Path) -> None:
    """Point ``link`` at ``target`` (relative) atomically, replacing a previous link; a real directory or file
    left by an older layout is moved aside first (one non-atomic step, once)."""
    if link.exists() and not link.is_symlink():
        aside = link.with_name(f".{link.name}.old-{uuid.uuid4().hex[:6]}")
        os.replace(link, aside)
        shutil.rmtree(aside, ignore_errors=True) if aside.is_dir() else aside.unlink()
    tmp = link.with_name(f".{link.name}.link-{uuid.uuid4().hex[:6]}")
    os.symlink(target, tmp)
    os.replace(tmp, link)


def _prune_runs(exports: Path, keep: int, current: str) -> None:
    runs = sorted((p for p in (exports / RUNS_DIR).iterdir() if p.is_dir()), key=lambda p: p.name)
    in_use = {os.readlink(p).split(os.sep)[1] for p in exports.iterdir() if p.is_symlink()
              and os.readlink(p).startswith(RUNS_DIR + os.sep)}
    for old in runs[:-keep]:
        if old.name != current and old.name not in in_use:
            shutil.rmtree(old, ignore_errors=True)
