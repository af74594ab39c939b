"""Warehouse side of matching: the output tables, reviewers' decisions, and the SQL that derives leads and links.

The lead and link type of every intake are derived in SQL from the current intake rows each run, because a later
version of an intake (e.g. it got dispatched) can change which intake leads its case. Case ids never change.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from dedupe.records import HANDED_TO_PLATFORM
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


# Lead: the earliest intake dispatched to a unit, else the earliest (domain.md; records.dispatched_to_unit is the
# same rule). Link type follows from it.
DERIVE_LINKS_SQL = """
CREATE OR REPLACE TEMP TABLE derived_link AS
WITH members AS (
  SELECT l.channel, l.source_id, l.case_id, l.match_score, l.matched_to_channel, l.matched_to_source_id,
         i.received_at, (i.dispatched_at IS NOT NULL OR i.unit IS NOT NULL)
           AND coalesce(i.handed_to, '') <> '{platform}' AS to_unit, i.caller_key
  FROM core.case_link l JOIN core.intake i USING (channel, source_id)
),
ranked AS (
  SELECT *,
    row_number() OVER (PARTITION BY case_id ORDER BY NOT to_unit, received_at, channel, source_id) = 1
      AS is_lead,
    caller_key IS NOT NULL AND count(*) OVER (
      PARTITION BY case_id, caller_key ORDER BY received_at, channel, source_id
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
FROM ranked r LEFT JOIN core."case" c USING (case_id);

DELETE FROM core.case_link;
INSERT INTO core.case_link
  SELECT channel, source_id, case_id, link_type, is_lead, match_score, matched_to_channel, matched_to_source_id
  FROM derived_link;

UPDATE core."case" AS c SET lead_channel = d.channel, lead_source_id = d.source_id
  FROM derived_link d WHERE d.case_id = c.case_id AND d.is_lead
   AND (c.lead_channel <> d.channel OR c.lead_source_id <> d.source_id);

UPDATE core."case" AS c SET created_at = f.first_at
  FROM (SELECT case_id, min(received_at) AS first_at FROM derived_link GROUP BY case_id) f
  WHERE f.case_id = c.case_id AND f.first_at < c.created_at;
""".replace("{platform}", HANDED_TO_PLATFORM)
