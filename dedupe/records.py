"""Intakes prepared for matching: one columnar bundle of normalised fields, built once per run.

Rows are ordered by (received_at, channel, source_id), so index order is time order and the same input always
gives the same order (the matcher's determinism rests on it).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dedupe import normalize, topics

# Columns of core.intake the matcher reads.
MATCH_COLUMNS = (
    "channel", "source_id", "received_at", "caller_key", "title", "content", "address", "street_code",
    "community_code", "lon", "lat", "source_category", "dispatched_at", "closed_at",
)
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
    has_point: np.ndarray
    place_key: list[str]
    road: list[str]
    area: list[str]  # community code, else street code, else parsed community/street name, else ''
    bigrams: list[str] = field(default_factory=list)  # space-joined character bigrams of text

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


@lru_cache(maxsize=200_000)
def _address(address: str | None) -> normalize.AddressKeys:
    return normalize.parse_address(address)


def _strings(table: pa.Table, name: str) -> list[str]:
    return [v or "" for v in table.column(name).to_pylist()]


def prepare(intakes: pa.Table) -> Records:
    """Normalise every intake of the table (any superset of MATCH_COLUMNS) into a Records bundle."""
    missing = [c for c in MATCH_COLUMNS if c not in intakes.column_names]
    if missing:
        raise ValueError(f"intake table lacks columns needed for matching: {missing}")
    table = intakes.select(list(MATCH_COLUMNS))
    if table.num_rows:
        table = table.sort_by([("received_at", "ascending"), ("channel", "ascending"), ("source_id", "ascending")])
    n = table.num_rows
    t = _seconds(table.column("received_at"))
    dispatched = ~np.isnan(_seconds(table.column("dispatched_at"))) if n else np.zeros(0, bool)
    closed_t = _seconds(table.column("closed_at"))
    lon = np.asarray(table.column("lon").to_numpy(zero_copy_only=False), dtype="float64")
    lat = np.asarray(table.column("lat").to_numpy(zero_copy_only=False), dtype="float64")
    lon = np.where(np.isnan(lon), 0.0, lon)
    lat = np.where(np.isnan(lat), 0.0, lat)
    has_point = (lon > 73.0) & (lon < 136.0) & (lat > 3.0) & (lat < 54.0)
    lon = np.where(has_point, lon, np.nan)
    lat = np.where(has_point, lat, np.nan)
    cell_x = np.where(has_point, np.floor(np.nan_to_num(lon) * normalize.METRES_PER_DEG_LON / CELL_M), -1).astype(np.int64)
    cell_y = np.where(has_point, np.floor(np.nan_to_num(lat) * normalize.METRES_PER_DEG_LAT / CELL_M), -1).astype(np.int64)

    titles = table.column("title").to_pylist()
    contents = table.column("content").to_pylist()
    categories = table.column("source_category").to_pylist()
    addresses = table.column("address").to_pylist()
    street_codes = table.column("street_code").to_pylist()
    community_codes = table.column("community_code").to_pylist()
    text, topic, window, place_key, road, area, bigrams = [], [], [], [], [], [], []
    for i in range(n):
        title = normalize.clean_text(titles[i])
        content = normalize.clean_text(contents[i])
        # the title is often a prefix of the content: do not count it twice
        full = content if title and title in content else (title + content)
        text.append(full)
        bigrams.append(" ".join(sorted({full[k : k + 2] for k in range(len(full) - 1)})))
        kind = topics.topic_of(normalize.simplify(categories[i]), title, content)
        topic.append(kind)
        window.append(topics.family_of(kind).window_s)
        keys = _address(addresses[i])
        place_key.append(keys.place_key)
        road.append(keys.road)
        area.append(community_codes[i] or street_codes[i] or keys.community or keys.street or "")
    return Records(
        channel=table.column("channel").to_pylist(),
        source_id=table.column("source_id").to_pylist(),
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
        bigrams=bigrams,
    )
