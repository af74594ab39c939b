"""The simulation: incidents day by day, each reported 1..N times through the four channels, handled, and
written as the upstream systems deliver them, with the ground truth alongside.

Streaming: a day's incidents are generated whole (all their reports and lifecycle versions at once); versions
that happen on later days wait in per-day buffers, and each day's files are written as soon as no later
incident can add to them (incidents never report before they start). Memory is bounded by the buffered
future versions, not by the length of the simulation. One seeded ``random.Random`` drives everything, so the
same configuration gives the same bytes.
"""
from __future__ import annotations

import gc
import json
import multiprocessing.pool
import os
import pickle
import random
import shutil
import tempfile
import time as time_module
from bisect import bisect
from collections import defaultdict
from contextlib import contextmanager
from itertools import accumulate
from operator import attrgetter, itemgetter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa

from gongzhi.processes import fork_pool, peak_rss_mb
from simulator import handling as H
from simulator.catalog import (CHANNEL_ORDER, HOTLINE_CODES, DEMAND_PROFILES, GAP_PROFILES, KINDS, PETITION_DAYS, UNITS,
                               URGENCY_PROFILES, Kind, unit_for)
from simulator.geography import DISTRICT_CODE, STREET_OLD_NAMES, Community, load_district, neighbouring_points
from simulator.placement import Occupancy, block_until
from simulator.rng import FastRandom
from simulator import store12345 as S
from simulator.truth import INCIDENT_TRUTH_SCHEMA, INTAKE_TRUTH_SCHEMA
from simulator import text as T

CST_OFFSET = "+08:00"
EPOCH_CST = datetime(1970, 1, 1, 8, 0, 0)  # naive CST of the Unix epoch
HOTLINE_CRS = {"12315": ("gcj02", "wgs84"), "12319": ("wgs84", "gcj02"), "12369": ("bd09", "gcj02"),
               "12320": ("wgs84", "bd09")}
HOTLINE_PREFIX = {"12315": "M", "12319": "U", "12369": "E", "12320": "H"}
EXTRA_HOTLINE_KEYS = (("channel_note", ("微信", "电话", "网站", "APP")), ("source_system", ("v2", "v3")),
                      ("tags", (["重复来电"], ["媒体关注"], []))
                      )
POLICE_STATIONS = ("包河分局望湖派出所", "包河分局骆岗派出所", "包河分局常青派出所", "包河分局芜湖路派出所", "包河分局包公派出所",
                   "包河分局义城派出所", "包河分局烟墩派出所", "包河分局滨湖派出所", "包河分局方兴派出所", "包河分局万年埠派出所",
                   "包河分局同安派出所", "包河分局淝河派出所", "包河分局大圩派出所")
PETITION_FORMS = (("网上信访", 0.45), ("来信", 0.2), ("来访", 0.25), ("电话", 0.1))
PETITION_PURPOSES = (("求决", 0.6), ("申诉", 0.15), ("揭发控告", 0.1), ("意见建议", 0.1), ("其他", 0.05))
AGAIN_PREFIXES = ("再次来电：", "第二次反映，", "之前已经打过电话，")
AGAIN_SUFFIXES = ("之前已反映过，至今没人处理。", "这是第二次打电话了。", "上次反映后没有任何回复。")
HOURLY = [0.3, 0.2, 0.15, 0.1, 0.1, 0.2, 0.6, 1.5, 3.0, 4.0, 4.0, 3.6, 2.8, 2.8, 3.4, 3.5, 3.3, 3.0, 2.6, 2.4, 2.2,
          1.8, 1.2, 0.6]
HOURLY_NIGHT = [1.0, 0.7, 0.4, 0.2, 0.1, 0.1, 0.4, 0.8, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.2, 1.6, 2.2,
                3.0, 3.6, 3.4, 2.2]
MAX_EXTRA_REPORTS = 30
# a 110 call handed to the 12345 platform: minutes from the call to the hand-over, and from the hand-over to the
# relayed 12345 order (the latest the relay can arrive is the call plus both maxima)
HAND_OVER_MINUTES = (3, 40)
RELAY_MINUTES = (2, 25)
STRANDS = 4  # fixed: the output depends on it, never on the number of workers
PLACE_TRIES = 40  # points drawn at free estates before giving up (counted as `crowded`)
HARD_NEGATIVE_TRIES = 4
HARD_NEGATIVE_RATES = {"same_estate_other_kind": 0.05, "same_caller_other_kind": 0.03,
                       "neighbouring_road_same_kind": 0.04}


@dataclass(frozen=True)
class SimulationConfig:
    start: date = date(2024, 3, 1)
    days: int = 30
    per_day: int = 1000
    fault_rate: float = 0.01
    seed: int = 20240301
    repeat_share: float = 0.22  # share of intakes that repeat an incident already reported
    # the 12345 store as an order store: each work order once, its head and event plan (simulator/store12345.py;
    # server12345 renders the versions, so the API serves the same bytes); about a quarter of the size and less
    # CPU: for long runs. Off by default: plain lines are the API records themselves, which tests and
    # benchmarks read directly.
    compact_12345: bool = False


@dataclass
class SimulationSummary:
    intakes_by_channel: dict[str, int]
    incidents: int
    repeat_share: float
    malformed: int
    files: list[str] = field(default_factory=list)
    # placement of new incidents (simulator/placement.py): re-draws of a taken place, incidents placed on a taken
    # place after PLACE_TRIES (the rule broken: 0 at a month's scale), repeats turned into duplicates because their
    # place was taken by then, hard negatives that found no free place and became ordinary incidents
    placement: dict[str, int] = field(default_factory=dict)
    # wall seconds until the last strand finished, and after it (writing the delivery files from the strands'
    # shards overlaps the strands when workers > 1: what is left of it then)
    seconds: dict[str, float] = field(default_factory=dict)
    # peak resident memory in MB (VmHWM): this process (it writes the files) and the largest process that
    # generated strands (this one when workers=1)
    peak_rss_mb: dict[str, float] = field(default_factory=dict)
    # CPU seconds of each strand (its own process time): how evenly the strands load the workers
    strand_cpu_seconds: list[float] = field(default_factory=list)

    @property
    def intakes(self) -> int:
        return sum(self.intakes_by_channel.values())


class Person:
    __slots__ = ("pid", "phone", "short_name", "full_name", "id_no")

    def __init__(self, pid: str, rnd: random.Random):
        self.pid = pid
        self.phone = T.landline(rnd) if rnd.random() < 0.12 else T.mobile(rnd)
        self.short_name = T.person_name(rnd, full=False)
        self.full_name = self.id_no = ""  # drawn lazily: only petitioners need them


@dataclass(slots=True)
class Incident:
    incident_id: str
    kind: Kind
    community: Community
    estate: str
    lon: float
    lat: float
    address_style: str
    demand: str
    urgency: str
    unit: str
    start: datetime
    repeat_of: str | None = None
    hard_negative_of: str | None = None
    hard_negative_kind: str | None = None
    chain: str = ""  # the first incident of its repeat chain (itself unless it repeats another)
    # placed on a taken place (no free estate of its kind left that day): it breaks the rule already, and it does
    # not hold its place for later incidents (see Strand._finalise)
    crowded: bool = False
    reporters: set = field(default_factory=set)  # person ids that reported it so far


