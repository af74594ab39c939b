"""Normalisation for matching: the ONE place where intake text, addresses, coordinates and times are cleaned.

Everything here is a pure function of one intake's fields. The matcher never compares raw text.

* ``clean_text``     boilerplate removed, traditional -> simplified, full-width -> half-width, punctuation dropped
* ``parse_address``  free-text address -> ``AddressKeys`` (street, community, estate, road, crossing, number, offset)
* ``grid_cell``      WGS-84 point -> integer cell on a metric grid (blocking), ``distance_m`` for scoring
* ``epoch_seconds``  naive CST timestamp -> seconds (one clock for every time comparison)
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache

# Channel boilerplate: openings and closings that call-takers, dispatchers and clerks add to any report.
# Longest alternatives first so that '市民来电反映' wins over '来电反映'.
_BOILERPLATE_OPENINGS = (
    "市民来电反映", "市民来电称", "市民来电", "来电人反映", "来电人称", "来电反映", "来电称", "报警人称", "报警人反映",
    "报警称", "市民反映", "群众反映", "网民反映", "来信人反映", "来信反映", "信访人反映", "信访人称", "信访人",
    "据反映", "反映人称", "投诉人称", "举报人称", "诉求人称", "市民称", "居民反映", "居民称",
)
_BOILERPLATE_CLOSINGS = (
    "请相关部门尽快处理", "希望相关部门尽快处理", "希望有关部门尽快处理", "希望有关部门处理", "希望相关部门处理",
    "请有关部门尽快处理", "请有关部门处理", "请相关部门处理", "请尽快处理", "要求尽快处理", "要求处理", "请求处理",
    "望尽快解决", "请尽快解决", "希望尽快解决", "要求解决", "请予处理", "请核实处理", "望处理", "谢谢",
)
_OPENING_RE = re.compile("^(?:" + "|".join(sorted(_BOILERPLATE_OPENINGS, key=len, reverse=True)) + ")[:：,，]?")
# Phrases clerks add anywhere in a report, saying nothing about the problem itself.
_FILLER_PHRASES = (
    "已多次反映未解决", "多次反映无果", "多次反映未解决", "已多次反映", "请求领导督办", "存在安全隐患", "严重影响生活",
    "严重影响居民生活", "希望有关部门尽快解决", "希望相关部门尽快解决", "请相关部门核实处理", "请相关部门尽快处理",
    "希望有关部门处理", "来电人反应", "来电人反映", "来电人称", "市民来电咨询", "市民来电反映", "群众报警称", "报警人称",
    "报警人反映", "消费者反映", "信访人反映", "信访人称", "来信反映", "转来", "市民反映", "群众反映", "来电反映", "谢谢",
    "请尽快处理", "要求处理", "请核实处理",
)
_FILLER_RE = re.compile("|".join(sorted(set(_FILLER_PHRASES) | set(_BOILERPLATE_CLOSINGS), key=len, reverse=True)))
# Administrative prefixes that every address in the district may or may not carry: noise for matching.
_ADMIN_PREFIX_RE = re.compile(r"^(?:安徽省)?(?:合肥市)?(?:包河区)?")


def _build_translation() -> dict[int, str | None]:
    """One str.translate table: t2s characters, full-width ASCII -> ASCII, punctuation and spaces -> removed.

    opencc converts phrase by phrase and is slow per string; a character table derived from it once gives the same
    result for matching (phrase-level differences do not change character n-grams that matter) at C speed.
    """
    import opencc

    converter = opencc.OpenCC("t2s")
    table: dict[int, str | None] = {}
    for code in range(0x4E00, 0xA000):
        simplified = converter.convert(chr(code))
        if len(simplified) == 1 and simplified != chr(code):
            table[code] = simplified
    for code in range(0xFF01, 0xFF5F):  # full-width ! .. ~
        table[code] = chr(code - 0xFEE0)
    table[0x3000] = None  # ideographic space
    punctuation = "，。、；：？！…—～·‘’“”「」『』（）【】《》〈〉,.;:?!'\"()[]{}<>~`@#$%^&*_+=|\\/ \t\r\n-"
    for char in punctuation:
        table[ord(char)] = None
    # full-width punctuation maps to ASCII first and must also disappear
    for code in range(0xFF01, 0xFF5F):
        if chr(code - 0xFEE0) in punctuation:
            table[code] = None
    return table


@lru_cache(maxsize=1)
def _translation() -> dict[int, str | None]:
    return _build_translation()


@lru_cache(maxsize=1)
def _simplify_only() -> dict[int, str | None]:
    """t2s and full-width -> half-width, punctuation kept (address parsing needs separators such as '与')."""
    return {k: v for k, v in _translation().items() if v is not None} | {0x3000: " "}


def simplify(text: str | None) -> str:
    """Traditional -> simplified and full-width -> half-width, nothing else."""
    return (text or "").translate(_simplify_only()).strip()


# Words with which a report says the problem was reported before and is still there (再次来电, 第二次反映,
# 之前已反映过, 上次反映后没有回复, 此前已多次向12345反映, 还是没有修): found in the cleaned text (normalise_text
# has removed the clerks' stock phrases, such as 多次反映无果, already).
REPORTED_BEFORE = ("再次", "第二次", "之前已", "上次反映", "此前已", "多次反映", "又来电", "还是没")
_REPORTED_BEFORE_RE = re.compile("|".join(REPORTED_BEFORE))


def says_reported_before(clean_text: str) -> bool:
    """The cleaned text (clean_text's output) says the problem was reported before."""
    return _REPORTED_BEFORE_RE.search(clean_text) is not None


# The 12345 platform's note on a call the 110 dispatcher passed on: the same caller's 110 call, minutes earlier.
RELAY_FROM_110 = "110转来"


def relayed_from_110(content: str | None) -> bool:
    """True for a 12345 order that says it is a 110 call passed on to the platform."""
    return bool(content) and _relay_marker_re().match(content) is not None


def relayed_from_110_many(contents) -> np.ndarray:
    """[relayed_from_110(c) for c in contents] for an Arrow string column: the marker is first searched anywhere in
    the raw texts column-wise (RE2; a superset of the anchored match), the anchored pattern then runs only on the
    few texts that contain it."""
    import numpy as np
    import pyarrow.compute as pc

    body = _relay_marker_re().pattern
    assert body.startswith(_RELAY_LEAD)
    anywhere = pc.fill_null(pc.match_substring_regex(contents, re2_pattern(re.compile(body[len(_RELAY_LEAD):]))), False)
    maybe = np.flatnonzero(np.asarray(anywhere.to_numpy(zero_copy_only=False), dtype=bool))
    out = np.zeros(len(contents), dtype=bool)
    out[maybe] = [relayed_from_110(text) for text in contents.take(maybe).to_pylist()]
    return out


_RELAY_LEAD = r"\s*"  # leading white space before the marker (Python's \s: RE2's is ASCII only)


@lru_cache(maxsize=1)
def _relay_marker_re() -> re.Pattern:
    """RELAY_FROM_110 at the start of the simplified, stripped text with its spaces removed, as one pattern on the
    raw text: each marker character or any character simplify maps to it, spaces (' ', U+3000) between."""
    table = _simplify_only()
    spaces = "[ \u3000]*"
    parts = []
    for char in RELAY_FROM_110:
        sources = {char} if ord(char) not in table else set()
        sources |= {chr(code) for code, value in table.items() if value == char}
        parts.append("[" + "".join(re.escape(source) for source in sorted(sources)) + "]")
    return re.compile(_RELAY_LEAD + spaces.join(parts))


def clean_text(text: str | None) -> str:
    """Text ready for character comparison: no boilerplate, simplified, half-width, no punctuation or spaces."""
    if not text:
        return ""
    # one translate pass (t2s, half-width, punctuation out), then boilerplate: openings at the start, closings and
    # filler anywhere (closings end up mid-text once sentences are joined)
    text = text.translate(_translation()).lower()
    text = _OPENING_RE.sub("", text)
    return _FILLER_RE.sub("", text)


def char_bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)} if len(text) > 1 else ({text} if text else set())


