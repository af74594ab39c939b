"""Intakes prepared for matching: one columnar bundle of normalised fields, built once per run.

Rows are ordered by (received_at, channel, source_id), so index order is time order and the same input always
gives the same order (the matcher's determinism rests on it).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dedupe import categories, normalize, topics

# Columns of core.intake the matcher reads.
MATCH_COLUMNS = (
    "channel", "source_id", "received_at", "caller_key", "title", "content", "address", "street_code",
    "community_code", "area_code", "lon", "lat", "source_category", "dispatched_at", "closed_at", "unit", "handed_to",
    "linked_source_id",
)
# A 110 call handed over to the 12345 platform (转办去向) is not dispatched to a unit: the platform registers it as a
# 12345 order, and that order is dispatched. domain.md's lead is the earliest intake dispatched to a UNIT.
HANDED_TO_PLATFORM = "12345平台"
# Blocking grid: two points within ~100 m fall in the same or a neighbouring cell.
CELL_M = 200.0


@dataclass
class Records:
    channel: list[str]
    source_id: list[str]
    t: np.ndarray  # received_at, epoch seconds
    dispatched: np.ndarray  # bool: the intake was dispatched to a unit
    closed_t: np.ndarray  # closed_at, epoch seconds, nan when open
    caller: list[str]  # '' when withheld
    text: list[str]  # cleaned title + content
    topic: list[str]
    window_s: np.ndarray
    lon: np.ndarray  # nan when unknown
    lat: np.ndarray
    cell_x: np.ndarray  # int64, meaningful only where has_point
    cell_y: np.ndarray
    has_point: np.ndarray  # a usable point: the intake's own, or its named place's (see approximate)
    place_key: list[str]
    road: list[str]
    area: list[str]  # 9-digit street code from the codes or the parsed street/community name, else ''
    problem: list[str] = field(default_factory=list)  # text without place words: what the problem is
    estate: list[str] = field(default_factory=list)
    roads: list[tuple[str, ...]] = field(default_factory=list)  # every road the address names
    cat_l2: list[frozenset] = field(default_factory=list)  # unified l2 codes of the feed's category (may be empty)
    cat_l1: list[frozenset] = field(default_factory=list)
    block_topic: list[str] = field(default_factory=list)  # l1 code when known, else the keyword topic
    # integer codes of the string keys (-1 = unknown), so that pair comparisons are vectorised
    codes: dict[str, np.ndarray] = field(default_factory=dict)
    # True where the point is not the intake's own but the median point of the batch's located intakes that name
    # the same estate or crossing (110 transfers and petitions carry no coordinates)
    approximate: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    from_110: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))  # a 110 transfer
    relayed_110: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))  # a 12345 order relaying a 110 call
    # the record a 12345 call-taker linked this order to by hand (关联工单 glgdbh), -1 when none is in the batch
    linked_to: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    def __len__(self) -> int:
        return len(self.source_id)

    def key(self, i: int) -> tuple[str, str]:
        return self.channel[i], self.source_id[i]


def _seconds(column: pa.ChunkedArray) -> np.ndarray:
    micros = pc.cast(pc.cast(column, pa.timestamp("us")), pa.int64()).to_numpy(zero_copy_only=False)
    values = micros.astype("float64") / 1e6
    if column.null_count:
        values[np.asarray(pc.is_null(column).to_numpy(zero_copy_only=False))] = np.nan
    return values


def dispatched_to_unit(table: pa.Table) -> np.ndarray:
    """Per intake: it went to a responsible unit (a dispatch time or a unit named: hotline assignee, petition
    责任单位), and not only to the 12345 platform. The same rule as store.DERIVE_LINKS_SQL's lead."""
    has_time = ~np.isnan(_seconds(table.column("dispatched_at")))
    unit = table.column("unit").to_pylist()
    handed = table.column("handed_to").to_pylist()
    return np.fromiter(
        ((t or bool(u)) and h != HANDED_TO_PLATFORM for t, u, h in zip(has_time.tolist(), unit, handed)),
        dtype=bool, count=len(unit),
    )


