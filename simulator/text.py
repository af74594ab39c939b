"""Wording of reports: channel boilerplate, paraphrase, typos and homophones, traditional characters,
full-width digits, truncation; addresses in their many variants; phone numbers in every format of the spec;
names and ID-card numbers; and the standard WGS-84 -> GCJ-02 -> BD-09 coordinate transforms.
"""
from __future__ import annotations

import random
import re
from functools import lru_cache

import opencc

from connectors import geo

from simulator.geography import BARE_CROSSING_MAX_M, CITY_NAME, DISTRICT_NAME, Community, crossing_offset, road_number

BOILERPLATE = {
    "12345": ("市民来电反映：", "来电人称", "市民反映：", "来电人反映", "市民来电咨询：", ""),
    "110": ("报警人称", "报警人反映", "群众报警称", "", "称"),
    "hotline": ("", "来电反映", "群众反映：", "市民反映"),
    "12315": ("", "消费者反映", "消费者来电称", "来电反映"),
    "petition": ("信访人反映：", "来信反映", "信访人称", ""),
}
TAILS = ("", "", "请尽快处理。", "希望有关部门尽快解决。", "已多次反映未解决。", "请相关部门核实处理。", "谢谢。",
         "存在安全隐患。", "严重影响生活。")
# Homophones and common slips of call-takers' typing.
TYPOS = {"井盖": "井概", "噪音": "躁音", "油烟": "油湮", "垃圾": "拉圾", "反映": "反应", "小区": "小去", "处理": "处里",
         "严重": "言重", "扰民": "饶民", "路灯": "路登", "施工": "施公", "物业": "务业", "堵塞": "赌塞", "工资": "工姿",
         "停水": "停谁", "破损": "破顺", "电梯": "电体", "清运": "清云"}
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华玉萍红娥玲芬建国志明海燕宏斌俊峰文辉力鹏飞宇浩然子涵欣怡梓萱"
MOBILE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153", "155",
                   "156", "158", "159", "166", "177", "180", "181", "182", "186", "187", "188", "189", "199")
ID_REGIONS = ("340111", "340104", "340103", "340102", "340121", "340122", "341181", "342401", "340404", "340822")
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


@lru_cache(maxsize=1)
def _to_traditional():
    return opencc.OpenCC("s2t")


def traditional(text: str) -> str:
    return _to_traditional().convert(text)


def id_check_char(first17: str) -> str:
    return ID_CHECK[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS)) % 11]


def id_number(rnd: random.Random) -> str:
    """An 18-character resident ID with a valid GB 11643 checksum (last character may be X)."""
    birth = f"{rnd.randint(1945, 2004)}{rnd.randint(1, 12):02d}{rnd.randint(1, 28):02d}"
    first17 = rnd.choice(ID_REGIONS) + birth + f"{rnd.randint(0, 999):03d}"
    return first17 + id_check_char(first17)


def mobile(rnd: random.Random) -> str:
    return rnd.choice(MOBILE_PREFIXES) + f"{rnd.randint(0, 99_999_999):08d}"


def landline(rnd: random.Random) -> str:
    return f"0551-6{rnd.randint(0, 9_999_999):07d}"


def format_phone(number: str, rnd: random.Random) -> str:
    """One person's number written the way a feed happens to write it (every format of the spec)."""
    if not number or number.startswith("0551"):
        return number if rnd.random() < 0.8 else number.replace("-", "")
    r = rnd.random()
    if r < 0.6:
        return number
    if r < 0.75:
        return f"{number[:3]} {number[3:7]} {number[7:]}"
    if r < 0.88:
        return f"+86-{number[:3]}-{number[3:7]}-{number[7:]}"
    if r < 0.95:
        return "+86" + number
    return "86 " + number


def person_name(rnd: random.Random, full: bool) -> str:
    surname = rnd.choice(SURNAMES)
    if full:
        return surname + "".join(rnd.choice(GIVEN) for _ in range(rnd.choice((1, 2, 2))))
    return surname + rnd.choice(("先生", "女士"))