# --- addresses ---------------------------------------------------------------------------------------------

_ROAD = r"[\u4e00-\u9fa5A-Za-z0-9]{1,10}?(?:大道|路|街|巷|大街|道)"
_CROSSING_RE = re.compile(rf"({_ROAD})(?:与|和|、|/|交|跟)?({_ROAD})(?:交叉口|交口|路口|十字路口|口|交汇处)")
_ROAD_NUMBER_RE = re.compile(rf"({_ROAD})(\d+)号")
_ROAD_RE = re.compile(_ROAD)
_STREET_RE = re.compile(r"([\u4e00-\u9fa5]{2,8}?)(?:街道办事处|街道|镇)")
_COMMUNITY_RE = re.compile(r"([\u4e00-\u9fa5]{2,8}?)社区")
_ESTATE_SUFFIXES = ("小区", "花园", "家园", "新村", "公寓", "苑", "园", "城", "府", "湾", "里", "庭", "郡", "居", "广场", "邸", "国际",
                    "世家", "公馆", "大厦")
_ESTATE_RE = re.compile(
    r"([\u4e00-\u9fa5A-Za-z0-9]{2,10}?(?:" + "|".join(sorted(_ESTATE_SUFFIXES, key=len, reverse=True)) + r"))"
    r"(?:[东南西北]?门|\d+栋|\d+幢|\d+号楼|\d+单元|小区|$)"
)
_BUILDING_RE = re.compile(r"(\d+)(?:栋|幢|号楼)")
_OFFSET_RE = re.compile(r"([东南西北])(?:侧|边|面)?(?:约)?(\d+)米")
# A crossing with an offset up to this many metres is the crossing itself (domain.md: one place is within 50-100 m);
# "A与B交口东300米" is another spot, 300 m along the road, and keeps its offset in the place key.
CROSSING_SPOT_M = 100