@dataclass(slots=True)
class Intake:
    channel: str
    source_id: str
    received: datetime
    person: Person
    facts: H.Facts
    demand: str
    urgency: str


def _table(rows: list[tuple], schema: pa.Schema) -> pa.Table:
    """Rows (tuples in the schema's column order) as a table, built column by column."""
    return pa.Table.from_arrays([pa.array(col, type=f.type) for col, f in zip(zip(*rows), schema)], schema=schema)


def _fmt(t: datetime | None) -> str | None:
    return None if t is None else t.isoformat(" ", "seconds")


_KEY_BYTES: dict[str, bytes] = {}


def json_bytes(value) -> bytes:
    """`json.dumps(value, ensure_ascii=False)` encoded as UTF-8, byte for byte (its ", " and ": " separators,
    which the feeds keep), with orjson writing keys and scalars: ~40 % faster on the flat 12345 record."""
    if type(value) is list:
        return b"[" + b", ".join([json_bytes(v) for v in value]) + b"]"
    if type(value) is not dict:
        return orjson.dumps(value)
    parts = []
    for k, v in value.items():
        key = _KEY_BYTES.get(k)
        if key is None:
            key = _KEY_BYTES[k] = orjson.dumps(k) + b": "
        parts.append(key + (json_bytes(v) if type(v) is dict or type(v) is list else orjson.dumps(v)))
    return b"{" + b", ".join(parts) + b"}"


class WeightedChoice:
    """`rnd.choices(population, weights)[0]` with the cumulative weights computed once: the same single
    `random()` draw and the same bisection as `random.choices`, so the same pick for the same stream."""
    __slots__ = ("population", "cum_weights", "total", "hi", "pick")

    def __init__(self, population, weights):
        self.population = population = tuple(population)
        self.cum_weights = cum_weights = list(accumulate(weights))
        self.total = total = cum_weights[-1] + 0.0
        self.hi = hi = len(population) - 1

        def pick(rnd: random.Random):  # a closure: its tables are cell variables, no attribute look-ups per draw
            return population[bisect(cum_weights, rnd.random() * total, 0, hi)]
        self.pick = pick


_WEIGHTED_CACHE: dict[int, WeightedChoice] = {}


def _weighted(rnd: random.Random, weights: dict[str, float]) -> str:
    choice = _WEIGHTED_CACHE.get(id(weights))
    if choice is None:  # the profile dicts are module constants: one precomputed choice per dict
        choice = _WEIGHTED_CACHE[id(weights)] = WeightedChoice(weights, weights.values())
    return choice.pick(rnd)


def _json_text(v: str) -> str:
    """A free text as a JSON string literal (escaped where needed: quotes, backslashes, line breaks). JSON escapes
    nothing else, so a printable text without quote or backslash is its own literal (most texts: no encoder call)."""
    if '"' not in v and "\\" not in v and v.isprintable():
        return f'"{v}"'
    return orjson.dumps(v).decode("utf-8")


def _json_number(v: float | int | None) -> str:
    return "null" if v is None else repr(v)


def _json_value(v: str | int | None) -> str:
    """A value that needs no escaping (a time text, an epoch, a score, or null) as JSON."""
    return "null" if v is None else f'"{v}"' if type(v) is str else str(v)


def _ymd(t: datetime | date) -> str:
    """`YYYYMMDD` of a day (formatted once per day: every id of the day carries it)."""
    ordinal = t.toordinal()
    text = _YMD_TEXT.get(ordinal)
    if text is None:
        text = _YMD_TEXT[ordinal] = f"{t.year}{t.month:02d}{t.day:02d}"
    return text


_YMD_TEXT: dict[int, str] = {}


def _extra_count_distribution() -> tuple[list[int], list[float], float]:
    """Heavy tail for the number of extra reports of an incident that has any: P(k) ~ k^-2.2, k = 1..30."""
    ks = list(range(1, MAX_EXTRA_REPORTS + 1))
    w = [k ** -2.2 for k in ks]
    total = sum(w)
    probs = [x / total for x in w]
    return ks, probs, sum(k * p for k, p in zip(ks, probs))


