"""The DuckDB store: raw (every delivered version), core.intake / core.intake_event (current), core.quarantine,
core.load_log. Layouts come from connectors/schema.py.

One ``Warehouse`` is one connection, opened for the duration of a load and closed after it (DuckDB allows one
writer per file). Each delivery is written in one transaction: raw rows, the current-layer merge, quarantine
and the load-log row commit together or not at all.

Current-layer rule: per (channel, source_id) the row with the greatest version_at wins; on a tie the later
load wins (load ids sort by time), then the later position. An older version never replaces a newer one.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from connectors.common import WHOLE_DELIVERY, ParsedDelivery
from connectors.schema import EVENT_SCHEMA, INTAKE_SCHEMA, LOAD_LOG_SCHEMA, QUARANTINE_SCHEMA

# Events as delivered: EVENT_SCHEMA plus where they came from, so an earlier version's events can be restored.
RAW_EVENT_SCHEMA = pa.schema(
    list(EVENT_SCHEMA)
    + [pa.field("load_id", pa.string(), nullable=False), pa.field("delivery", pa.string(), nullable=False),
       pa.field("position", pa.int64(), nullable=False)]
)
_BATCH_EVENT_SCHEMA = pa.schema(list(EVENT_SCHEMA) + [pa.field("position", pa.int64(), nullable=False)])

_DUCKDB_TYPES = {
    pa.string(): "VARCHAR",
    pa.timestamp("us"): "TIMESTAMP",
    pa.float64(): "DOUBLE",
    pa.int8(): "TINYINT",
    pa.int32(): "INTEGER",
    pa.int64(): "BIGINT",
    pa.bool_(): "BOOLEAN",
}
# DuckDB's buffer pool for a load (its default is 80 % of the machine's memory, which a large warehouse would fill):
# with the loader's own batches (~1.5 GB at the batch sizes in connectors/load.py) it keeps a load under the 4 GB
# the benchmark targets; what does not fit is spilled to a temporary folder next to the warehouse file.
DUCKDB_MEMORY_LIMIT = "2GB"
_INTAKE_COLUMNS = ", ".join(f'"{n}"' for n in INTAKE_SCHEMA.names)
_RAW_EVENT_COLUMNS = ", ".join(f'"{n}"' for n in RAW_EVENT_SCHEMA.names)
_LOAD_LOG_COLUMNS = ", ".join(f'"{n}"' for n in LOAD_LOG_SCHEMA.names)


class LoadAccountingError(RuntimeError):
    """rows_in != rows_loaded + rows_quarantined for a delivery: something was lost; the delivery is rolled back."""


def raw_table(channel: str) -> str:
    return f'raw."{channel}__intake"'


def raw_event_table(channel: str) -> str:
    return f'raw."{channel}__intake_event"'


def _ddl(table: str, schema: pa.Schema) -> str:
    cols = ", ".join(
        f'"{f.name}" {_DUCKDB_TYPES[f.type]}{"" if f.nullable else " NOT NULL"}' for f in schema
    )
    return f"CREATE TABLE IF NOT EXISTS {table} ({cols})"


def arrow_table(rows: list[dict], schema: pa.Schema) -> pa.Table:
    """Column by column: far faster than row-wise conversion for wide rows."""
    return pa.Table.from_arrays(
        [pa.array([r[name] for r in rows], type=schema.field(name).type) for name in schema.names],
        schema=schema,
    )


def _delivery_rows(parsed: ParsedDelivery) -> pa.Table:
    tables = [t for t in (parsed.row_table,) if t is not None and t.num_rows]
    if parsed.rows:
        tables.append(arrow_table(parsed.rows, INTAKE_SCHEMA))
    return tables[0] if len(tables) == 1 else pa.concat_tables(tables)


def _delivery_events(parsed: ParsedDelivery) -> pa.Table:
    tables = [t for t in (parsed.event_table,) if t is not None and t.num_rows]
    if parsed.events or not tables:
        tables.append(arrow_table(parsed.events, _BATCH_EVENT_SCHEMA))
    return tables[0] if len(tables) == 1 else pa.concat_tables(tables)


def _staged_rows(with_rows: list[tuple[int, ParsedDelivery]]) -> pa.Table:
    """The batch's intake rows, with ``_seq`` (the delivery's place in the batch: the later wins a tie)."""
    tables = []
    for seq, parsed in with_rows:
        table = _delivery_rows(parsed)
        tables.append(table.append_column("_seq", pa.array(np.full(table.num_rows, seq, dtype=np.int32))))
    # One contiguous chunk: DuckDB scans a registered table of hundreds of page-sized slices far more slowly.
    # ``_row``: the row number, by which the merge takes the winners from this table.
    table = pa.concat_tables(tables).combine_chunks()
    return table.append_column("_row", pa.array(np.arange(table.num_rows, dtype=np.int64)))


def _staged_events(with_rows: list[tuple[int, ParsedDelivery]]) -> pa.Table:
    """The batch's events as raw events (load id, delivery, position) plus ``_seq`` and their delivered order."""
    tables = []
    for seq, parsed in with_rows:
        table = _delivery_events(parsed)
        n = table.num_rows
        tables.append(table.append_column("load_id", pa.repeat(pa.scalar(parsed.load_id, pa.string()), n))
                      .append_column("delivery", pa.repeat(pa.scalar(parsed.delivery, pa.string()), n))
                      .append_column("_seq", pa.array(np.full(n, seq, dtype=np.int32))))
    table = pa.concat_tables(tables).combine_chunks()
    return table.append_column("_order", pa.array(np.arange(table.num_rows, dtype=np.int64)))