@dataclass(frozen=True)
class AddressKeys:
    street: str = ""  # 街道/镇 name without the suffix
    community: str = ""  # 社区 name without the suffix
    estate: str = ""  # 小区 / named compound, with its suffix, without '小区'
    building: str = ""  # building number inside the estate
    road: str = ""  # first road named
    crossing: str = ""  # two roads of a crossing, sorted, joined by '|': order-independent
    number: str = ""  # house number on the road
    offset: str = ""  # e.g. '东50' from '东50米'

    @property
    def place_key(self) -> str:
        """The most specific key that two reports of one place share, or '' when the address names no place."""
        if self.crossing:
            far = self.offset and int(self.offset[1:]) > CROSSING_SPOT_M
            return "x:" + self.crossing + ("|" + self.offset if far else "")
        if self.estate:
            return "e:" + self.estate
        if self.road and self.number:
            return f"n:{self.road}{self.number}"
        return ""


_COMPASS = {"东": (1.0, 0.0), "西": (-1.0, 0.0), "南": (0.0, -1.0), "北": (0.0, 1.0)}


def crossing_offset(place_key: str) -> tuple[str, float, float] | None:
    """The crossing a place key names and the spot's offset from it in metres: ('A|B', east, north) for 'x:A|B' (the
    crossing itself, offsets up to CROSSING_SPOT_M included) or 'x:A|B|北340'; None for another key."""
    if not place_key.startswith("x:"):
        return None
    crossing, _, offset = place_key[2:].rpartition("|") if place_key.count("|") > 1 else (place_key[2:], "", "")
    if not offset:
        return crossing, 0.0, 0.0
    east, north = _COMPASS[offset[0]]
    metres = float(offset[1:])
    return crossing, east * metres, north * metres


def _strip_road_prefix(road: str) -> str:
    # '包河区徽州大道' or '在徽州大道' -> keep the road name only
    road = _ADMIN_PREFIX_RE.sub("", road)
    return road.lstrip("在于位到至从")


def parse_address(address: str | None) -> AddressKeys:
    if not address:
        return AddressKeys()
    text = simplify(address).replace(" ", "")
    text = _ADMIN_PREFIX_RE.sub("", text)
    street = community = estate = building = road = crossing = number = offset = ""
    if m := _STREET_RE.search(text):
        street = m.group(1)
        text_wo_street = text[: m.start()] + text[m.end() :]
    else:
        text_wo_street = text
    if m := _COMMUNITY_RE.search(text_wo_street):
        community = m.group(1)
        text_wo_street = text_wo_street[: m.start()] + text_wo_street[m.end() :]
    if m := _CROSSING_RE.search(text_wo_street):
        first, second = _strip_road_prefix(m.group(1)), _strip_road_prefix(m.group(2))
        if first != second:
            crossing = "|".join(sorted((first, second)))
            road = first
    if m := _ROAD_NUMBER_RE.search(text_wo_street):
        road = road or _strip_road_prefix(m.group(1))
        number = m.group(2)
    if not road and (m := _ROAD_RE.search(text_wo_street)):
        road = _strip_road_prefix(m.group(0))
    if not crossing and (m := _ESTATE_RE.search(text_wo_street)):
        estate = m.group(1).removesuffix("小区")
        if estate.endswith(("路", "街", "道")):
            estate = ""
    if m := _BUILDING_RE.search(text_wo_street):
        building = m.group(1)
    if m := _OFFSET_RE.search(text_wo_street):
        offset = m.group(1) + m.group(2)
    return AddressKeys(street, community, estate, building, road, crossing, number, offset)


