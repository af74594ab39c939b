"""包河区 (340111) as the simulator sees it: streets and communities from the official division codes,
a plausible WGS-84 point for each, a grid of real road names, and 小区 names per community.

The coordinates are synthetic but consistent: a community lies near its street's centre, an incident near
its community, and the roads named in an address are the ones nearest to the incident's point, so that
"neighbouring roads" are really a few hundred metres apart.
"""
from __future__ import annotations

import csv
import math
import random
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

DISTRICT_CODE = "340111"
DISTRICT_NAME = "包河区"
CITY_NAME = "合肥市"
DIVISIONS_CSV = Path(__file__).parent / "data" / "divisions_340111.csv"

# Approximate centres (WGS-84) of the 13 streets/towns, inside 117.28-117.40 E, 31.70-31.86 N.
STREET_CENTRES: dict[str, tuple[float, float]] = {
    "340111003": (117.290, 31.850),  # 芜湖路街道
    "340111004": (117.302, 31.838),  # 包公街道
    "340111011": (117.318, 31.848),  # 同安街道
    "340111002": (117.286, 31.826),  # 常青街道
    "340111005": (117.284, 31.800),  # 望湖街道
    "340111001": (117.306, 31.800),  # 骆岗街道
    "340111010": (117.330, 31.815),  # 万年埠街道
    "340111007": (117.352, 31.790),  # 烟墩街道
    "340111100": (117.372, 31.818),  # 淝河镇
    "340111009": (117.322, 31.760),  # 方兴社区街道
    "340111008": (117.292, 31.738),  # 滨湖世纪社区街道
    "340111006": (117.315, 31.712),  # 义城街道
    "340111102": (117.388, 31.760),  # 大圩镇
}
# Old or colloquial street names that feeds sometimes use in `jd` instead of the official one.
STREET_OLD_NAMES: dict[str, str] = {
    "340111008": "滨湖世纪社区",
    "340111009": "方兴社区",
    "340111100": "淝河镇人民政府",
    "340111102": "大圩",
}

# Road grid: north-south roads at a fixed longitude, east-west roads at a fixed latitude (~0.8-0.9 km apart).
NS_ROADS = ["金寨南路", "徽州大道", "马鞍山路", "宁国南路", "包河大道", "屯溪路", "东流路", "紫云路", "云谷路",
            "花园大道", "铜陵南路", "龙川路", "圩南路", "滨湖大道"]
EW_ROADS = ["义城路", "庐州大道", "巢湖路", "中山路", "西藏路", "福州路", "成都路", "天津路", "广西路", "南京路",
            "锦绣大道", "洞庭湖路", "延安路", "骆岗路", "南宁路", "太湖路", "九华山路", "望江东路", "合作化南路",
            "芜湖路"]
NS_LON0, NS_STEP = 117.280, 0.009
EW_LAT0, EW_STEP = 31.704, 0.008
ESTATES_PER_COMMUNITY = 8
ESTATE_MIN_SEPARATION_M = 320.0
# A crossing named without an offset (`A与B路口`) only when the place is this close to it; farther away the
# offset is always given (`A与B交口东300米`), so a bare crossing name identifies one spot, not a whole grid cell.
BARE_CROSSING_MAX_M = 100
M_PER_DEG_LAT = 111_000.0
M_PER_DEG_LON = 111_000.0 * math.cos(math.radians(31.78))

ESTATE_PREFIXES = ["滨湖", "和园", "绿地", "万科", "保利", "融科", "金色", "翡翠", "华润", "中海", "碧桂园", "龙湖",
                   "世纪", "春晓", "惠园", "康园", "润园", "嘉园", "锦园", "望湖", "南湖", "明珠", "阳光", "金湖",
                   "新加坡", "琥珀", "天鹅湖", "香格里拉", "东方", "蓝海", "银杏", "枫林", "紫薇", "海棠", "丁香",
                   "梧桐", "安居", "幸福", "御景", "学府", "湖畔", "兰亭", "祥源", "宝文", "公元", "徽园", "包河",
                   "恒大", "绿城", "金地", "招商", "信达", "荣盛", "新城", "旭辉", "正荣", "大华", "铜锣湾", "橡树",
                   "观湖", "临湖", "云谷", "庐阳", "巢湖", "淝河", "骆岗", "紫云", "芙蓉", "玫瑰", "桂花", "樱花",
                   "百合", "牡丹", "水岸", "山水", "书香", "文华", "锦绣", "金桥", "红星", "永和"]
