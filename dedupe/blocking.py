"""Blocking: which pairs of intakes are worth scoring. A union of cheap rules, each aiming at high recall.

Rules (a pair needs one; at least one side must be an intake matched in this run):

* ``caller``   same caller key, within the longer of the two time windows
* ``spatial``  neighbouring grid cells (~100-400 m), within a day, or within the window when the topics agree
               (the blocking topic: the l1 of the label, else the keyword topic; or the keyword topics alone)
* ``place``    same place key (crossing, estate, road + number), within a day, or the window when topics agree
* ``estate``   same estate (from the address, or named in the text), as for place
* ``road``     a shared road and the same topic, within a few days
* ``area``     same street and topic, within a day
* ``text``     for intakes without any usable place: same topic, same area or no area, within hours

The joins run in DuckDB (in memory), which keeps 1 M intakes within seconds.
"""
from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

from dedupe.records import Records, encode
from dedupe.topics import DAY, HOUR, MAX_WINDOW_S

SHORT_WINDOW_S = DAY  # any two reports of one place a day apart are candidates, whatever their topics
ROAD_WINDOW_S = 3 * DAY  # a road is long: same road and topic only within a few days
TEXT_WINDOW_S = 6 * HOUR  # no place at all: same topic and area only within hours
RULES = ("caller", "spatial", "place", "text")


def _road_table(records: Records, is_new: np.ndarray) -> pa.Table:
    """One row per (intake, road it names), carrying what the road rule compares (keys as integer codes)."""
    index = np.asarray([k for k, roads in enumerate(records.roads) for _ in roads], dtype=np.int64)
    return pa.table(
        {
            "i": index,
            "road": encode([r for roads in records.roads for r in roads]),
            "t": records.t[index] if len(index) else np.zeros(0),
            "br": np.floor((records.t[index] if len(index) else np.zeros(0)) / ROAD_WINDOW_S).astype(np.int64),
            "topic": encode(records.block_topic)[index],
            "is_new": np.asarray(is_new, dtype=bool)[index] if len(index) else np.zeros(0, bool),
        }
    )


def _key_table(records: Records, is_new: np.ndarray) -> pa.Table:
    no_place = ~records.has_point & np.array([not k for k in records.place_key], dtype=bool)
    return pa.table(
        {
            "i": np.arange(len(records), dtype=np.int64),
            "t": records.t,
            "w": records.window_s,
            # string keys as integer codes (-1 = none): DuckDB joins on integers several times faster
            "caller": encode(records.caller),
            "cx": records.cell_x,
            "cy": records.cell_y,
            "has_point": records.has_point,
            "place": encode(records.place_key),
            "estate": encode(records.estate),
            "topic": encode(records.block_topic),
            "kw": encode(records.topic),
            "area": encode(records.area),
            "no_place": no_place,
            "is_new": np.asarray(is_new, dtype=bool),
            # time buckets: each rule joins its key plus neighbouring buckets of its window, so a key shared
            # over months (a crossing, a street) never builds all its pairs before the time filter
            "bl": np.floor(records.t / MAX_WINDOW_S).astype(np.int64),
            "bd": np.floor(records.t / SHORT_WINDOW_S).astype(np.int64),
            "bt": np.floor(records.t / TEXT_WINDOW_S).astype(np.int64),
        }
    )


# r expanded to its own and both neighbouring time buckets of one kind
_NEAR = "(SELECT r.*, r.{bucket} + d AS nb FROM {table} r, (SELECT unnest([-1, 0, 1]) AS d))"
# the same for a rule whose pair (a, b) has a earlier (a.i < b.i): rows are in time order, so b's bucket is a's or
# the next one (each window fits in its bucket); the bucket before never yields a pair
_NEAR_LATER = "(SELECT r.*, r.{bucket} + d AS nb FROM {table} r, (SELECT unnest([0, 1]) AS d))"