def address(rnd: random.Random, community: Community, estate: str, lon: float, lat: float, style: str) -> str:
    """A free-text address for the point. style: 'estate' (a 小区), 'road' (a road and number), 'crossing'."""
    prefixes = _PREFIXES.get(community.code)
    if prefixes is None:  # the same six per community: built once
        prefixes = _PREFIXES[community.code] = ("", "", DISTRICT_NAME, f"{CITY_NAME}{DISTRICT_NAME}",
                                                community.street_name, f"{DISTRICT_NAME}{community.street_name}")
    random = rnd.random
    prefix = prefixes[int(random() * 6)]
    if style == "estate":
        k = int(random() * 10)  # the tail drawn first: a building number is drawn only when it is written
        tail = (f"{int(random() * 40) + 1}栋" if k == 2 else
                f"{int(random() * 40) + 1}幢{int(random() * 3) + 1}单元" if k == 3 else _ESTATE_TAILS[k])
        return f"{prefix}{estate}{tail}"
    if style == "road":
        # the road the place is on and its house number, give or take a few doors (the number a caller sees)
        road, number = road_number(lon, lat)
        number = max(2 - number % 2, number + 2 * rnd.randint(-3, 3))  # stays on its side of the road
        return f"{prefix}{road}{number}号" + rnd.choice(("", "", "附近", "对面"))
    a, b, direction, metres = crossing_offset(lon, lat)
    first, second = (a, b) if rnd.random() < 0.5 else (b, a)
    form = rnd.random()
    if form < 0.45 or metres > BARE_CROSSING_MAX_M:  # far from the crossing, people give the offset
        return f"{prefix}{first}与{second}交口{direction}{metres}米"
    if form < 0.7:
        return f"{prefix}{first}{second}路口"
    if form < 0.85:
        return f"{prefix}{first}与{second}交叉口"
    return f"{prefix}{first}和{second}交汇处{direction}侧"


_PREFIXES: dict[str, tuple[str, ...]] = {}
_ESTATE_TAILS = ("", "", "", "", "南门", "北门", "东门", "门口", "附近", "西侧")  # 2 and 3: building numbers


def place_phrase(addr: str, estate: str, rnd: random.Random) -> str:
    """How the place is mentioned inside the content: often shorter than the address field."""
    r = rnd.random()
    if r < 0.5:
        return addr
    if r < 0.75 and estate in addr:
        return estate
    return _HOUSE_NUMBER.sub("", addr) or addr  # "徽州大道832号附近" -> "徽州大道"


_HOUSE_NUMBER = re.compile(r"\d+号.*$")


# Paraphrase by synonym: each report swaps some phrases for equivalents, so two reports of one problem rarely
# share their wording even when they start from the same template.
SYNONYMS = (("很大", ("特别大", "非常大", "太大了")), ("影响", ("严重影响", "干扰")), ("希望", ("请求", "恳请", "盼")),
            ("尽快", ("赶紧", "抓紧", "早日")), ("处理", ("解决", "处置", "整治")), ("晚上", ("夜里", "夜间", "每天晚上")),
            ("附近", ("旁边", "周边", "边上")), ("居民", ("住户", "老百姓", "业主")), ("一直", ("始终", "长期")),
            ("很危险", ("太危险了", "存在隐患", "容易出事")), ("没人", ("无人", "没有人")), ("多次", ("好几次", "反复")))


def paraphrase(rnd: random.Random, text: str) -> str:
    synonyms = _SYNONYMS_IN.get(text)
    if synonyms is None:  # texts are the catalogue's templates: which synonyms occur is looked up once each
        # (no replacement brings in a later word of SYNONYMS, so the words present in the template are the ones)
        synonyms = _SYNONYMS_IN[text] = tuple((w, o) for w, o in SYNONYMS if w in text)
    for word, options in synonyms:
        if rnd.random() < 0.5:
            text = text.replace(word, rnd.choice(options), 1)
    return text


_SYNONYMS_IN: dict[str, tuple] = {}