@lru_cache(maxsize=200_000)
def _address(address: str | None) -> normalize.AddressKeys:
    return normalize.parse_address(address)


DIVISIONS = Path(__file__).resolve().parent.parent / "dbt" / "seeds" / "divisions.csv"


@lru_cache(maxsize=1)
def _street_code_of_name() -> dict[str, str]:
    """Street and community names (without 街道/镇/社区/居委会) -> 9-digit street code, from the divisions seed."""
    if not DIVISIONS.exists():
        return {}
    import csv

    names: dict[str, str] = {}
    with DIVISIONS.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            code, name, level = row["code"], row["name"], row["level"]
            if not code.startswith("340111") or level not in ("street", "community"):
                continue
            for suffix in ("社区居委会", "居委会", "村委会", "街道办事处", "街道", "社区", "镇", "村"):
                if name.endswith(suffix) and len(name) > len(suffix) + 1:
                    name = name[: -len(suffix)]
                    break
            names.setdefault(name, code[:9])
    return names


def _area(street_code, community_code, area_code, keys: normalize.AddressKeys) -> str:
    for code in (street_code, community_code, area_code):
        if code and len(code) >= 9 and code.isdigit():
            return code[:9]
    lookup = _street_code_of_name()
    return lookup.get(keys.street) or lookup.get(keys.community) or ""


def encode(values: list[str], vocabulary: dict[str, int] | None = None) -> np.ndarray:
    """Integer code per string ('' -> -1); codes are only compared for equality within one run."""
    vocabulary = {} if vocabulary is None else vocabulary
    return np.fromiter(
        (vocabulary.setdefault(v, len(vocabulary)) if v else -1 for v in values), dtype=np.int64, count=len(values)
    )


def _single(codes: frozenset) -> str:
    return next(iter(codes)) if len(codes) == 1 else ""


def _strings(table: pa.Table, name: str) -> list[str]:
    return [v or "" for v in table.column(name).to_pylist()]


_TEXT_COLUMNS = ("title", "content", "source_category", "address", "street_code", "community_code", "area_code", "channel")
PARALLEL_FROM = 50_000  # below this many intakes, worker processes cost more than they save