_PAIR_SQL = """
WITH
by_caller AS (
  SELECT a.i AS i, b.i AS j FROM {near_long} a JOIN rec b
    ON a.caller = b.caller AND a.nb = b.bl AND a.i < b.i AND (a.is_new OR b.is_new)
   AND abs(a.t - b.t) <= greatest(a.w, b.w) {later_b}
  WHERE a.caller >= 0
),
cells AS (
  SELECT r.*, r.cx + dx AS ncx, r.cy + dy AS ncy, r.bl + dt AS nb, r.bd + dt AS nbd
  FROM {slab_rec} r, (SELECT unnest([-1, 0, 1]) AS dx), (SELECT unnest([-1, 0, 1]) AS dy),
       (SELECT unnest([0, 1]) AS dt)
  WHERE r.has_point
),
-- the spatial rule in two joins that each carry their own key (same topic over the window, any topic within a
-- day): one join with the condition inside built every neighbouring pair of a month first
by_cell AS (
  SELECT a.i AS i, b.i AS j FROM cells a JOIN rec b
    ON b.has_point AND a.ncx = b.cx AND a.ncy = b.cy AND a.topic = b.topic AND a.nb = b.bl AND a.i < b.i
   AND (a.is_new OR b.is_new) AND abs(a.t - b.t) <= greatest(a.w, b.w) {later_b}
),
-- the labels' classes often disagree across channels (a 110 category, a petition's class): the keyword topics
-- agreeing over the window is a pair as well
by_cell_kw AS (
  SELECT a.i AS i, b.i AS j FROM cells a JOIN rec b
    ON b.has_point AND a.ncx = b.cx AND a.ncy = b.cy AND a.kw = b.kw AND a.nb = b.bl AND a.i < b.i
   AND (a.is_new OR b.is_new) AND abs(a.t - b.t) <= greatest(a.w, b.w) {later_b}
  WHERE a.kw >= 0 AND a.topic <> b.topic
),
by_cell_day AS (
  SELECT a.i AS i, b.i AS j FROM cells a JOIN rec b
    ON b.has_point AND a.ncx = b.cx AND a.ncy = b.cy AND a.nbd = b.bd AND a.i < b.i AND (a.is_new OR b.is_new)
   AND abs(a.t - b.t) <= {short} {later_b}
),
by_place AS (
  SELECT a.i AS i, b.i AS j FROM {near_long} a JOIN rec b
    ON a.place = b.place AND a.nb = b.bl AND a.i < b.i AND (a.is_new OR b.is_new)
   AND abs(a.t - b.t) <= CASE WHEN a.topic = b.topic THEN greatest(a.w, b.w) ELSE {short} END {later_b}
  WHERE a.place >= 0
),
by_estate AS (
  SELECT a.i AS i, b.i AS j FROM {near_long} a JOIN rec b
    ON a.estate = b.estate AND a.nb = b.bl AND a.i < b.i AND (a.is_new OR b.is_new)
   AND abs(a.t - b.t) <= CASE WHEN a.topic = b.topic THEN greatest(a.w, b.w) ELSE {short} END {later_b}
  WHERE a.estate >= 0
),
by_road AS (
  SELECT a.i AS i, b.i AS j FROM {near_road} a JOIN road b
    ON a.road = b.road AND a.topic = b.topic AND a.nb = b.br AND a.i < b.i AND (a.is_new OR b.is_new)
   AND abs(a.t - b.t) <= {road_window} {later_b}
),
by_area AS (
  SELECT a.i AS i, b.i AS j FROM {near_day} a JOIN rec b
    ON a.topic = b.topic AND a.area = b.area AND a.nb = b.bd AND a.i < b.i AND (a.is_new OR b.is_new)
   AND abs(a.t - b.t) <= {short} {later_b}
  WHERE a.area >= 0 AND a.topic >= 0
),
by_text AS (
  SELECT a.i AS i, b.i AS j FROM {near_text} a JOIN rec b
    ON a.topic = b.topic AND a.nb = b.bt AND a.i <> b.i AND (a.is_new OR b.is_new)
   AND abs(a.t - b.t) <= {text_window}
   AND (a.area = b.area OR a.area < 0 OR b.area < 0) {later_either}
  WHERE a.no_place AND a.topic >= 0 AND (a.i < b.i OR NOT b.no_place)
)
SELECT DISTINCT CAST(least(i, j) AS INTEGER) AS i, CAST(greatest(i, j) AS INTEGER) AS j FROM (
  SELECT * FROM by_caller UNION ALL SELECT * FROM by_cell UNION ALL SELECT * FROM by_cell_kw UNION ALL SELECT * FROM by_cell_day UNION ALL SELECT * FROM by_place
  UNION ALL SELECT * FROM by_text UNION ALL SELECT * FROM by_road UNION ALL SELECT * FROM by_area
  UNION ALL SELECT * FROM by_estate
)
"""


