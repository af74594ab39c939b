"""Warehouse side of matching: the output tables, reviewers' decisions, and the SQL that derives leads and links.

The lead and link type of the intakes of every case a run touches are derived in SQL from the current intake rows,
because a later version of an intake (e.g. it got dispatched) can change which intake leads its case. Case ids never
change.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from dedupe.records import LEAD_ORDER_SQL, ORDER_COLUMNS, TO_UNIT_SQL
from dedupe.schema import CASE_LINK_SCHEMA, CASE_MERGE_SCHEMA, CASE_SCHEMA, REVIEW_SCHEMA

DECISIONS_FILE = "decisions.csv"
DECISION_COLUMNS = ("channel_a", "source_id_a", "channel_b", "source_id_b", "decision")
DECISIONS = ("must_link", "cannot_link")

OUTPUT_TABLES = {
    "case_link": CASE_LINK_SCHEMA,
    "case": CASE_SCHEMA,
    "case_merge": CASE_MERGE_SCHEMA,
    "match_review": REVIEW_SCHEMA,
}

_DUCKDB_TYPES = {
    pa.string(): "VARCHAR",
    pa.bool_(): "BOOLEAN",
    pa.float64(): "DOUBLE",
    pa.timestamp("us"): "TIMESTAMP",
}


def create_output_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS core")
    for name, schema in OUTPUT_TABLES.items():
        columns = ", ".join(
            f'"{f.name}" {_DUCKDB_TYPES[f.type]}{"" if f.nullable else " NOT NULL"}' for f in schema
        )
        con.execute(f'CREATE TABLE IF NOT EXISTS core."{name}" ({columns})')


@dataclass(frozen=True)
class Decision:
    a: tuple[str, str]
    b: tuple[str, str]
    decision: str


@dataclass
class Decisions:
    valid: list[Decision]
    rejected: list[tuple[int, str]]  # (line number, reason): reported, never silently dropped


def read_decisions(review_dir: Path) -> Decisions:
    """Reviewers' must_link / cannot_link decisions; later lines override earlier ones for the same pair."""
    path = Path(review_dir) / DECISIONS_FILE
    if not path.exists():
        return Decisions([], [])
    latest: dict[frozenset, Decision] = {}
    rejected: list[tuple[int, str]] = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in DECISION_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: missing columns {missing}; expected {list(DECISION_COLUMNS)}")
        for line, row in enumerate(reader, start=2):
            values = {c: (row.get(c) or "").strip() for c in DECISION_COLUMNS}
            if values["decision"] not in DECISIONS:
                rejected.append((line, f"decision {values['decision']!r} is not one of {DECISIONS}"))
                continue
            if not all(values[c] for c in DECISION_COLUMNS[:4]):
                rejected.append((line, "an intake key is empty"))
                continue
            a = (values["channel_a"], values["source_id_a"])
            b = (values["channel_b"], values["source_id_b"])
            if a == b:
                rejected.append((line, "both sides are the same intake"))
                continue
            latest[frozenset((a, b))] = Decision(a, b, values["decision"])
    return Decisions(list(latest.values()), rejected)


# Lead and link type of every member of the given cases, from the current intake rows. The lead rule is
# records.TO_UNIT_SQL + records.LEAD_ORDER_SQL (written once; cluster uses the same in Python). {kept}: the stored
# case_link rows of those cases, read with their intake; {new_links}: the run's new rows, which carry those facts
# already (NEW_LINK_FACTS; a 1 M-row join on two strings cost seconds).
_DERIVE_SQL = """
CREATE OR REPLACE TEMP TABLE derived_link AS
WITH members AS (
  SELECT l.channel, l.source_id, l.case_id, l.match_score, l.matched_to_channel, l.matched_to_source_id,
         i.received_at, {to_unit} AS to_unit, i.caller_key
  FROM ({kept}) l JOIN core.intake i USING (channel, source_id)
  UNION ALL
  SELECT channel, source_id, case_id, match_score, matched_to_channel, matched_to_source_id,
         received_at, to_unit, caller_key
  FROM {new_links}
),
ranked AS (
  SELECT *,
    row_number() OVER (PARTITION BY case_id ORDER BY {lead_order}) = 1 AS is_lead,
    caller_key IS NOT NULL AND count(*) OVER (
      PARTITION BY case_id, caller_key ORDER BY {order}
      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) > 0 AS caller_seen_before
  FROM members
)
SELECT r.channel, r.source_id, r.case_id,
  CASE WHEN r.is_lead AND c.repeat_of_case_id IS NOT NULL THEN 'repeat'
       WHEN r.is_lead THEN 'lead'
       WHEN r.caller_seen_before THEN 'same_caller'
       ELSE 'duplicate' END AS link_type,
  r.is_lead,
  CASE WHEN r.is_lead THEN NULL ELSE r.match_score END AS match_score,
  CASE WHEN r.is_lead THEN NULL ELSE r.matched_to_channel END AS matched_to_channel,
  CASE WHEN r.is_lead THEN NULL ELSE r.matched_to_source_id END AS matched_to_source_id,
  r.received_at
FROM ranked r LEFT JOIN core."case" c USING (case_id)
"""