def _matches_from_each_start(pattern: re.Pattern, text: str):
    """pattern's leftmost match, then, while the caller refuses them, the match found from one character further."""
    start = 0
    while m := pattern.search(text, start):
        yield m
        start = m.start() + 1


def place_from_text(keys: AddressKeys, text: str, known_roads: frozenset[str]) -> AddressKeys:
    """keys completed with a crossing or a road number that the report's text names, when its address names no
    place (a petition's address is often the street only, the place is in the content). Only roads the batch's
    addresses name count, each the longest known suffix of what the pattern caught: a text is not an address, and
    the lazy road pattern starts right after the previous word ('征地款未足额发放云谷路313号')."""
    if keys.place_key or keys.estate or not text:
        return keys
    # the patterns are slow on long texts: a crossing ends in 口 or 交汇处, a road number in 号
    # a match whose first road is no known road may have begun too early ('在包河区滨湖世纪社区街' + '道宁国南路与福州路
    # 交口': 街 and 道 end a road name too): _matches_from_each_start searches again from the next character
    if "口" in text or "交汇处" in text:
        for m in _matches_from_each_start(_CROSSING_RE, text):
            first, second = _known_road(m.group(1), known_roads), _known_road(m.group(2), known_roads)
            if first and second and first != second:
                offset = _OFFSET_RE.match(text, m.end())
                return replace(keys, road=first, crossing="|".join(sorted((first, second))),
                               offset=(offset.group(1) + offset.group(2)) if offset else "")
    if "号" in text:
        for m in _matches_from_each_start(_ROAD_NUMBER_RE, text):
            if road := _known_road(m.group(1), known_roads):
                return replace(keys, road=road, number=m.group(2))
    return keys


def _known_road(name: str, known_roads: frozenset[str]) -> str:
    for start in range(len(name) - 1):
        if name[start:] in known_roads:
            return name[start:]
    return ""


# Words that say where, left in a text once its own place names are gone. Roads are not matched by their ending
# (路, 大道): that took content words with them (占用道路, 挡路, 马路上); the roads the batch's addresses name are
# removed instead (problem_texts). A crossing's remainder (与, 交口, the direction and distance: 与交口北280米) and
# the templates' 地点在 go too: thousands of reports share them (session 13, the seven months looked at: pairwise
# F1 0.9483 -> 0.9492, recall +0.0055, precision -0.0040; the text's AUC between true and false candidate pairs at
# one place 0.924 -> 0.936).
_PLACE_WORD_RE = re.compile(
    r"[\u4e00-\u9fa5]{2,6}?(?:街道|社区|小区)"
    r"|(?:与|和)?[东南西北]?(?:交叉口|交口|路口|交汇处)?[东南西北]?\d+(?:号楼|号|栋|幢|单元|米|楼|室)?"
    r"|(?:与|和)?(?:交叉口|交口|路口|交汇处)|地点在|地点位于|地址在|地址位于|位于"
    r"|[东南西北]侧|附近|对面|门口|[东南西北]门|合肥市|包河区"
)


def problem_text(cleaned: str, place_names: tuple[str, ...] = (), known_roads: frozenset[str] = frozenset()) -> str:
    """The cleaned text without the words that say where: what remains says what the problem is.

    Two reports of one problem name the place differently (a road number, a crossing, the estate); two problems
    at one place share those words. Comparing the rest separates them better. known_roads: the roads the batch's
    addresses name, removed wherever the text names them.
    """
    text = _without_place_names(cleaned, place_names)
    if known_roads:
        text = re.sub(_known_roads_pattern(known_roads), "", text)
    return _PLACE_WORD_RE.sub("", text)


@lru_cache(maxsize=4)
def _known_roads_pattern(known_roads: frozenset[str]) -> str:
    """The roads, longest first, each with the 与 / 和 that joins it to a crossing's other road (RE2 and Python)."""
    return "(?:" + "|".join(re.escape(road) for road in sorted(known_roads, key=lambda r: (-len(r), r))) + ")(?:与|和)?"


def _without_place_names(text: str, place_names: tuple[str, ...]) -> str:
    for name in (*place_names, "合肥市", "包河区"):
        if name:
            text = text.replace(name, "")
    return text


