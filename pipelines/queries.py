"""Read-only questions the checks and the demo summary ask the warehouse (DuckDB, opened read-only)."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Iterator

import duckdb


@contextmanager
def read_only(warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    if not warehouse.exists():
        raise FileNotFoundError(f"warehouse {warehouse} does not exist yet: load some data first")
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        yield con
    finally:
        con.close()


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchone()[0]
    )


def row_count(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> int | None:
    if not table_exists(con, schema, table):
        return None
    return con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]


@dataclass(frozen=True)
class DeliveryImbalance:
    load_id: str
    delivery: str
    rows_in: int
    rows_loaded: int
    rows_quarantined: int
    raw_rows: int  # rows of raw.<channel>__intake carrying this load_id


def delivery_imbalances(con: duckdb.DuckDBPyConnection, channel: str) -> tuple[int, list[DeliveryImbalance]]:
    """(deliveries checked, deliveries whose books do not balance) for one channel.

    A delivery balances when rows_in = rows_loaded + rows_quarantined in core.load_log and the raw layer holds
    exactly rows_loaded rows with its load_id (so the log cannot claim rows that never arrived).
    """
    if not table_exists(con, "core", "load_log"):
        return 0, []
    raw_table = f"{channel}__intake"
    raw_counts = (
        f'(select load_id, count(*) as n from raw."{raw_table}" group by load_id)'
        if table_exists(con, "raw", raw_table)
        else "(select null::varchar as load_id, 0::bigint as n where false)"
    )
    rows = con.execute(
        f"""
        select l.load_id, l.delivery, l.rows_in, l.rows_loaded, l.rows_quarantined, coalesce(r.n, 0)
        from core.load_log l left join {raw_counts} r using (load_id)
        where l.channel = ?
        order by l.loaded_at, l.delivery
        """,
        [channel],
    ).fetchall()
    bad = [
        DeliveryImbalance(*row)
        for row in rows
        if row[2] != row[3] + row[4] or row[5] != row[3]
    ]
    return len(rows), bad


def newest_record_per_channel(con: duckdb.DuckDBPyConnection) -> dict[str, datetime]:
    if not table_exists(con, "core", "intake"):
        return {}
    return dict(con.execute("select channel, max(version_at) from core.intake group by channel").fetchall())


def daily_merge_rates(con: duckdb.DuckDBPyConnection) -> list[tuple[date, int, float]]:
    """Per day of receipt: (day, intakes, share of them merged into a case another intake leads)."""
    if not (table_exists(con, "core", "case_link") and table_exists(con, "core", "intake")):
        return []
    return con.execute(
        """
        select cast(i.received_at as date) as day, count(*) as intakes,
               avg(case when l.link_type in ('duplicate', 'same_caller') then 1.0 else 0.0 end) as merge_rate
        from core.case_link l join core.intake i using (channel, source_id)
        group by 1 order by 1
        """
    ).fetchall()


def layer_counts(warehouse: Path) -> dict[str, dict[str, int]]:
    """Row counts of every table, per schema (layer): {"raw": {"110__intake": 123, ...}, "core": ..., ...}."""
    with read_only(warehouse) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = current_database() order by 1, 2"
        ).fetchall()
        out: dict[str, dict[str, int]] = {}
        for schema, table in tables:
            out.setdefault(schema, {})[table] = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
        return out