# every estate name is unique in the district: ESTATE_PREFIXES x ESTATE_SUFFIXES must exceed the estates needed
ESTATE_SUFFIXES = ["花园", "小区", "家园", "公寓", "新村", "苑", "城", "名邸", "雅苑", "嘉苑", "国际", "府", "湾",
                   "世家", "佳苑", "华庭"]


@dataclass(frozen=True)
class Community:
    code: str
    name: str
    street_code: str
    street_name: str
    lon: float
    lat: float
    estates: tuple[str, ...] = field(default=())
    estate_points: tuple[tuple[float, float], ...] = field(default=())  # WGS-84 centre of each estate


@dataclass(frozen=True)
class District:
    streets: dict[str, str]  # street code -> official name
    communities: tuple[Community, ...]

    def street_office(self, street_code: str) -> str:
        name = self.streets[street_code]
        return f"包河区{name}人民政府" if name.endswith("镇") else f"{name}办事处"


def _short_name(community_name: str) -> str:
    for tail in ("社区居民委员会", "居民委员会", "居委会", "村委会", "社区"):
        if community_name.endswith(tail):
            return community_name[: -len(tail)]
    return community_name


@lru_cache(maxsize=1)
def load_district() -> District:
    streets: dict[str, str] = {}
    rows = []
    with DIVISIONS_CSV.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["level"] == "street":
                streets[row["code"]] = row["name"]
            elif row["level"] == "community":
                rows.append(row)
    used_estates: set[str] = set()
    communities = []
    for row in rows:
        street = row["parent_code"]
        rnd = random.Random(int(row["code"]))  # fixed per community: geography never depends on the seed
        cx, cy = STREET_CENTRES[street]
        lon = min(117.398, max(117.282, cx + rnd.uniform(-0.012, 0.012)))
        lat = min(31.858, max(31.702, cy + rnd.uniform(-0.010, 0.010)))
        short = _short_name(row["name"])
        estates = [f"{short}小区"] if rnd.random() < 0.5 and f"{short}小区" not in used_estates else []
        used_estates.update(estates)
        while len(estates) < ESTATES_PER_COMMUNITY:
            name = rnd.choice(ESTATE_PREFIXES) + rnd.choice(ESTATE_SUFFIXES)
            if name not in used_estates:
                used_estates.add(name)
                estates.append(name)
        points = _estate_points(lon, lat, rnd)
        communities.append(Community(row["code"], row["name"], street, streets[street], lon, lat, tuple(estates),
                                     points))
    return District(streets, tuple(communities))


def _estate_points(lon: float, lat: float, rnd: random.Random) -> tuple[tuple[float, float], ...]:
    """Estates spread around the community centre, at least ESTATE_MIN_SEPARATION_M apart where possible, so two
    estates are two places (an incident lies within ~100 m of its estate's centre)."""
    points: list[tuple[float, float]] = []
    for attempt in range(200):
        p = (min(117.398, max(117.282, lon + rnd.gauss(0, 0.004))),
             min(31.858, max(31.702, lat + rnd.gauss(0, 0.0035))))
        if attempt > 150 or all(distance_m(*p, *q) >= ESTATE_MIN_SEPARATION_M for q in points):
            points.append(p)
            if len(points) == ESTATES_PER_COMMUNITY:
                break
    return tuple(points)