_LINK_COLUMNS = ", ".join(CASE_LINK_SCHEMA.names)
# What derive_links needs of a new row's intake besides its link: received_at, records.TO_UNIT_SQL's value, caller_key.
NEW_LINK_FACTS = pa.schema([
    pa.field("received_at", pa.timestamp("us"), nullable=False),
    pa.field("to_unit", pa.bool_(), nullable=False),
    pa.field("caller_key", pa.string()),
])
NEW_LINK_SCHEMA = pa.schema(list(CASE_LINK_SCHEMA) + list(NEW_LINK_FACTS))


def derive_links(con: duckdb.DuckDBPyConnection, new_links: str, since, touched: list[str]) -> None:
    """Write core.case_link for the cases this run touched, and their lead and first time in core.case.

    new_links: a table/view of this run's case_link rows with the facts of their intakes (NEW_LINK_SCHEMA;
    link_type and is_lead are derived here; to_unit is records.TO_UNIT_SQL evaluated on the same intake row). Touched: the cases of those rows, the cases they leave (an intake a cannot-link detached), the cases
    named in `touched` (merge survivors), and the cases of every intake whose current version is from `since` on (a
    later version may dispatch an intake, which can change its case's lead; a version is delivered after its own
    time, so an older one was seen by an earlier run). Other cases keep their rows: nothing they depend on changed.
    """
    # an Arrow table, not executemany: DuckDB inserts parameter rows one at a time (~0.3 ms each)
    con.register("extra_touched", pa.table({"case_id": pa.array(list(touched), type=pa.string())}))
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE touched_case AS
            SELECT case_id FROM {new_links}
            UNION SELECT l.case_id FROM core.case_link l JOIN {new_links} n USING (channel, source_id)
            UNION SELECT l.case_id FROM core.case_link l JOIN core.intake i USING (channel, source_id)
                  WHERE i.version_at >= ?
            UNION SELECT case_id FROM extra_touched""",
        [since],
    )
    kept = (f"SELECT {_LINK_COLUMNS} FROM core.case_link l WHERE l.case_id IN (SELECT case_id FROM touched_case) "
            f"AND NOT EXISTS (SELECT 1 FROM {new_links} n WHERE n.channel = l.channel AND n.source_id = l.source_id)")
    con.execute(_DERIVE_SQL.format(
        kept=kept, new_links=new_links, to_unit=TO_UNIT_SQL, lead_order=LEAD_ORDER_SQL, order=", ".join(ORDER_COLUMNS),
    ))
    con.execute(
        f"""DELETE FROM core.case_link l WHERE l.case_id IN (SELECT case_id FROM touched_case)
              OR EXISTS (SELECT 1 FROM {new_links} n WHERE n.channel = l.channel AND n.source_id = l.source_id)"""
    )
    con.execute(f"INSERT INTO core.case_link SELECT {_LINK_COLUMNS} FROM derived_link")
    con.execute(
        """UPDATE core."case" AS c SET lead_channel = d.channel, lead_source_id = d.source_id
           FROM derived_link d WHERE d.case_id = c.case_id AND d.is_lead
            AND (c.lead_channel <> d.channel OR c.lead_source_id <> d.source_id)"""
    )
    con.execute(
        """UPDATE core."case" AS c SET created_at = f.first_at
           FROM (SELECT case_id, min(received_at) AS first_at FROM derived_link GROUP BY case_id) f
           WHERE f.case_id = c.case_id AND f.first_at < c.created_at"""
    )
    con.unregister("extra_touched")