@dataclass(frozen=True)
class DeliveryResult:
    channel: str
    delivery: str
    load_id: str
    rows_in: int
    rows_loaded: int
    rows_quarantined: int
    became_current: int  # rows that are now the current version of their intake
    failure: str | None


class Warehouse:
    """``with Warehouse(path) as wh: wh.write_delivery(parsed, checksum)``."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.con: duckdb.DuckDBPyConnection | None = None
        self._channels_ready: set[str] = set()

    def __enter__(self) -> Warehouse:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.con = duckdb.connect(str(self.path))
        # (SET, not a connect() config: another connection of this process to the same file would refuse a
        # different config)
        self.con.execute(f"SET memory_limit = '{DUCKDB_MEMORY_LIMIT}'")
        self.con.execute("CREATE SCHEMA IF NOT EXISTS raw; CREATE SCHEMA IF NOT EXISTS core;")
        self.con.execute(_ddl("core.intake", INTAKE_SCHEMA))
        self.con.execute(_ddl("core.intake_event", EVENT_SCHEMA))
        self.con.execute(_ddl("core.quarantine", QUARANTINE_SCHEMA))
        self.con.execute(_ddl("core.load_log", LOAD_LOG_SCHEMA))
        return self

    def __exit__(self, *exc) -> None:
        if self.con is not None:
            self.con.close()
            self.con = None

    def _ensure_channel(self, channel: str) -> None:
        if channel not in self._channels_ready:
            self.con.execute(_ddl(raw_table(channel), INTAKE_SCHEMA))
            self.con.execute(_ddl(raw_event_table(channel), RAW_EVENT_SCHEMA))
            self._channels_ready.add(channel)

    # ---- what has been loaded -----------------------------------------------------------------------------

    def loaded_checksums(self, channel: str) -> set[str]:
        rows = self.con.execute("SELECT checksum FROM core.load_log WHERE channel = ?", [channel]).fetchall()
        return {r[0] for r in rows}

    def loaded_deliveries(self, channel: str) -> set[str]:
        rows = self.con.execute("SELECT delivery FROM core.load_log WHERE channel = ?", [channel]).fetchall()
        return {r[0] for r in rows}

    # ---- writing deliveries ------------------------------------------------------------------------------

    def write_delivery(self, parsed: ParsedDelivery, checksum: str | None, *,
                       excluded_deliveries: frozenset[str] = frozenset(),
                       to_current: bool = True) -> DeliveryResult:
        """Write one parsed delivery in one transaction.

        ``excluded_deliveries``: deliveries of this channel whose rows must never be current (replaced files).
        ``to_current=False``: raw only (the delivery was itself replaced before it arrived).
        """
        return self._write_batch([(parsed, checksum)], excluded_deliveries, to_current)[0]

    def write_deliveries(self, batch: list[tuple[ParsedDelivery, str | None]]) -> list[DeliveryResult]:
        """Write several deliveries of one channel, in load order, in one transaction: the result is the same
        as writing them one after the other (a later delivery wins a version_at tie), but the fixed cost of the
        statements and of the current-layer merge (a join against the whole current layer) is paid once.
        Deliveries that replace others (110 ``_vN``) must go through ``write_delivery``."""
        if any(parsed.superseded_deliveries for parsed, _ in batch):
            raise ValueError("a delivery that replaces others must be written on its own (write_delivery)")
        return self._write_batch(batch, frozenset(), True)

    def _write_batch(self, batch: list[tuple[ParsedDelivery, str | None]], excluded_deliveries: frozenset[str],
                     to_current: bool) -> list[DeliveryResult]:
        if not batch:
            return []
        con = self.con
        channel = batch[0][0].channel
        if any(parsed.channel != channel for parsed, _ in batch):
            raise ValueError("a batch holds deliveries of one channel")
        self._ensure_channel(channel)
        counts = []
        for parsed, _ in batch:  # checked for every delivery before anything is written
            rows_quarantined = sum(1 for q in parsed.quarantine if q.position != WHOLE_DELIVERY)
            rows_in, rows_loaded = parsed.rows_in, parsed.rows_loaded
            if rows_in != rows_loaded + rows_quarantined:
                raise LoadAccountingError(
                    f"{channel} {parsed.delivery}: rows_in {rows_in} != loaded {rows_loaded} + quarantined {rows_quarantined}"
                )
            counts.append((rows_in, rows_loaded, rows_quarantined))
        now = datetime.now()
        with_rows = [(seq, parsed) for seq, (parsed, _) in enumerate(batch) if parsed.rows_loaded]
        became_current: dict[int, int] = {}
        con.execute("BEGIN TRANSACTION")
        try:
            if with_rows:
                staged = _staged_rows(with_rows)
                con.register("_batch_rows", staged)
                con.register("_batch_events", _staged_events(with_rows))
                con.execute(f"INSERT INTO {raw_table(channel)} SELECT {_INTAKE_COLUMNS} FROM _batch_rows")
                con.execute(f"INSERT INTO {raw_event_table(channel)} SELECT {_RAW_EVENT_COLUMNS} FROM _batch_events")
            superseded = batch[0][0].superseded_deliveries
            if to_current and superseded:
                self._drop_superseded(channel, superseded, excluded_deliveries)
            if to_current and with_rows:
                became_current = self._merge_current(staged)
            if with_rows:
                con.unregister("_batch_rows")
                con.unregister("_batch_events")
            quarantined = [(parsed, r) for parsed, _ in batch for r in parsed.quarantine]
            if quarantined:
                q = pa.Table.from_arrays([
                    pa.array([channel] * len(quarantined), pa.string()),
                    pa.array([p.load_id for p, _ in quarantined], pa.string()),
                    pa.array([p.delivery for p, _ in quarantined], pa.string()),
                    pa.array([r.position for _, r in quarantined], pa.int64()),
                    pa.array([r.reason for _, r in quarantined], pa.string()),
                    pa.array([r.content_masked for _, r in quarantined], pa.string()),
                    pa.array([now] * len(quarantined), pa.timestamp("us")),
                ], schema=QUARANTINE_SCHEMA)
                con.register("_batch_quarantine", q)
                con.execute("INSERT INTO core.quarantine SELECT * FROM _batch_quarantine")
                con.unregister("_batch_quarantine")
            log = pa.table({
                "load_id": [p.load_id for p, _ in batch], "channel": [channel] * len(batch),
                "delivery": [p.delivery for p, _ in batch], "checksum": pa.array([c for _, c in batch], pa.string()),
                "rows_in": [c[0] for c in counts], "rows_loaded": [c[1] for c in counts],
                "rows_quarantined": [c[2] for c in counts], "loaded_at": pa.array([now] * len(batch), pa.timestamp("us")),
            })
            con.register("_batch_log", log)
            con.execute(f"INSERT INTO core.load_log SELECT {_LOAD_LOG_COLUMNS} FROM _batch_log")
            con.unregister("_batch_log")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return [DeliveryResult(channel, parsed.delivery, parsed.load_id, *counts[seq], became_current.get(seq, 0),
                               parsed.failure) for seq, (parsed, _) in enumerate(batch)]

    def _merge_current(self, staged: pa.Table) -> dict[int, int]:
        """Merge the staged rows (``staged``, registered as ``_batch_rows``; ``_batch_events``) into core.intake
        and core.intake_event, in a handful of set statements whatever the batch size. Returns, per delivery of
        the batch, how many of its rows are now current."""
        con = self.con
        # Per intake the greatest version_at, then the later delivery of the batch, then the later position;
        # then an older version never overwrites a newer one (an equal version_at from this later load wins).
        # Only the key columns go through the window and the sort (the wide rows are taken from the staged
        # Arrow table by row number); the winners are registered, not stored in a temp table (a catalog
        # change costs more than the query).
        chosen = con.sql(
            """
            SELECT _row FROM (SELECT channel, source_id, version_at, _seq, position, _row FROM _batch_rows) b
            WHERE NOT EXISTS (SELECT 1 FROM core.intake c
                              WHERE c.channel = b.channel AND c.source_id = b.source_id
                                AND c.version_at > b.version_at)
            QUALIFY row_number() OVER (PARTITION BY source_id ORDER BY version_at DESC, _seq DESC,
                                       position DESC) = 1
            ORDER BY _seq, position
            """
        ).to_arrow_table()
        winners = staged.take(chosen.column("_row"))
        if winners.num_rows == 0:
            return {}
        con.register("_winners", winners)
        con.execute("DELETE FROM core.intake_event e USING _winners w "
                    "WHERE e.channel = w.channel AND e.source_id = w.source_id")
        con.execute("DELETE FROM core.intake c USING _winners w "
                    "WHERE c.channel = w.channel AND c.source_id = w.source_id")
        con.execute(f"INSERT INTO core.intake SELECT {_INTAKE_COLUMNS} FROM _winners")
        con.execute(
            f"""
            INSERT INTO core.intake_event
            SELECT {", ".join(f"e.{n}" for n in EVENT_SCHEMA.names)}
            FROM _batch_events e JOIN _winners w ON e._seq = w._seq AND e.position = w.position
            ORDER BY e._seq, e._order
            """
        )
        con.unregister("_winners")
        counts = pc.value_counts(winners.column("_seq"))
        per_delivery = {item["values"].as_py(): item["counts"].as_py() for item in counts}
        return per_delivery

    def _drop_superseded(self, channel: str, superseded: tuple[str, ...], excluded: frozenset[str]) -> None:
        """Remove current rows that came from replaced deliveries, then put back, for those intakes, the best
        version from any delivery that is not replaced (an intake may also be in another day's file)."""
        con = self.con
        gone = pa.table({"delivery": pa.array(sorted(set(superseded) | set(excluded)), pa.string())})
        con.register("_replaced", gone)
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE _gone AS
            SELECT channel, source_id FROM core.intake
            WHERE channel = ? AND delivery IN (SELECT delivery FROM _replaced)
            """,
            [channel],
        )
        con.execute("DELETE FROM core.intake_event e USING _gone g "
                    "WHERE e.channel = g.channel AND e.source_id = g.source_id")
        con.execute("DELETE FROM core.intake c USING _gone g WHERE c.channel = g.channel AND c.source_id = g.source_id")
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE _restored AS
            SELECT r.* FROM {raw_table(channel)} r JOIN _gone g ON r.source_id = g.source_id
            WHERE r.delivery NOT IN (SELECT delivery FROM _replaced)
            QUALIFY row_number() OVER (PARTITION BY r.source_id ORDER BY r.version_at DESC, r.load_id DESC,
                                       r.position DESC) = 1
            """
        )
        con.execute("INSERT INTO core.intake SELECT * FROM _restored")
        con.execute(
            f"""
            INSERT INTO core.intake_event
            SELECT {", ".join(f"e.{n}" for n in EVENT_SCHEMA.names)}
            FROM {raw_event_table(channel)} e JOIN _restored r
              ON e.load_id = r.load_id AND e.position = r.position AND e.source_id = r.source_id
            ORDER BY e.source_id, e.seq
            """
        )
        con.execute("DROP TABLE _gone; DROP TABLE _restored")
        con.unregister("_replaced")