class Gazetteer:
    """Named places (estates) seen in the addresses of a batch, found again inside free text.

    Reports often name the 小区 only in their content while the address field gives a road; a lookup keyed by the
    first two characters keeps it linear in the text length.
    """

    def __init__(self, names):
        self._by_prefix: dict[str, list[str]] = {}
        # the written form searched for -> the estate key it names. An estate key drops 小区 (迎河小区 -> 迎河); a
        # two-character key alone would be found inside other words, so it is searched for with its 小区 (session 12:
        # such estates were never found in the text, e.g. a 110 call "...地点在迎河小区西侧" with no address;
        # pairwise F1 on seven months: 20240301 -0.0009, the six others +0.0021 to +0.0059, see docs/dedupe.md)
        self._name_of: dict[str, str] = {}
        for name in {n for n in names if n}:
            self._name_of[name if len(name) >= 3 else name + "小区"] = name
        for written in sorted(self._name_of, key=len, reverse=True):
            self._by_prefix.setdefault(written[:2], []).append(written)

    def find_many(self, texts: list[str]) -> list[str]:
        """[self.find(t) for t in texts] in one pass: the names longest first, so the leftmost match is the longest
        name found at that position, as in find."""
        names = [name for group in self._by_prefix.values() for name in group]
        if not names:
            return ["" for _ in texts]
        alternation = "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))
        return [self._name_of[found] if found else "" for found in _search_many(alternation, texts)]

    def find(self, text: str) -> str:
        by_prefix = self._by_prefix
        for k in range(len(text) - 2):
            names = by_prefix.get(text[k : k + 2])
            if names:
                for name in names:
                    if text.startswith(name, k):
                        return self._name_of[name]
        return ""


# --- coordinates -------------------------------------------------------------------------------------------

# Metres per degree around Hefei (31.8 N). An equirectangular approximation is exact enough below 10 km.
_REFERENCE_LAT = 31.8
METRES_PER_DEG_LAT = 110_574.0
METRES_PER_DEG_LON = 111_320.0 * math.cos(math.radians(_REFERENCE_LAT))


def usable_point(lon: float | None, lat: float | None) -> bool:
    """Feeds send null or 0 for unknown coordinates; anything outside China is unknown too."""
    return lon is not None and lat is not None and 73.0 < lon < 136.0 and 3.0 < lat < 54.0


def grid_cell(lon: float, lat: float, cell_m: float) -> tuple[int, int]:
    return int(math.floor(lon * METRES_PER_DEG_LON / cell_m)), int(math.floor(lat * METRES_PER_DEG_LAT / cell_m))


def distance_m(lon_a: float, lat_a: float, lon_b: float, lat_b: float) -> float:
    return math.hypot((lon_a - lon_b) * METRES_PER_DEG_LON, (lat_a - lat_b) * METRES_PER_DEG_LAT)


# --- time --------------------------------------------------------------------------------------------------

_EPOCH = datetime(1970, 1, 1)


def epoch_seconds(moment: datetime | None) -> float | None:
    """Naive CST timestamps compared as seconds since a fixed naive epoch (no zone arithmetic needed)."""
    return None if moment is None else (moment - _EPOCH).total_seconds()


# --- batch versions: the same functions over a whole column at once ----------------------------------------
# Per-intake Python calls were most of `records.prepare` at 1 M intakes. The batch versions below give exactly the
# per-string results (tests compare them) with a character lookup table in numpy (translate + lower) and the
# regular expressions run by Arrow's RE2 over whole columns. RE2 picks the same match as Python's re for these
# patterns (leftmost, then the first alternative that matches); \uXXXX and \d are only spelt differently.


def re2_pattern(pattern: re.Pattern) -> str:
    """A Python pattern of this module in RE2 syntax: \\uXXXX as the character itself, \\d as Unicode \\p{Nd}."""
    text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), pattern.pattern)
    return text.replace(r"\d", r"\p{Nd}")


_DELETED = 0xFFFFFFFF


