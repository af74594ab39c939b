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
import pyarrow as pa

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
_EVENT_COLUMNS = ", ".join(f'"{n}"' for n in EVENT_SCHEMA.names)


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

    # ---- writing one delivery -----------------------------------------------------------------------------

    def write_delivery(self, parsed: ParsedDelivery, checksum: str | None, *,
                       excluded_deliveries: frozenset[str] = frozenset(),
                       to_current: bool = True) -> DeliveryResult:
        """Write one parsed delivery in one transaction.

        ``excluded_deliveries``: deliveries of this channel whose rows must never be current (replaced files).
        ``to_current=False``: raw only (the delivery was itself replaced before it arrived).
        """
        con = self.con
        channel = parsed.channel
        self._ensure_channel(channel)
        rows_quarantined = sum(1 for q in parsed.quarantine if q.position != WHOLE_DELIVERY)
        rows_in, rows_loaded = parsed.rows_in, len(parsed.rows)
        if rows_in != rows_loaded + rows_quarantined:
            raise LoadAccountingError(
                f"{channel} {parsed.delivery}: rows_in {rows_in} != loaded {rows_loaded} + quarantined {rows_quarantined}"
            )
        now = datetime.now()
        con.execute("BEGIN TRANSACTION")
        try:
            became_current = 0
            if parsed.rows:
                rows_tbl = arrow_table(parsed.rows, INTAKE_SCHEMA)
                events_tbl = arrow_table(parsed.events, _BATCH_EVENT_SCHEMA)
                con.register("_batch_rows", rows_tbl)
                con.register("_batch_events", events_tbl)
                con.execute(f"INSERT INTO {raw_table(channel)} SELECT * FROM _batch_rows")
                con.execute(
                    f"INSERT INTO {raw_event_table(channel)} SELECT {_EVENT_COLUMNS}, ?, ?, position FROM _batch_events",
                    [parsed.load_id, parsed.delivery],
                )
            if to_current and parsed.superseded_deliveries:
                self._drop_superseded(channel, parsed.superseded_deliveries, excluded_deliveries)
            if to_current and parsed.rows:
                became_current = self._merge_current(parsed)
            if parsed.rows:
                con.unregister("_batch_rows")
                con.unregister("_batch_events")
            if parsed.quarantine:
                q = pa.Table.from_pylist(
                    [{"channel": channel, "load_id": parsed.load_id, "delivery": parsed.delivery,
                      "position": r.position, "reason": r.reason, "content_masked": r.content_masked,
                      "quarantined_at": now} for r in parsed.quarantine],
                    schema=QUARANTINE_SCHEMA,
                )
                con.register("_batch_quarantine", q)
                con.execute("INSERT INTO core.quarantine SELECT * FROM _batch_quarantine")
                con.unregister("_batch_quarantine")
            con.execute(
                "INSERT INTO core.load_log VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [parsed.load_id, channel, parsed.delivery, checksum, rows_in, rows_loaded, rows_quarantined, now],
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return DeliveryResult(channel, parsed.delivery, parsed.load_id, rows_in, rows_loaded, rows_quarantined,
                              became_current, parsed.failure)

    def _merge_current(self, parsed: ParsedDelivery) -> int:
        """Merge the delivery's rows into core.intake (and their events into core.intake_event); returns the
        number of rows that became current. Few statements per delivery: their fixed cost dominates small ones."""
        con = self.con
        # Within the delivery: the greatest version_at, then the later position (rows are in position order).
        best: dict[str, dict] = {}
        for row in parsed.rows:
            held = best.get(row["source_id"])
            if held is None or row["version_at"] >= held["version_at"]:
                best[row["source_id"]] = row
        winners = list(best.values())
        con.register("_winners", arrow_table(winners, INTAKE_SCHEMA))
        # An older version never overwrites a newer one; an equal version_at from this (later) load wins.
        newer = con.execute(
            "SELECT w.source_id FROM _winners w JOIN core.intake c "
            "ON c.channel = w.channel AND c.source_id = w.source_id WHERE c.version_at > w.version_at"
        ).fetchall()
        if newer:
            stale = {r[0] for r in newer}
            winners = [w for w in winners if w["source_id"] not in stale]
            con.unregister("_winners")
            con.register("_winners", arrow_table(winners, INTAKE_SCHEMA))
        if winners:
            keep = {(w["source_id"], w["position"]) for w in winners}
            events = [e for e in parsed.events if (e["source_id"], e["position"]) in keep]
            con.register("_winner_events", arrow_table(events, EVENT_SCHEMA))
            con.execute("DELETE FROM core.intake_event e USING _winners w "
                        "WHERE e.channel = w.channel AND e.source_id = w.source_id")
            con.execute("DELETE FROM core.intake c USING _winners w "
                        "WHERE c.channel = w.channel AND c.source_id = w.source_id")
            con.execute("INSERT INTO core.intake SELECT * FROM _winners")
            con.execute("INSERT INTO core.intake_event SELECT * FROM _winner_events")
            con.unregister("_winner_events")
        con.unregister("_winners")
        return len(winners)

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