def _chunks(columns: list[list], n: int, workers: int) -> list[tuple[list, ...]]:
    parts = max(1, workers * 4) if n >= PARALLEL_FROM and workers > 1 else 1
    size = -(-n // parts) if n else 1
    return [tuple(column[start : start + size] for column in columns) for start in range(0, max(n, 1), size)]


def _offsets(chunks):
    start = 0
    for chunk in chunks:
        yield chunk, start
        start += len(chunk[0])


class _pool:
    """A fork pool when there is more than one chunk, else nothing (map in this process)."""

    def __init__(self, workers: int, chunks: int):
        self.pool = None
        if workers > 1 and chunks > 1:
            import multiprocessing

            self.pool = multiprocessing.get_context("fork").Pool(workers)

    def __enter__(self):
        return self.pool

    def __exit__(self, *exc):
        if self.pool is not None:
            self.pool.close()
            self.pool.join()


def _parse_addresses(addresses: list) -> list[normalize.AddressKeys]:
    return [_address(a) for a in addresses]


def _normalise_rows(job) -> tuple[list, ...]:
    """Per-intake text work for one chunk (runs in a worker process for big batches)."""
    (titles, contents, labels, addresses, street_codes, community_codes, area_codes, channels), parsed, estates = job
    gazetteer = normalize.Gazetteer(estates)
    out: tuple[list, ...] = tuple([] for _ in range(12))
    text, topic, window, place_key, road, area, problem, estate, roads, cat_l2, cat_l1, block_topic = out
    for i in range(len(titles)):
        title = normalize.clean_text(titles[i])
        content = normalize.clean_text(contents[i])
        # the title is often a prefix of the content: do not count it twice
        full = content if title and title in content else (title + content)
        text.append(full)
        keys = parsed[i]
        named_estate = keys.estate or gazetteer.find(full)
        estate.append(named_estate)
        problem.append(normalize.problem_text(full, (named_estate, keys.road, *keys.crossing.split("|"))))
        label = normalize.simplify(labels[i])
        kind = topics.topic_of(label, title, content)
        topic.append(kind)
        window.append(topics.family_of(kind).window_s)
        place_key.append(keys.place_key)
        road.append(keys.road)
        roads.append(tuple(keys.crossing.split("|")) if keys.crossing else ((keys.road,) if keys.road else ()))
        area.append(_area(street_codes[i], community_codes[i], area_codes[i], keys))
        l2, l1 = categories.codes(channels[i], label)
        cat_l2.append(l2)
        cat_l1.append(l1)
        block_topic.append(min(l1) if len(l1) == 1 else kind)
    return out


def prepare(intakes: pa.Table, workers: int = 1) -> Records:
    """Normalise every intake of the table (any superset of MATCH_COLUMNS) into a Records bundle.

    workers > 1 spreads the per-intake text work over that many processes for big batches."""
    missing = [c for c in MATCH_COLUMNS if c not in intakes.column_names]
    if missing:
        raise ValueError(f"intake table lacks columns needed for matching: {missing}")
    table = intakes.select(list(MATCH_COLUMNS))
    if table.num_rows:
        table = table.sort_by([("received_at", "ascending"), ("channel", "ascending"), ("source_id", "ascending")])
    n = table.num_rows
    t = _seconds(table.column("received_at"))
    dispatched = dispatched_to_unit(table) if n else np.zeros(0, bool)
    closed_t = _seconds(table.column("closed_at"))
    lon = np.asarray(table.column("lon").to_numpy(zero_copy_only=False), dtype="float64")
    lat = np.asarray(table.column("lat").to_numpy(zero_copy_only=False), dtype="float64")
    lon = np.where(np.isnan(lon), 0.0, lon)
    lat = np.where(np.isnan(lat), 0.0, lat)
    has_point = (lon > 73.0) & (lon < 136.0) & (lat > 3.0) & (lat < 54.0)
    lon = np.where(has_point, lon, np.nan)
    lat = np.where(has_point, lat, np.nan)

    columns = [table.column(name).to_pylist() for name in _TEXT_COLUMNS]
    chunks = _chunks(columns, n, workers)
    with _pool(workers, len(chunks)) as pool:
        mapper = pool.map if pool is not None else map
        parsed = [keys for part in mapper(_parse_addresses, [chunk[3] for chunk in chunks]) for keys in part]
        # estates named only in the text: looked up among the estates the batch's addresses name
        estates = sorted({keys.estate for keys in parsed if keys.estate})
        jobs = [(chunk, parsed[start : start + len(chunk[0])], estates) for chunk, start in _offsets(chunks)]
        parts = list(mapper(_normalise_rows, jobs))
    text, topic, window, place_key, road, area, problem, estate, roads, cat_l2, cat_l1, block_topic = (
        [value for part in parts for value in part[k]] for k in range(12)
    )
    channels = columns[_TEXT_COLUMNS.index("channel")]
    contents = columns[_TEXT_COLUMNS.index("content")]
    from_110 = np.fromiter((c == "110" for c in channels), dtype=bool, count=n)
    relayed_110 = np.fromiter(
        (c == "12345" and normalize.relayed_from_110(text) for c, text in zip(channels, contents)), dtype=bool, count=n
    )
    source_ids = table.column("source_id").to_pylist()
    order_of_12345 = {sid: k for k, (c, sid) in enumerate(zip(channels, source_ids)) if c == "12345"}
    linked_to = np.fromiter(
        (order_of_12345.get(link, -1) if c == "12345" and link else -1
         for c, link in zip(channels, table.column("linked_source_id").to_pylist())),
        dtype=np.int64, count=n,
    )
    named_place = [("e:" + e) if e else (k if k.startswith("x:") else "") for e, k in zip(estate, place_key)]
    approximate = _place_points(named_place, lon, lat, has_point)
    has_point = has_point | approximate
    cell_x = np.where(has_point, np.floor(np.nan_to_num(lon) * normalize.METRES_PER_DEG_LON / CELL_M), -1).astype(np.int64)
    cell_y = np.where(has_point, np.floor(np.nan_to_num(lat) * normalize.METRES_PER_DEG_LAT / CELL_M), -1).astype(np.int64)
    roads_vocabulary: dict[str, int] = {}
    codes = {
        "caller": encode(_strings(table, "caller_key")),
        "place": encode(place_key),
        # what kind of place the key names (crossing spot, estate, road number): keys of one kind can disagree,
        # keys of two kinds only describe one place two ways
        "place_type": np.fromiter((PLACE_TYPES.get(k[:2], -1) for k in place_key), dtype=np.int8, count=n),
        "estate": encode(estate),
        "area": encode(area),
        "topic": encode(topic),
        "road1": encode([r[0] if r else "" for r in roads], roads_vocabulary),
        "road2": encode([r[1] if len(r) > 1 else "" for r in roads], roads_vocabulary),
        "l2": encode([_single(c) for c in cat_l2]),
        "l1": encode([_single(c) for c in cat_l1]),
        "l2_several": np.fromiter((len(c) > 1 for c in cat_l2), dtype=bool, count=n),
    }
    return Records(
        codes=codes,
        channel=channels,
        source_id=source_ids,
        t=t,
        dispatched=dispatched,
        closed_t=closed_t,
        caller=_strings(table, "caller_key"),
        text=text,
        topic=topic,
        window_s=np.asarray(window, dtype="float64"),
        lon=lon,
        lat=lat,
        cell_x=cell_x,
        cell_y=cell_y,
        has_point=has_point,
        place_key=place_key,
        road=road,
        area=area,
        problem=problem,
        estate=estate,
        roads=roads,
        cat_l2=cat_l2,
        cat_l1=cat_l1,
        block_topic=block_topic,
        approximate=approximate,
        from_110=from_110,
        relayed_110=relayed_110,
        linked_to=linked_to,
    )


PLACE_TYPES = {"x:": 0, "e:": 1, "n:": 2}  # prefixes of normalize.AddressKeys.place_key
MIN_PLACE_POINTS = 1  # located intakes naming a place needed before its median point stands in for others


def _place_points(named_place: list[str], lon: np.ndarray, lat: np.ndarray, has_point: np.ndarray) -> np.ndarray:
    """Gives intakes without a point the median point of the located intakes that name the same estate or
    crossing (a gazetteer built from the batch itself). Fills lon/lat in place; returns the rows it filled."""
    approximate = np.zeros(len(named_place), dtype=bool)
    if not len(named_place):
        return approximate
    codes = encode(named_place)
    located = has_point & (codes >= 0)
    if not located.any():
        return approximate
    order = np.argsort(codes[located], kind="stable")
    keys = codes[located][order]
    xs, ys = lon[located][order], lat[located][order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ends = np.r_[starts[1:], len(keys)]
    centre = {}
    for a, b in zip(starts.tolist(), ends.tolist()):
        if b - a >= MIN_PLACE_POINTS:
            centre[int(keys[a])] = (float(np.median(xs[a:b])), float(np.median(ys[a:b])))
    for k in np.flatnonzero(~has_point & (codes >= 0)).tolist():
        point = centre.get(int(codes[k]))
        if point is not None:
            lon[k], lat[k] = point
            approximate[k] = True
    return approximate