@lru_cache(maxsize=1)
def _case_folding() -> tuple[dict[int, int], frozenset[str]]:
    """Code points whose lower case is one other character (code -> code), and the characters whose lower case is
    several (rare: 'İ'). Blocks of code points are lowered at once; a block that changes length goes char by char."""
    import numpy as np

    single: dict[int, int] = {}
    multi = set()
    block = 4096
    for start in range(0, 0x110000, block):
        chars = "".join(map(chr, range(start, start + block)))
        lowered = chars.lower()
        if len(lowered) == len(chars):
            before = np.frombuffer(chars.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
            after = np.frombuffer(lowered.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
            changed = np.flatnonzero(before != after)
            single.update(zip((start + changed).tolist(), after[changed].tolist()))
            continue
        for code in range(start, start + block):
            char = chr(code)
            lowered = char.lower()
            if lowered != char:
                if len(lowered) == 1:
                    single[code] = ord(lowered)
                else:
                    multi.add(char)
    return single, frozenset(multi)


@lru_cache(maxsize=1)
def _code_table() -> "np.ndarray":
    """uint32 per code point: what clean_text's translate + lower makes of it, _DELETED when it disappears.
    Characters whose lower case is several characters keep their own value (rows holding one take the slow path)."""
    import numpy as np

    lower = np.arange(0x110000 + 1, dtype=np.uint32)
    single, _ = _case_folding()
    lower[np.fromiter(single.keys(), dtype=np.int64)] = np.fromiter(single.values(), dtype=np.uint32)
    translated = np.arange(0x110000, dtype=np.uint32)
    for code, value in _translation().items():
        translated[code] = 0x110000 if value is None else ord(value)
    table = lower[translated]
    table[translated == 0x110000] = _DELETED
    return table


def _translate_lower_many(values: list[str]) -> list[str]:
    """[v.translate(_translation()).lower() for v in values], by one table lookup over all characters at once."""
    import numpy as np

    lengths = np.fromiter((len(v) for v in values), dtype=np.int64, count=len(values))
    joined = "".join(values)
    if not joined:
        return ["" for _ in values]
    codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    mapped = _code_table()[codes]
    keep = mapped != _DELETED
    kept_before = np.concatenate([[0], np.cumsum(keep)])
    ends = np.cumsum(lengths)
    bounds = kept_before[np.concatenate([[0], ends])].tolist()
    out_text = mapped[keep].tobytes().decode("utf-32-le", "surrogatepass")
    out = [out_text[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
    multi = _case_folding()[1]
    if multi:  # the rare character whose lower case is two characters: those rows the plain way
        flagged = np.isin(codes, np.fromiter((ord(c) for c in multi), dtype=np.uint32))
        for k in np.unique(np.searchsorted(ends, np.flatnonzero(flagged), side="right")).tolist():
            out[k] = values[k].translate(_translation()).lower()
    return out


@lru_cache(maxsize=1)
def _re2_cleaning() -> tuple[str, str]:
    return re2_pattern(_OPENING_RE), re2_pattern(_FILLER_RE)


def warm_up() -> None:
    """Builds the lookup tables once (before worker processes fork, so that they inherit them)."""
    _code_table()
    _simplify_only()
    _relay_marker_re()
    _re2_cleaning()
    _re2_place_words()


def clean_texts(values: list[str | None]) -> list[str]:
    """[clean_text(v) for v in values], computed column-wise."""
    import pyarrow as pa
    import pyarrow.compute as pc

    lowered = _translate_lower_many([v or "" for v in values])
    opening, filler = _re2_cleaning()
    column = pa.array(lowered, type=pa.large_string())
    column = pc.replace_substring_regex(column, opening, "")
    column = pc.replace_substring_regex(column, filler, "")
    return column.to_pylist()


@lru_cache(maxsize=1)
def _re2_place_words() -> str:
    return re2_pattern(_PLACE_WORD_RE)


def problem_texts(cleaned: list[str], place_names: list[tuple[str, ...]],
                  known_roads: frozenset[str] = frozenset()) -> list[str]:
    """[problem_text(c, names, known_roads) for c, names in zip(cleaned, place_names)], the regexes column-wise."""
    import pyarrow as pa
    import pyarrow.compute as pc

    stripped = [_without_place_names(text, names) for text, names in zip(cleaned, place_names)]
    column = pa.array(stripped, type=pa.large_string())
    if known_roads:
        column = pc.replace_substring_regex(column, _known_roads_pattern(known_roads), "")
    return pc.replace_substring_regex(column, _re2_place_words(), "").to_pylist()


def _search_many(re2: str, values: list[str | None]) -> list[str | None]:
    """[m.group(0) if (m := re.search(pattern, v)) else None for v in values] for a pattern in RE2 syntax."""
    import pyarrow as pa
    import pyarrow.compute as pc

    found = pc.extract_regex(pa.array([v or None for v in values], type=pa.large_string()), "(?P<found>" + re2 + ")")
    return pc.struct_field(found, "found").to_pylist()