class Strand:
    """One independent stream of incidents (1/STRANDS of the roots of every day), with its own seeded RNG and
    interleaved id numbers, so strands can run in parallel and the output never depends on the worker count."""

    def __init__(self, config: SimulationConfig, strand: int, shard_dir: Path):
        self.cfg = config
        self.strand = strand
        self.rnd = FastRandom(f"{config.seed}:{strand}")
        self.shard_dir = shard_dir / f"strand_{strand}"
        self.district = load_district()
        self.begin = datetime.combine(config.start, time())
        self.end = self.begin + timedelta(days=config.days)
        self.end_s = H.to_seconds(self.end)
        self._dates: dict[int, date] = {}
        self._day_starts: dict[date, datetime] = {}
        self.counters: dict[tuple, int] = defaultdict(int)
        self.persons = 0
        self.buf_12345: dict[date, list] = defaultdict(list)
        self.buf_hotline: dict[tuple[str, date], list] = defaultdict(list)
        self.buf_110: dict[date, list] = defaultdict(list)
        self.buf_petition: dict[date, list] = defaultdict(list)  # by registration day
        self.truth_intakes: list[tuple] = []
        self.truth_incidents: list[tuple] = []
        self.by_channel = {c: 0 for c in CHANNEL_ORDER}
        self.delivered = 0  # sum of by_channel
        self.non_lead = 0
        self.n_incidents = 0
        self.roots = 0
        self.relays = 0
        self.today: list[tuple[Incident, Person]] = []
        self._again = False
        self.recent_gdbh: list[str] = []
        self.ks, self.kprobs, self.kmean = _extra_count_distribution()
        self.extra_count_choice = WeightedChoice(self.ks, self.kprobs)
        self.channel_choices: dict[tuple[str, bool], WeightedChoice | None] = {}
        self.export_days = petition_export_days(config)
        # kinds are split over the strands, so every incident of one kind comes from one strand and the
        # placement rule (no two open incidents of a kind at one place) needs no coordination between strands
        self.kinds = KINDS[strand::STRANDS]
        self.occupancy = Occupancy()
        # every estate of the district as (name, community, index): the candidates of `Occupancy.free_estates`
        self.estate_refs = [(name, c, i) for c in self.district.communities for i, name in enumerate(c.estates)]
        self.placement = {"redraws": 0, "crowded": 0, "repeats_redirected": 0, "hard_negatives_redirected": 0}
        self._street_offices = {code: self.district.street_office(code) for code in self.district.streets}
        # the kinds a hard negative of another kind may have (this strand's, not one-off problems)
        self._other_kinds = {k.code: [o for o in self.kinds if o.code != k.code and o.gap != "once"] for k in KINDS}
        self.siblings = defaultdict(list)
        for k in KINDS:
            self.siblings[k.l1].append(k)

    def run(self) -> dict:
        """Generate every day; after each day its shard (that day's versions from this strand) is final."""
        started = time_module.process_time()
        self.shard_dir.mkdir(parents=True, exist_ok=True)
        # the strand's truth parts are read once and rewritten by the parent (FeedWriter._concat_truth), so they
        # are Arrow IPC files: the table's buffers as they are, no encoding on either side (10 days at the 10 M
        # rate, per strand: plain parquet written and read again 0.124 CPU s, IPC 0.017)
        self._intake_writer = pa.ipc.new_file(truth_part_path(self.shard_dir, "intakes"), INTAKE_TRUTH_SCHEMA)
        self._incident_writer = pa.ipc.new_file(truth_part_path(self.shard_dir, "incidents"), INCIDENT_TRUTH_SCHEMA)
        total_roots = max(1, round(self.cfg.per_day * (1.0 - self.cfg.repeat_share)))
        n_roots = total_roots * len(self.kinds) / len(KINDS)
        for d in range(self.cfg.days):
            day = self.cfg.start + timedelta(days=d)
            self.today = []
            if d % 7 == 0:  # weekly is enough: a freed place is skipped by its time anyway
                self.occupancy.release_before(datetime.combine(day, time()))
            # fewer reports on rest days (weekends, holidays): weekday 1.06, rest day 0.85 keeps the weekly mean
            scale = 1.06 if H.is_workday(day) else 0.85
            for _ in range(max(1, round(n_roots * scale))):
                self._root_incident(day)
            self._write_shard(day)
            self._flush_truth()
        self._intake_writer.close()
        self._incident_writer.close()
        return {"by_channel": self.by_channel, "non_lead": self.non_lead, "incidents": self.n_incidents,
                "placement": self.placement, "peak_rss_mb": round(peak_rss_mb(), 1),
                "cpu_seconds": round(time_module.process_time() - started, 2)}

    def _write_shard(self, day: date) -> None:
        key = _TIME_AND_ID  # the order records appear in a delivery
        shard = {"12345": sorted(self.buf_12345.pop(day, []), key=key),
                 "hotline": {code: sorted(self.buf_hotline.pop((code, day), []), key=key) for code in HOTLINE_CODES},
                 "110": sorted(self.buf_110.pop(day, []), key=key), "petition": self.buf_petition.pop(day, [])}
        path = shard_path(self.shard_dir, day)
        partial = path.with_suffix(".partial")
        with open(partial, "wb") as fh:
            pickle.dump(shard, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(partial, path)  # whole or absent: the files of a day are written as soon as its shards exist

    def _flush_truth(self) -> None:
        if self.truth_intakes:
            self._intake_writer.write_table(_table(self.truth_intakes, INTAKE_TRUTH_SCHEMA))
            self.truth_intakes = []
        if self.truth_incidents:
            self._incident_writer.write_table(_table(self.truth_incidents, INCIDENT_TRUTH_SCHEMA))
            self.truth_incidents = []

    def _next(self, key: tuple) -> int:
        """Sequence numbers interleaved across strands: unique without coordination."""
        self.counters[key] += 1
        return (self.counters[key] - 1) * STRANDS + self.strand + 1

    def _new_person(self) -> Person:
        self.persons += 1
        return Person(f"P{(self.persons - 1) * STRANDS + self.strand + 1:08d}", self.rnd)

    def _time_on(self, day: date, kind: Kind) -> datetime:
        hours = HOUR_CHOICE_NIGHT if kind.gap == "nuisance" and kind.l1 in ("噪声扰民", "环境保护") else HOUR_CHOICE
        h = hours.pick(self.rnd)
        start = self._day_starts.get(day)
        if start is None:
            start = self._day_starts[day] = datetime.combine(day, time())
        return start + timedelta(0, h * 3600 + self.rnd.randrange(3600))  # (days, seconds): no keyword parsing

    # ---------------------------------------------------------------- incidents
    def _place(self, community: Community | None = None, estate_no: int | None = None
               ) -> tuple[Community, str, float, float]:
        """A point at one of the community's estates (within ~100 m of its centre)."""
        rnd = self.rnd
        c = community or rnd.choice(self.district.communities)
        i = rnd.randrange(len(c.estates)) if estate_no is None else estate_no
        lon, lat = c.estate_points[i]
        lon += rnd.gauss(0, 0.0006)
        lat += rnd.gauss(0, 0.00055)
        return c, c.estates[i], min(117.399, max(117.281, lon)), min(31.859, max(31.701, lat))

    def _is_free(self, kind: Kind, place, t: datetime, chain: str | None = None) -> bool:
        _, estate, lon, lat = place
        # the point as the truth will hold it (6 decimals), so the truth's check sees what was checked here
        return self.occupancy.is_free(kind.code, round(lon, 6), round(lat, 6), estate,
                                      datetime.combine(t.date(), time()), chain)

    def _free_place(self, kind: Kind, t: datetime) -> tuple[Community, str, float, float] | None:
        """A place where no incident of `kind` is open or recent (simulator/placement.py): a point at an estate
        drawn among the kind's free estates of the day, re-drawn up to PLACE_TRIES times when the point is near
        another incident; None when no free estate is left (the caller places it anyway: `_placed_incident`)."""
        rnd = self.rnd
        not_before = datetime.combine(t.date(), time())
        occupancy, code = self.occupancy, kind.code
        free = occupancy.free_estates(code, self.estate_refs, not_before)
        for _ in range(PLACE_TRIES):
            if not free:
                break
            i = int(rnd.random() * len(free))
            estate, community, estate_no = free[i]
            # drawn once a day at most: it is taken now, or was taken earlier today, or its point fell near
            # another incident of the kind (a neighbouring estate's: another point would likely fail too)
            free[i] = free[-1]
            free.pop()
            if not occupancy.name_is_free(code, estate, not_before):
                continue
            place = self._place(community, estate_no)
            # the point as the truth will hold it (6 decimals), as in _is_free
            until = occupancy.taken_until(code, round(place[2], 6), round(place[3], 6), estate, not_before)
            if until is None:
                return place
            # the neighbour that blocked this point would block the estate's other points too: off the kind's free
            # list until that neighbour is released (strand 0, 24 days at the 10 M rate: 137 k re-draws -> 26 k,
            # place checks 205 k -> 42 k, 2 % more crowded incidents; a month keeps 0 crowded)
            occupancy.keep_off(code, estate, until)
            self.placement["redraws"] += 1
        return None

    def _placed_incident(self, kind: Kind, t: datetime) -> Incident:
        """A new incident of `kind` at a free place, or anywhere (counted as `crowded`) when none is left."""
        place = self._free_place(kind, t)
        if place is not None:
            return self._new_incident(kind, t, place)
        self.placement["crowded"] += 1
        inc = self._new_incident(kind, t, self._place())
        inc.crowded = True
        return inc

    def _nearest_estate(self, lon: float, lat: float, other_than: str) -> tuple[Community, str]:
        if not hasattr(self, "_estate_index"):
            rows = [(c, name, p) for c in self.district.communities for name, p in zip(c.estates, c.estate_points)]
            self._estate_index = (rows, np.array([r[2] for r in rows]))
        rows, points = self._estate_index
        d2 = ((points[:, 0] - lon) * 0.85) ** 2 + (points[:, 1] - lat) ** 2  # cos(31.8 deg) ~ 0.85
        nearest = int(d2.argmin())  # argmin takes the first of equals: the order of a stable sort
        d2[nearest] = np.inf
        for i in (nearest, int(d2.argmin())):
            if rows[i][1] != other_than:
                return rows[i][0], rows[i][1]
        raise AssertionError("unreachable: two nearest estates cannot both be named like the twin's")

    def _new_incident(self, kind: Kind, t: datetime, place, style: str | None = None,
                      repeat_of: str | None = None) -> Incident:
        rnd = self.rnd
        c, estate, lon, lat = place
        lon, lat = round(lon, 6), round(lat, 6)  # as the truth holds it
        n = self._next(("incident", t.date()))
        style = style or ADDRESS_STYLE_CHOICE.pick(rnd)
        demand = _weighted(rnd, DEMAND_PROFILES[kind.demand])
        urgency = _weighted(rnd, URGENCY_PROFILES[kind.urgency])
        unit = unit_for(kind, self._street_offices[c.street_code])
        self.n_incidents += 1
        incident_id = f"I{_ymd(t)}{n:06d}"
        return Incident(incident_id, kind, c, estate, lon, lat, style, demand, urgency, unit, t,
                        repeat_of=repeat_of, chain=incident_id)

    def _root_incident(self, day: date) -> None:
        rnd = self.rnd
        random = rnd.random
        self.roots += 1
        first_person = None
        r = random()
        twin = rnd.choice(self.today) if self.today else None
        hn_kind = None
        if twin is not None:
            acc = 0.0
            for name, rate in HARD_NEGATIVE_RATES.items():
                acc += rate
                if r < acc:
                    hn_kind = name
                    break
        inc = None
        if hn_kind is not None:
            twin_inc, twin_person = twin
            t = self._time_on(day, twin_inc.kind)
            if hn_kind == "neighbouring_road_same_kind":
                # one road further along the grid (~850 m, another crossing), named by the estate nearest to it
                kind = twin_inc.kind
                for lon, lat in neighbouring_points(twin_inc.lon, twin_inc.lat, rnd):
                    community, estate = self._nearest_estate(lon, lat, other_than=twin_inc.estate)
                    place = (community, estate, lon, lat)
                    if self._is_free(kind, place, t):
                        inc = self._new_incident(kind, t, place, style="crossing")
                        break
            else:
                others = self._other_kinds[twin_inc.kind.code]
                if hn_kind == "same_estate_other_kind":
                    for _ in range(HARD_NEGATIVE_TRIES):
                        kind = rnd.choice(others)
                        place = (twin_inc.community, twin_inc.estate, twin_inc.lon + rnd.gauss(0, 0.0003),
                                 twin_inc.lat + rnd.gauss(0, 0.0003))
                        if self._is_free(kind, place, t):
                            inc = self._new_incident(kind, t, place, style="estate")
                            break
                else:
                    first_person = twin_person
                    kind = rnd.choice(others)
                    inc = self._placed_incident(kind, t)
            if inc is None:
                self.placement["hard_negatives_redirected"] += 1
            else:
                inc.hard_negative_of, inc.hard_negative_kind = twin_inc.incident_id, hn_kind
        if inc is None:
            kind = rnd.choice(self.kinds)
            t = self._time_on(day, kind)
            inc = self._placed_incident(kind, t)
        self._report_incident(inc, first_person, extras=True)

    def _channel_for(self, kind: Kind, later: bool) -> str:
        key = (kind.code, later)
        choice = self.channel_choices.get(key, False)
        if choice is False:
            w = list(kind.channels)
            if not later:
                w[2] *= 0.3  # petitions mostly follow earlier reports
            choice = self.channel_choices[key] = WeightedChoice(CHANNEL_ORDER, w) if sum(w) > 0 else None
        return "12345" if choice is None else choice.pick(self.rnd)

    def _gap(self, kind: Kind) -> timedelta:
        prof = GAP_PROFILES[kind.gap]
        minutes = min(prof["max_gap_min"], self.rnd.expovariate(1.0 / prof["mean_gap_min"]) + 1)
        return timedelta(minutes=minutes)

    def _report_incident(self, inc: Incident, first_person: Person | None, extras: bool) -> None:
        rnd = self.rnd
        random = rnd.random
        person = first_person or self._new_person()
        self.today.append((inc, person))
        intakes: list[Intake] = []
        channel = self._channel_for(inc.kind, later=False)
        self._report(inc, channel, inc.start, person, intakes, primary=True)
        n_extra = 0
        if extras:
            # extra reports per first report needed for the target share, less the 110->12345 relays, nudged by
            # the share delivered so far (reports past the end of the window are lost and must be made up)
            target = self.cfg.repeat_share / (1.0 - self.cfg.repeat_share)
            relay_rate = self.relays / self.roots
            delivered = self.delivered
            if delivered > 200:
                realised = max(self.non_lead / delivered, 0.01)
                target *= max(0.3, min(3.0, (self.cfg.repeat_share / realised) ** 4))
            q = max(0.0, min(1.0, (target - relay_rate) / self.kmean))
            if random() < q:
                n_extra = self.extra_count_choice.pick(rnd)
        if n_extra:
            # Extra reports are filed under the incident only while its lead intake has not closed it (domain.md:
            # the case's closure comes from its lead, a 直接答复 that closes an order without dispatch included).
            # A report that would ARRIVE later (a petition registered the next morning, a 110 call relayed to
            # 12345 minutes after the call) is a repeat after closure, or is re-timed into the open period of a
            # dispatched lead (else dropped).
            # When the lead was dispatched, extras come after it, so they never displace it; while it was not,
            # a dispatched extra becomes the lead, and its closure decides from then on: extras then go in time
            # order (none is re-timed into the past), so no closure that made a repeat is displaced later.
            end = self.end
            lead = _lead_of(intakes, end)
            dispatched = lead is not None and lead.facts.dispatched_at is not None
            base = lead.received if dispatched else inc.start
            closed_at = lead.facts.closed_at if lead is not None else None
            # at most one repeat: a second one would be open at the same place as the first (placement.py)
            repeat_p = 0.0 if inc.kind.gap in ("acute", "once") else 0.36
            persons = [person]
            t = base
            for _ in range(n_extra):
                t = t + self._gap(inc.kind)
                channel = self._channel_for(inc.kind, later=True)
                if closed_at is not None and self._arrives_by(channel, t, base) > closed_at:
                    if random() < repeat_p:
                        if self._repeat_incident(inc, closed_at, closed_at + self._gap(inc.kind), persons):
                            repeat_p = 0.0
                            continue
                        # the place has another open incident of this kind by then: report within the open period
                        self.placement["repeats_redirected"] += 1
                    if not dispatched:
                        continue  # not re-timed (above); the share's feedback makes the lost report up
                    t = min(closed_at, base + (closed_at - base) * random() + timedelta(seconds=1))
                    if self._arrives_by(channel, t, base) > closed_at:
                        channel = "12345"  # received when reported: the one way to reach it before the closure
                if t >= end:
                    continue
                if random() < 0.3:
                    p = rnd.choice(persons)
                else:
                    p = self._new_person()
                    persons.append(p)
                self._report(inc, channel, self._not_before(channel, t, base), p, intakes, primary=False)
                if not dispatched:
                    new_lead = _lead_of(intakes, end)
                    if new_lead is not lead:
                        lead = new_lead
                        dispatched = lead.facts.dispatched_at is not None
                        closed_at = lead.facts.closed_at
                        if dispatched:
                            base = lead.received
        self._finalise(inc, intakes)

    @classmethod
    def _arrives_by(cls, channel: str, t: datetime, after: datetime) -> datetime:
        """The latest time a report made at t (after `after`) can be received: a petition on its registration
        date (00:00), a 110 call's relayed 12345 order after both delays, other channels at t."""
        if channel == "petition":
            return datetime.combine(cls._not_before(channel, t, after).date(), time())
        if channel == "110":
            return t + timedelta(minutes=HAND_OVER_MINUTES[1] + RELAY_MINUTES[1])
        return t

    @staticmethod
    def _not_before(channel: str, t: datetime, after: datetime) -> datetime:
        """Petitions are registered by date (00:00): one that would date before `after` is registered next day."""
        if channel == "petition" and datetime.combine(t.date(), time()) <= after:
            return datetime.combine(t.date() + timedelta(days=1), time(9))
        return t

    def _repeat_incident(self, parent: Incident, closed_at: datetime, t: datetime, persons: list[Person]) -> bool:
        """A new incident at the parent's place after its closure; False when that place is taken by then."""
        channel = self._channel_for(parent.kind, later=True)
        t = self._not_before(channel, t, closed_at)
        if t >= self.end:
            return True  # reported after the period: lost
        place = (parent.community, parent.estate, parent.lon, parent.lat)
        if not self._is_free(parent.kind, place, t, chain=parent.chain):
            return False
        inc = self._new_incident(parent.kind, t, place, style=parent.address_style, repeat_of=parent.incident_id)
        inc.chain = parent.chain
        person = self.rnd.choice(persons) if self.rnd.random() < 0.6 else self._new_person()
        intakes: list[Intake] = []
        self._report(inc, channel, t, person, intakes, primary=False)
        self._finalise(inc, intakes)
        return True

    def _finalise(self, inc: Incident, intakes: list[Intake]) -> None:
        if len(intakes) == 1:  # most incidents: one report, nothing to sort
            delivered = intakes if intakes[0].received < self.end else []
        else:
            delivered = sorted((i for i in intakes if i.received < self.end), key=_INTAKE_ORDER)
        if not delivered:
            self.n_incidents -= 1
            return
        lead = _lead(delivered)
        seen: set[str] = set()
        for i in delivered:
            if i is lead:
                link = "repeat" if inc.repeat_of else "lead"
            else:
                link = "same_caller" if i.person.pid in seen else "duplicate"
                self.non_lead += 1
            if i is lead and inc.repeat_of:
                self.non_lead += 1
            seen.add(i.person.pid)
            self.by_channel[i.channel] += 1
            self.truth_intakes.append((  # in INTAKE_TRUTH_SCHEMA's order
                i.channel, i.source_id, inc.incident_id, i.person.pid, i.received, i is lead, link, inc.kind.code,
                inc.kind.l1, inc.kind.l2))
        self.delivered += len(delivered)
        f = lead.facts
        if not inc.crowded:
            # A crowded incident holds no place: its kind had no free estate left that day, so it shares a place
            # with an open incident of its kind anyway, and recording it (every estate, crossing and cell it
            # touches, then dropping them again) cost ~25 % of the CPU at a year's density, where 98 % of
            # incidents are crowded. At a month's scale no incident is crowded: the same places are held.
            self.occupancy.take(inc.kind.code, inc.lon, inc.lat, inc.estate,
                                block_until(inc.kind, delivered[0].received, f.closed_at), inc.chain)
        self.truth_incidents.append((  # in INCIDENT_TRUTH_SCHEMA's order
            inc.incident_id, inc.repeat_of, inc.kind.code, inc.kind.l1, inc.kind.l2, lead.demand, lead.urgency,
            inc.community.street_code, inc.community.code, inc.lon, inc.lat, delivered[0].received, lead.channel,
            lead.source_id, f.unit, f.dispatched_at, f.signed_at, f.deadline_at, f.extended_deadline_at,
            f.closed_at, f.rating, f.reopened, f.returned, f.urge_count, f.answered_directly,
            inc.hard_negative_of, inc.hard_negative_kind, inc.estate))

    # ---------------------------------------------------------------- one report
    def _report(self, inc: Incident, channel: str, t: datetime, person: Person, intakes: list[Intake],
                primary: bool) -> None:
        rnd = self.rnd
        random = rnd.random
        if t.microsecond:
            t = H.whole_seconds(t)
        self._again = person.pid in inc.reporters  # a person reporting again often says so
        inc.reporters.add(person.pid)
        demand = inc.demand if random() < 0.8 else _weighted(rnd, DEMAND_PROFILES[inc.kind.demand])
        urgency = inc.urgency if random() < 0.85 else _weighted(rnd, URGENCY_PROFILES[inc.kind.urgency])
        if channel == "12345":
            dup_of = next((i.source_id for i in intakes if i.channel == "12345"), None)
            intakes.append(self._emit_12345(inc, t, person, demand, urgency, dup_of, relayed=False))
        elif channel == "110":
            intake, handed_at = self._emit_110(inc, t, person)
            intakes.append(intake)
            if handed_at is not None:
                self.relays += 1
                t2 = handed_at + timedelta(0, 60 * rnd.randint(*RELAY_MINUTES))
                if t2 < self.end:
                    self._again = False  # the same call passed on, not the person calling again
                    intakes.append(self._emit_12345(inc, t2, person, demand, urgency, None, relayed=True))
        elif channel == "hotline":
            intakes.append(self._emit_hotline(inc, t, person, demand))
        else:
            intakes.append(self._emit_petition(inc, t, person, demand, primary))

    def _content(self, inc: Incident, channel: str, addr: str) -> tuple[str, str]:
        rnd = self.rnd
        random = rnd.random
        kind = inc.kind
        place = T.place_phrase(addr, inc.estate, rnd)
        titles, details = kind.titles, kind.details
        title = titles[int(random() * len(titles))].replace("{p}", inc.estate if random() < 0.6 else place)
        body = T.word_report(rnd, channel, details[int(random() * len(details))], place)
        if self._again and random() < 0.6:
            body = rnd.choice(AGAIN_PREFIXES) + body if random() < 0.5 else body + rnd.choice(AGAIN_SUFFIXES)
        return T.disturb(rnd, title, 0.5), body

    def _address(self, inc: Incident) -> str:
        style = inc.address_style if self.rnd.random() < 0.6 else self.rnd.choice(("estate", "road", "crossing"))
        return T.address(self.rnd, inc.community, inc.estate, inc.lon, inc.lat, style)

    def _jitter(self, lon: float, lat: float) -> tuple[float, float]:
        return lon + self.rnd.gauss(0, 0.0004), lat + self.rnd.gauss(0, 0.00035)

    # ---------------------------------------------------------------- 12345
    def _emit_12345(self, inc: Incident, t: datetime, person: Person, demand: str, urgency: str,
                    dup_of: str | None, relayed: bool) -> Intake:
        rnd = self.rnd
        random = rnd.random
        gdbh = f"BH12345{_ymd(t)}{self._next(('12345', t.date())):04d}"
        addr = self._address(inc)
        title, content = self._content(inc, "12345", addr)
        if relayed:
            content = "110转来：" + content
        kind = inc.kind if random() < 0.88 else rnd.choice(self.siblings[inc.kind.l1])
        fl1, fl2, fl3 = kind.fl
        withheld = random() < 0.08
        anonymous = random() < 0.15
        r = random()
        xzqh = DISTRICT_CODE if r < 0.4 else inc.community.street_code if r < 0.6 else inc.community.code if r < 0.75 else ""
        r = random()
        jd = inc.community.street_name if r < 0.55 else STREET_OLD_NAMES.get(inc.community.street_code, "") if r < 0.65 else ""
        if random() < 0.8:
            zbx, zby = T.wgs84_to("gcj02", *self._jitter(inc.lon, inc.lat))
            # most points are precise; some were geocoded coarsely (3 decimals, ~100 m) by the call-taker's map
            digits = 3 if random() < 0.06 else 6
            zbx, zby = round(zbx, digits), round(zby, digits)
        else:
            zbx = zby = None if random() < 0.6 else 0
        glgdbh = ""
        if dup_of and random() < 0.2:  # the call-taker linked it by hand
            glgdbh = dup_of
        elif self.recent_gdbh and random() < 0.02:
            glgdbh = rnd.choice(self.recent_gdbh)  # a call-taker's wrong manual link
        self.recent_gdbh.append(gdbh)
        if len(self.recent_gdbh) > 500:
            del self.recent_gdbh[:250]
        received = H.to_seconds(t)
        events = H.plan_12345(rnd, received, demand, urgency, inc.unit, inc.kind.fix, dup_of)
        slsj = H.seconds_text(received)  # t is at whole seconds: the same text as _fmt(t)
        ldhm = "" if withheld else T.format_phone(person.phone, rnd)
        sqrxm = "匿名" if anonymous else person.short_name
        sfbm = "1" if anonymous and random() < 0.6 else "0"
        sfdz = addr if random() < 0.97 else ""
        fl3 = fl3 if random() < 0.6 else ""
        # The head (fields gdbh ... jjcd) never changes: written once, as json.dumps would (", " and ": "
        # separators; only the free texts can hold a character JSON must escape).
        head_rest = (f'"ldhm": "{ldhm}", "sqrxm": "{sqrxm}", "sfbm": "{sfbm}", "sqlx": "{demand}", '
                     f'"sqbt": {_json_text(title)}, "sqnr": {_json_text(content)}, "sfdz": {_json_text(sfdz)}, '
                     f'"xzqh": "{xzqh}", "jd": "{jd}", "zbx": {_json_number(zbx)}, "zby": {_json_number(zby)}, '
                     f'"fl1": "{fl1}", "fl2": "{fl2}", "fl3": "{fl3}", "jjcd": "{urgency}"')
        head = f'{{"gdbh": "{gdbh}", "slsj": "{slsj}", {head_rest}'
        end = self.end_s
        delivered = [e for e in events if e[0] < end]
        # the facts the order shows after its last delivered event (the truth), and each event as the store
        # keeps it: (time, action, unit, note, the new deadline of a dispatch else 0)
        unit = dispatched = signed = deadline = extended = closed = rating = None
        returned = reopened = answered = False
        urges = 0
        first_dispatch = len(delivered)
        plan = []
        for pos, e in enumerate(delivered):
            gx, action, actor, note = e[0], e[1], e[2], e[3]
            new_deadline = 0
            if action == "派单" or action == "改派":
                if dispatched is None:
                    dispatched, first_dispatch = gx, pos
                unit, signed = actor, None
                deadline = new_deadline = int(H.deadline_12345(gx, demand, urgency))
            elif action == "签收":
                signed = gx
            elif action == "退单":
                returned = True
            elif action == "延期批准":
                extended = e[4]
            elif action == "催办":
                urges += 1
            elif action == "办结" or action == "直接答复":
                closed = gx
                answered = answered or action == "直接答复"
            elif action == "回访":
                rating = note if note in H.RATINGS else None
            elif action == "重办":
                reopened, closed, rating = True, None, None
            plan.append((gx, action, actor, note, new_deadline))
        # only superseded versions are broken: the order's first and latest versions always arrive intact (the
        # first is the head an order line starts with)
        bad = None
        fault_rate = self.cfg.fault_rate
        for pos in range(1, len(plan) - 1):
            if random() < fault_rate:
                field = rnd.choice(("slsj", "pdsj")) if pos >= first_dispatch else "slsj"
                broken = (field, rnd.choice(("2024-02-30 25:61:00", "", "昨天下午", "20240305") if field == "slsj"
                                            else ("2024-13-01 08:00:00", "待定")))
                if bad is None:
                    bad = {}
                bad[pos] = broken
        buf = self.buf_12345
        dates, day_seconds = self._dates, H.DAY_S
        if plan and self.cfg.compact_12345:
            # the order store: the order once, in the file of its first version; the server renders its versions
            faults = (tuple((f"bad_{field}", H.from_seconds(plan[k][0])) for k, (field, _) in sorted(bad.items()))
                      if bad else ())
            gx = plan[0][0]
            buf[dates.get(gx // day_seconds) or self._date_of(gx)].append(
                (H.seconds_text(gx), gdbh, S.order_line(head, glgdbh, plan, bad), faults))
        elif plan:
            for pos, line in enumerate(S.render_versions(head, glgdbh, plan, bad)):
                gx = plan[pos][0]
                broken = bad.get(pos) if bad else None
                buf[dates.get(gx // day_seconds) or self._date_of(gx)].append(
                    (H.seconds_text(gx), gdbh, line.encode("utf-8"),
                     ((f"bad_{broken[0]}", H.from_seconds(gx)),) if broken else ()))
        if not delivered:
            return Intake("12345", gdbh, t, person, H.Facts(), demand, urgency)
        at = H.from_seconds
        facts = H.Facts(unit=unit, dispatched_at=at(dispatched) if dispatched is not None else None,
                        signed_at=at(signed) if signed is not None else None,
                        deadline_at=at(deadline) if deadline is not None else None,
                        extended_deadline_at=at(extended) if extended is not None else None,
                        closed_at=at(closed) if closed is not None else None, rating=rating,
                        reopened=reopened, returned=returned, urge_count=urges, answered_directly=answered,
                        status=H.STATUS_AFTER[delivered[-1][1]])
        return Intake("12345", gdbh, t, person, facts, demand, urgency)

    def _date_of(self, s: int) -> date:
        """The calendar day of a time on the integer clock (the key of the day buffers)."""
        day = s // H.DAY_S
        found = self._dates.get(day)
        if found is None:
            found = self._dates[day] = H.from_seconds(day * H.DAY_S).date()
        return found

    # ---------------------------------------------------------------- 110
    def _emit_110(self, inc: Incident, t: datetime, person: Person) -> tuple[Intake, datetime | None]:
        rnd = self.rnd
        random = rnd.random
        jqbh = f"{DISTRICT_CODE}{_ymd(t)}{self._next(('110', t.date())):04d}"
        addr = self._address(inc)
        _, content = self._content(inc, "110", addr)
        if random() < 0.08:
            content = content.replace("，", "，\n", 1)  # dispatchers' line breaks inside a quoted field
        if random() < 0.05:
            content += "（报警人情绪\"激动\"）"
        handed_at = t + timedelta(0, 60 * rnd.randint(*HAND_OVER_MINUTES))
        to_platform = random() < 0.7
        unit_text = "12345平台" if to_platform else (UNITS.get(inc.unit, inc.unit) if random() < 0.4 else inc.unit)
        station = POLICE_STATIONS[int(inc.community.street_code[-3:]) % len(POLICE_STATIONS)]
        fb_at = None
        fb_text, status = "", "已转办"
        r = random()
        if to_platform and r < 0.6:
            fb_at, fb_text, status = handed_at + timedelta(0, 60 * rnd.randint(5, 120)), "已转12345平台受理", "已反馈"
        elif not to_platform and r < 0.75:
            fb_at = handed_at + timedelta(hours=rnd.uniform(1, 30))
            fb_text, status = f"{unit_text}已到场处置，{inc.kind.fix}", "已反馈"
        elif not to_platform and r < 0.8:
            fb_at, fb_text, status = handed_at + timedelta(hours=rnd.uniform(1, 12)), "非本单位职责，已退回", "已退回"
        phone = "" if random() < 0.03 else T.format_phone(person.phone, rnd)
        name = person.short_name if random() < 0.3 else ""
        category = inc.kind.jq110 if random() < 0.9 else "其他求助"
        base = [jqbh, f"{t.year}/{t.month}/{t.day} {t.hour}:{t.minute:02d}:{t.second:02d}", phone, name, category,
                content, addr, station, _110_time(handed_at), unit_text]
        day_end = datetime.combine(t.date() + timedelta(days=1), time())
        v1 = base + ([fb_text, _110_time(fb_at), status] if fb_at and fb_at < day_end else ["", "", "已转办"])
        v2_end = min(self.end, day_end + timedelta(days=1))
        v2 = base + ([fb_text, _110_time(fb_at), status] if fb_at and fb_at < v2_end else ["", "", "已转办"])
        # the call's time as seconds on the integer clock: it orders the rows, and an int pickles 5x faster than
        # a datetime on its way through the day's shard
        self.buf_110[t.date()].append((H.to_seconds(t), jqbh, v1, v2))
        facts = H.Facts()
        if not to_platform:
            facts.unit, facts.dispatched_at = inc.unit, handed_at
        return Intake("110", jqbh, t, person, facts, inc.demand, inc.urgency), (handed_at if to_platform else None)

    # ---------------------------------------------------------------- hotline
    def _emit_hotline(self, inc: Incident, t: datetime, person: Person, demand: str) -> Intake:
        rnd = self.rnd
        random = rnd.random
        code, cat_code, cat_name = inc.kind.hotline
        ticket = f"{HOTLINE_PREFIX[code]}{t:%y%m%d}{self._next((code, t.date())):04d}"
        addr = self._address(inc)
        title, content = self._content(inc, "12315" if code == "12315" else "hotline", addr)
        crs = rnd.choice(HOTLINE_CRS[code] + ("bd09",) if random() < 0.1 else HOTLINE_CRS[code])
        location = f'{{"address": {_json_text(addr)}, '
        if random() < 0.9:
            lng, lat = T.wgs84_to(crs, *self._jitter(inc.lon, inc.lat))
            location += f'"lng": {_json_number(round(lng, 6))}, "lat": {_json_number(round(lat, 6))}, '
        location += f'"crs": "{crs}"}}'
        epoch = random() < 0.3
        versions, due = H.plan_hotline(rnd, t, demand, inc.unit)
        assignee = UNITS.get(inc.unit, inc.unit) if random() < 0.7 else inc.unit
        phone = "" if random() < 0.1 else T.format_phone(person.phone, rnd)
        name = "" if random() < 0.4 else person.short_name
        extra_key = rnd.choice(EXTRA_HOTLINE_KEYS) if random() < 0.1 else None
        delivered = [v for v in versions if v[0] < self.end]
        facts = H.Facts(unit=inc.unit, dispatched_at=t, deadline_at=due)
        # a ticket line as json.dumps writes the record (", " and ": " separators); the part from `caller` to
        # `due_at` is the same in every version
        head = f'{{"hotline": "{code}", "ticket_id": "{ticket}", "received_at": '
        received = _json_time(t, epoch)
        middle = (f', "caller": {{"phone": "{phone}", "name": "{name}"}}, "summary": {_json_text(title)}, '
                  f'"detail": {_json_text(content)}, "location": {location}, '
                  f'"category": {{"code": "{cat_code}", "name": "{cat_name}"}}, "assignee": "{assignee}", '
                  f'"due_at": {_json_time(due, epoch)}, ')
        for pos, (updated, status, closed, score) in enumerate(delivered):
            tail = (f'"closed_at": {_json_time(closed, epoch)}, "status": "{status}", '
                    f'"rating": {_json_value(score)}, '
                    f'"updated_at": {_json_time(updated, epoch and random() < 0.5)}')
            if extra_key:
                tail += f', "{extra_key[0]}": {json_bytes(rnd.choice(extra_key[1])).decode("utf-8")}'
            line = f"{head}{received}{middle}{tail}}}"  # str: a truncated line is cut between characters
            fault = None
            if pos < len(delivered) - 1 and random() < self.cfg.fault_rate * 1.5:
                fault = rnd.choice(("truncated_line", "bad_datetime"))
                if fault == "truncated_line":
                    line = line[: rnd.randint(20, len(line) - 5)]
                else:
                    line = f'{head}"2024-13-45T25:00:00+08:00"{middle}{tail}}}'
            self.buf_hotline[(code, updated.date())].append((H.to_seconds(updated), ticket, line, fault))
            facts.closed_at = closed
            facts.rating_score = score
            facts.rating = H.SCORE_TO_RATING.get(score) if score else None
            facts.status = status
        return Intake("hotline", f"{code}:{ticket}", t, person, facts, demand, inc.urgency)

    # ---------------------------------------------------------------- petition
    def _emit_petition(self, inc: Incident, t: datetime, person: Person, demand: str, primary: bool) -> Intake:
        rnd = self.rnd
        registered = t.date()
        number = f"XF{DISTRICT_CODE}{registered.year}{self._next(('petition', registered.year)):06d}"
        addr = self._address(inc)
        _, content = self._content(inc, "petition", addr)
        if not primary:
            content += rnd.choice(("此前已多次向12345反映，问题仍未解决。", "多次反映无果，请求领导督办。", ""))
        if not person.id_no:
            person.full_name = person.short_name[0] + "".join(rnd.choice(T.GIVEN) for _ in range(rnd.choice((1, 2, 2))))
            person.id_no = T.id_number(rnd)
        versions = H.plan_petition(rnd, registered)
        group = rnd.random() < 0.05
        static = [number, None, PETITION_FORM_CHOICE.pick(rnd), person.full_name, person.id_no,
                  T.format_phone(person.phone, rnd), rnd.randint(5, 30) if group else 1,
                  addr if rnd.random() < 0.7 else f"{T.DISTRICT_NAME}{inc.community.street_name}",
                  PETITION_PURPOSE_CHOICE.pick(rnd), inc.kind.petition, content, inc.unit]
        marked = "是" if (not primary and rnd.random() < 0.6) or rnd.random() < 0.05 else "否"
        deadline = registered + timedelta(days=PETITION_DAYS)
        self.buf_petition[registered].append({"number": number, "registered": registered, "static": static, "versions": versions,
                               "deadline": deadline, "marked": marked, "date_text": rnd.random() < 0.15})
        facts = H.Facts(unit=inc.unit, dispatched_at=datetime.combine(registered, time()),
                        deadline_at=datetime.combine(deadline, time()))
        for when, status, closed, rating in versions:
            if when <= self.export_days[-1]:  # changes after the last export are not delivered
                facts.status = status
                facts.closed_at = datetime.combine(closed, time()) if closed else None
                facts.rating = rating if rating != "未评价" else None
        return Intake("petition", number, datetime.combine(registered, time()), person, facts, demand, inc.urgency)


def petition_export_days(config: SimulationConfig) -> list[date]:
    """Weekly exports (every 7th day) plus one on the last day, so every registered petition is delivered."""
    days = [config.start + timedelta(days=d) for d in range(config.days) if d % 7 == 6]
    last = config.start + timedelta(days=config.days - 1)
    if not days or days[-1] != last:
        days.append(last)
    return days


def truth_part_path(strand_dir: Path, name: str) -> Path:
    """A strand's part of truth table `name` ("intakes" or "incidents"), an Arrow IPC file."""
    return strand_dir / f"{name}.arrow"


def shard_path(strand_dir: Path, day: date) -> Path:
    """A strand's shard of `day`: its rows of every feed's files of that day."""
    return strand_dir / f"{day:%Y%m%d}.pkl"


def _run_strand(args: tuple) -> dict:
    config, strand, shard_dir = args
    stats = Strand(config, strand, shard_dir).run()
    stats["finished_at"] = time_module.perf_counter()  # the monotonic clock is the machine's: the parent compares
    return stats


class RunningStrands:
    """The strands running in a worker pool, as the file phase waits for them: a day's files can be written once
    every strand has written its shard of that day (`Strand._write_shard` makes each appear whole), a strand's
    truth part once that strand has finished."""

    POLL_SECONDS = 0.05

    def __init__(self, shard_dir: Path, running: list[multiprocessing.pool.AsyncResult]):
        self.shard_dir, self.running = shard_dir, running

    def wait_for_day(self, day: date) -> None:
        for strand, running in enumerate(self.running):
            shard = shard_path(self.shard_dir / f"strand_{strand}", day)
            while not shard.exists():
                if running.ready():
                    running.get()  # raises the strand's error if it failed
                    if not shard.exists():
                        raise RuntimeError(f"strand {strand} finished without writing its shard of {day}")
                time_module.sleep(self.POLL_SECONDS)

    def wait_for_strand(self, strand: int) -> dict:
        """The strand's statistics, once it has finished (its truth parts are complete then)."""
        return self.running[strand].get()


@contextmanager
def fewer_gc_passes():
    """Generating and merging versions allocates millions of small objects and creates almost no reference
    cycles: collecting every 700 allocations (the default) cost ~20 % of the CPU time. Collect far less often
    there — and only there: openpyxl workbooks (petition exports) are cyclic garbage that must be collected."""
    previous = gc.get_threshold()
    gc.set_threshold(100_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def validate(config: SimulationConfig) -> None:
    if config.days < 1 or config.per_day < 1:
        raise ValueError("days and per_day must be at least 1")
    if not 0.0 <= config.fault_rate <= 0.5:
        raise ValueError("fault_rate must be between 0 and 0.5")
    if not 0.0 <= config.repeat_share < 0.6:
        raise ValueError("repeat_share must be between 0 and 0.6")


def simulate(config: SimulationConfig, landing: Path, truth: Path, workers: int = 1) -> SimulationSummary:
    """Write the four feeds into `landing` and the ground truth into `truth`.

    The same config gives the same bytes whatever `workers` is: the strands are fixed, workers only run them
    in parallel; the merge of their shards into delivery files is seeded and in day order (workers write the
    12345 and hotline files of different days, which draw no random numbers).
    """
    from simulator.feeds import FeedWriter

    validate(config)
    landing, truth = Path(landing), Path(truth)
    truth.mkdir(parents=True, exist_ok=True)
    shard_dir = Path(tempfile.mkdtemp(prefix=".shards-", dir=truth))
    try:
        jobs = [(config, s, shard_dir) for s in range(STRANDS)]
        started = time_module.perf_counter()
        writer = FeedWriter(config, landing, truth, shard_dir)
        with fewer_gc_passes():
            if workers > 1:
                # this process writes each day's files while the strands still run (as soon as every strand is
                # past that day), instead of after them: the file phase overlaps the last strands' run
                with fork_pool(min(workers, STRANDS)) as pool:
                    strands = RunningStrands(shard_dir, [pool.apply_async(_run_strand, (job,)) for job in jobs])
                    writer.write_all(strands)
                    stats = [strands.wait_for_strand(s) for s in range(STRANDS)]
                generated = max(s["finished_at"] for s in stats)
            else:
                stats = [_run_strand(j) for j in jobs]
                generated = time_module.perf_counter()
                writer.write_all()
        seconds = {"strands": round(generated - started, 1),
                   "files_after_strands": round(time_module.perf_counter() - generated, 1)}
        peaks = {"parent": round(peak_rss_mb(), 1), "strand_workers": max(s["peak_rss_mb"] for s in stats)}
    finally:
        shutil.rmtree(shard_dir, ignore_errors=True)
    by_channel = {c: sum(s["by_channel"][c] for s in stats) for c in CHANNEL_ORDER}
    total = sum(by_channel.values())
    placement = {k: sum(s["placement"][k] for s in stats) for k in stats[0]["placement"]}
    return SimulationSummary(by_channel, sum(s["incidents"] for s in stats),
                             sum(s["non_lead"] for s in stats) / total if total else 0.0,
                             len(writer.malformed), sorted(writer.files), placement, seconds, peaks,
                             [s["cpu_seconds"] for s in stats])


def _110_time(t: datetime | None) -> str:
    return "" if t is None else f"{t.year}/{t.month}/{t.day} {t.hour}:{t.minute:02d}:{t.second:02d}"


def _json_time(t: datetime | None, epoch: bool) -> str:
    """A hotline time as JSON text: epoch milliseconds, or an ISO-8601 string with +08:00; null for none."""
    if t is None:
        return "null"
    if epoch:
        return str(int((t - EPOCH_CST).total_seconds() * 1000))
    return f'"{t.isoformat("T", "seconds")}{CST_OFFSET}"'


_TIME_AND_ID = itemgetter(0, 1)  # a buffered record's (time, id)
_INTAKE_ORDER = attrgetter("received", "channel", "source_id")


def _lead(delivered: list[Intake]) -> Intake:
    """The lead among delivered intakes (domain.md): the earliest dispatched to a unit, else the earliest."""
    dispatched = [i for i in delivered if i.facts.dispatched_at is not None]
    return min(dispatched or delivered, key=_INTAKE_ORDER)


def _lead_of(intakes: list[Intake], end: datetime) -> Intake | None:
    """The lead among the intakes delivered before `end`, as _finalise will pick it; None when none is."""
    delivered = [i for i in intakes if i.received < end]
    return _lead(delivered) if delivered else None


HOUR_CHOICE = WeightedChoice(range(24), HOURLY)
HOUR_CHOICE_NIGHT = WeightedChoice(range(24), HOURLY_NIGHT)
ADDRESS_STYLE_CHOICE = WeightedChoice(("estate", "road", "crossing"), (0.5, 0.2, 0.3))
PETITION_FORM_CHOICE = WeightedChoice(*zip(*PETITION_FORMS))
PETITION_PURPOSE_CHOICE = WeightedChoice(*zip(*PETITION_PURPOSES))