def word_report(rnd: random.Random, channel: str, template: str, place: str, difficulty: float = 1.0) -> str:
    random = rnd.random
    text = paraphrase(rnd, template)
    if "{p}" in text and random() < 0.25:  # the place said last instead of first
        text = text.replace("{p}", "", 1).lstrip("，的") + f"，地点在{place}"
    text = text.replace("{p}", place)
    boilerplate = BOILERPLATE[channel]
    text = boilerplate[int(random() * len(boilerplate))] + text
    if not text.endswith(("。", "！")):
        text += "，" if random() < 0.4 else "。"
    text += TAILS[int(random() * len(TAILS))]
    return disturb(rnd, text, difficulty)


def disturb(rnd: random.Random, text: str, difficulty: float = 1.0) -> str:
    """Apply the noise real intake text carries: typos, traditional characters, full-width digits, truncation."""
    random = rnd.random
    if random() < 0.12 * difficulty:
        for right, wrong in TYPOS.items():
            if right in text:
                text = text.replace(right, wrong, 1)
                break
    if random() < 0.04 * difficulty:
        text = traditional(text)
    if random() < 0.06 * difficulty:
        text = text.translate(FULLWIDTH)
    if random() < 0.03 * difficulty and len(text) > 12:
        text = text[: rnd.randint(8, len(text) - 2)]
    return text


# --- coordinate systems: the feeds' CRS, from the one implementation of the formulas (connectors/geo.py) ---
# Inside the district the GCJ-02 offset (a dozen sines per point) is read from a table of the formula's offsets
# every 0.002 deg (~200 m) by bilinear interpolation: the offset varies slowly (periods of 1/3 deg and more), so
# the interpolation is off by under 3 mm (tested), far below the feeds' tens of metres of noise. BD-09 is then
# the exact published step from GCJ-02 (geo.gcj02_to_bd09: a rotation, a few C math calls).
_GRID_LON0, _GRID_LAT0, _GRID_STEP, _GRID_NX, _GRID_NY = 117.24, 31.66, 0.002, 101, 121  # to 117.44 E, 31.90 N
_GCJ_OFFSETS: list[list[float]] = []  # [lon offsets, lat offsets], row by row from the south-west corner


def _gcj_offsets() -> list[list[float]]:
    if not _GCJ_OFFSETS:
        d_lon, d_lat = [], []
        for j in range(_GRID_NY):
            for i in range(_GRID_NX):
                lon, lat = _GRID_LON0 + i * _GRID_STEP, _GRID_LAT0 + j * _GRID_STEP
                x, y = geo.wgs84_to_gcj02(lon, lat)
                d_lon.append(x - lon)
                d_lat.append(y - lat)
        _GCJ_OFFSETS[:] = [d_lon, d_lat]
    return _GCJ_OFFSETS


def _wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    fx = (lon - _GRID_LON0) / _GRID_STEP
    fy = (lat - _GRID_LAT0) / _GRID_STEP
    i, j = int(fx), int(fy)
    if not (0.0 <= fx and 0.0 <= fy and i < _GRID_NX - 1 and j < _GRID_NY - 1):
        return geo.wgs84_to_gcj02(lon, lat)  # outside the table: the formula itself
    tx, ty = fx - i, fy - j
    k = j * _GRID_NX + i
    d_lon, d_lat = _GCJ_OFFSETS or _gcj_offsets()
    a, b, c, d = d_lon[k], d_lon[k + 1], d_lon[k + _GRID_NX], d_lon[k + _GRID_NX + 1]
    x = lon + a + (b - a) * tx + (c - a + (a - b - c + d) * tx) * ty
    a, b, c, d = d_lat[k], d_lat[k + 1], d_lat[k + _GRID_NX], d_lat[k + _GRID_NX + 1]
    return x, lat + a + (b - a) * tx + (c - a + (a - b - c + d) * tx) * ty


def wgs84_to(crs: str, lon: float, lat: float) -> tuple[float, float]:
    if crs == "wgs84":
        return lon, lat
    if crs == "gcj02":
        return _wgs84_to_gcj02(lon, lat)
    if crs == "bd09":
        return geo.gcj02_to_bd09(*_wgs84_to_gcj02(lon, lat))
    raise ValueError(f"unknown coordinate system {crs!r}")