def nearest_roads(lon: float, lat: float) -> tuple[int, int]:
    """Index of the nearest north-south and east-west road."""
    i = min(len(NS_ROADS) - 1, max(0, round((lon - NS_LON0) / NS_STEP)))
    j = min(len(EW_ROADS) - 1, max(0, round((lat - EW_LAT0) / EW_STEP)))
    return i, j


def _from_nearest_crossing(lon: float, lat: float) -> tuple[int, int, float, float]:
    """The nearest north-south and east-west road (indices) and the point's offset east and north of their
    crossing, in metres."""
    i, j = nearest_roads(lon, lat)
    return (i, j, (lon - (NS_LON0 + i * NS_STEP)) * M_PER_DEG_LON, (lat - (EW_LAT0 + j * EW_STEP)) * M_PER_DEG_LAT)


@lru_cache(maxsize=1 << 14)  # every report of an incident, and its placement checks, ask about the same point
def crossing_offset(lon: float, lat: float) -> tuple[str, str, str, int]:
    """(road A, road B, direction, metres) for a description like `A与B交口东50米`."""
    i, j, dx, dy = _from_nearest_crossing(lon, lat)
    if abs(dx) >= abs(dy):
        direction, metres = ("东" if dx > 0 else "西"), abs(dx)
    else:
        direction, metres = ("北" if dy > 0 else "南"), abs(dy)
    metres = max(10, int(round(metres / 10.0)) * 10)
    return NS_ROADS[i], EW_ROADS[j], direction, metres


# House numbers run along each road from the district's west edge (an east-west road) or south edge (a north-south
# road), a pair (odd on the north or east side, even on the other) every HOUSE_NUMBER_SPACING_M.
HOUSE_NUMBER_SPACING_M = 20.0


@lru_cache(maxsize=1 << 14)
def road_number(lon: float, lat: float) -> tuple[str, int]:
    """The road a point lies on (the nearer of its two nearest grid roads) and the house number it has there."""
    i, j, dx, dy = _from_nearest_crossing(lon, lat)
    if abs(dy) <= abs(dx):  # nearer the east-west road
        road, along, north_or_east = EW_ROADS[j], (lon - NS_LON0) * M_PER_DEG_LON, dy > 0
    else:
        road, along, north_or_east = NS_ROADS[i], (lat - EW_LAT0) * M_PER_DEG_LAT, dx > 0
    return road, 2 * max(0, int(along // HOUSE_NUMBER_SPACING_M)) + (1 if north_or_east else 2)


def neighbouring_point(lon: float, lat: float, rnd: random.Random) -> tuple[float, float]:
    """A point one road further along the grid (about 800-900 m away): the 'neighbouring road' hard negative."""
    return neighbouring_points(lon, lat, rnd)[0]


def neighbouring_points(lon: float, lat: float, rnd: random.Random) -> list[tuple[float, float]]:
    """The points one road further along the grid in each direction inside the district, the randomly preferred
    one first (the others are fall-backs when that one is taken)."""
    along_ns = rnd.random() < 0.5
    ew = [(lon + NS_STEP, lat), (lon - NS_STEP, lat)] if lon + NS_STEP < 117.398 else [(lon - NS_STEP, lat)]
    ns = [(lon, lat + EW_STEP), (lon, lat - EW_STEP)] if lat + EW_STEP < 31.858 else [(lon, lat - EW_STEP)]
    ordered = ew + ns if along_ns else ns + ew
    return [p for p in ordered if 117.281 <= p[0] <= 117.399 and 31.701 <= p[1] <= 31.859]


@lru_cache(maxsize=1 << 14)
def crossing_place_key(lon: float, lat: float) -> str:
    """The named place a crossing-style address gives for this point: the bare crossing near it, else the crossing
    with its offset (what `text.address` writes)."""
    a, b, direction, metres = crossing_offset(lon, lat)
    first, second = sorted((a, b))
    return f"{first}|{second}" if metres <= BARE_CROSSING_MAX_M else f"{first}|{second}|{direction}{metres}"


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    return math.hypot((lon1 - lon2) * M_PER_DEG_LON, (lat1 - lat2) * M_PER_DEG_LAT)