def _pair_sql(lo: int, hi: int, earliest: float = float("-inf")) -> str:
    """Pairs whose later intake (by index) is in [lo, hi). earliest: the time of intake lo minus the longest
    window; the other side of such a pair is before hi and not before earliest (rows are in time order), so each
    slab's joins expand only those rows, not the whole batch."""
    window = f"(SELECT * FROM {{table}} WHERE i < {int(hi)} AND t >= {earliest!r})" if earliest > float("-inf") \
        else "{table}"
    rec, road = window.format(table="rec"), window.format(table="road")
    return _PAIR_SQL.format(
        short=SHORT_WINDOW_S,
        road_window=ROAD_WINDOW_S,
        text_window=TEXT_WINDOW_S,
        near_long=_NEAR_LATER.format(bucket="bl", table=rec),
        near_day=_NEAR_LATER.format(bucket="bd", table=rec),
        near_text=_NEAR.format(bucket="bt", table=rec),  # a and b in either order
        near_road=_NEAR_LATER.format(bucket="br", table=road),
        slab_rec=rec,
        later_b=f"AND b.i >= {int(lo)} AND b.i < {int(hi)}",
        later_either=f"AND greatest(a.i, b.i) >= {int(lo)} AND greatest(a.i, b.i) < {int(hi)}",
    )


# Pairs are built for this many later intakes at a time: DuckDB's DISTINCT over the rules' union then holds one
# slab's pairs, not all of them (1 M intakes make ~40 M candidate pairs).
SLAB = 200_000


def candidate_slabs(records: Records, is_new: np.ndarray, threads: int = 2, slab: int = SLAB):
    """Yields (i, j) int32 arrays, i < j, sorted, slab by slab of the later index; every pair has a new side."""
    n = len(records)
    if n < 2:
        return
    con = duckdb.connect()
    try:
        con.execute(f"SET threads = {int(threads)}")
        con.register("rec", _key_table(records, is_new))
        con.register("road", _road_table(records, is_new))
        for lo in range(0, n, slab):
            result = con.sql(_pair_sql(lo, min(lo + slab, n), float(records.t[lo]) - MAX_WINDOW_S)).to_arrow_table()
            i = result.column("i").to_numpy()
            j = result.column("j").to_numpy()
            order = np.lexsort((j, i))
            yield i[order], j[order]
    finally:
        con.close()


def candidate_pairs(records: Records, is_new: np.ndarray, threads: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (i, j), i < j, of record indices to score; every pair has at least one new side; sorted by (i, j)."""
    parts = list(candidate_slabs(records, is_new, threads))
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    i = np.concatenate([p[0] for p in parts]).astype(np.int64)
    j = np.concatenate([p[1] for p in parts]).astype(np.int64)
    order = np.lexsort((j, i))
    return i[order], j[order]


def blocking_recall(records: Records, pairs_i: np.ndarray, pairs_j: np.ndarray, truth_cluster: list) -> dict:
    """Share of true pairs (same truth cluster) that are candidates, and candidates per intake."""
    members: dict = {}
    for index, cluster in enumerate(truth_cluster):
        if cluster is not None:
            members.setdefault(cluster, []).append(index)
    true_pairs = {(a, b) for group in members.values() for x, a in enumerate(group) for b in group[x + 1 :]}
    candidates = set(zip(pairs_i.tolist(), pairs_j.tolist()))
    found = len(true_pairs & candidates)
    return {
        "true_pairs": len(true_pairs),
        "true_pairs_found": found,
        "recall": found / len(true_pairs) if true_pairs else 1.0,
        "candidates": len(candidates),
        "candidates_per_intake": len(candidates) / max(len(records), 1),
    }
