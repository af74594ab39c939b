"""Seeds derived from the simulator's catalogue of problem kinds (``simulator/catalog.py``):

* ``seeds/category_mapping.csv``: each feed's own category label -> the unified taxonomy (category_taxonomy.csv)
* ``seeds/units.csv`` and ``seeds/unit_aliases.csv``: responsible units with their type and street, and every
  spelling the feeds use for them

The taxonomy is the warehouse's own; ``KIND_TO_CATEGORY`` places each simulator kind in it. A feed label shared by
kinds of different classes maps to the finest class they have in common (a major class's 综合 class), or to the
class given in ``SHARED_LABEL_CATEGORY`` when they do not share a major class.
Regenerate with ``.venv/bin/python dbt/scripts/generate_seeds.py``; a test checks the committed CSVs are current.
"""
from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

from simulator import catalog
from simulator.geography import STREET_OLD_NAMES

SEEDS = Path(__file__).resolve().parent.parent / "seeds"

# simulator kind -> unified category_l2_code (category_taxonomy.csv)
KIND_TO_CATEGORY: dict[str, str] = {
    "K0101": "0101", "K0102": "0101", "K0103": "0102", "K0104": "0103", "K0105": "0507", "K0106": "0507",
    "K0201": "0206", "K0202": "0104", "K0203": "0105", "K0204": "0106", "K0205": "0107", "K0206": "0111",
    "K0301": "0203", "K0302": "0209", "K0303": "0205", "K0304": "0208", "K0305": "0207",
    "K0401": "0201", "K0402": "0202", "K0403": "0211", "K0404": "0408",
    "K0501": "0301", "K0502": "0304", "K0503": "0303", "K0504": "0108",
    "K0601": "0401", "K0602": "0402", "K0603": "0403", "K0604": "0405", "K0605": "0411",
    "K0701": "0601", "K0702": "0607", "K0703": "0602", "K0704": "0605",
    "K0801": "0804", "K0802": "0807", "K0803": "0806",
    "K0901": "0501", "K0902": "0503", "K0903": "0510", "K0904": "0506",
    "K1001": "0701", "K1002": "0702", "K1003": "0711",
    "K1101": "0901", "K1102": "0902",
    "K1201": "0802", "K1202": "0803",
    "K1301": "0410", "K1302": "0112",
    "K1401": "0109", "K1402": "0109",
    "K1501": "1004", "K1502": "1010",
}

# Labels used for kinds of different major classes: the class a reader of that feed would file them under.
SHARED_LABEL_CATEGORY: dict[tuple[str, str], str] = {
    ("110", "市政设施损坏"): "0110",
    ("110", "噪声扰民"): "0202",
    ("110", "其他求助"): "0910",
    ("petition", "城乡建设"): "0100",
    ("petition", "环境保护"): "0200",
    ("petition", "其他"): "1000",
    ("petition", "交通运输"): "0300",
    ("petition", "农村农业"): "0100",
    # 12345 labels cut short (empty fl3/fl2): the major class most of their kinds belong to
    ("12345", "交通运输"): "0300",
    ("12345", "交通运输/交通管理"): "0300",
    ("12345", "城乡建设"): "0100",
    ("12345", "城乡建设/市容环卫"): "0100",
    ("12345", "城乡建设/市政设施"): "0100",
}

# Units that are not handling units: a platform a feed hands over to.
PLATFORMS = ("12345平台",)


def _taxonomy() -> dict[str, dict[str, str]]:
    with (SEEDS / "category_taxonomy.csv").open(encoding="utf-8", newline="") as fh:
        return {row["category_l2_code"]: row for row in csv.DictReader(fh)}


def category_mapping_rows() -> list[dict[str, str]]:
    taxonomy = _taxonomy()
    kinds_by_label: dict[tuple[str, str], list] = defaultdict(list)
    for row in catalog.category_label_rows():
        if row["source_category"]:
            kinds_by_label[(row["channel"], row["source_category"])].append(row["kind_code"])
    # 12345 orders often leave fl3 (and sometimes fl2) empty, so the feed delivers the label's prefixes too:
    # 'a/b' and 'a' stand for every kind filed under them.
    derived: dict[tuple[str, str], list] = defaultdict(list)
    for (channel, label), kinds in kinds_by_label.items():
        if channel == "12345":
            levels = label.split("/")
            for depth in range(1, len(levels)):
                derived[(channel, "/".join(levels[:depth]))].extend(kinds)
    # hotline connectors may deliver only the category name: map the bare name too when it is unambiguous
    names: dict[str, set[str]] = defaultdict(set)
    for (channel, label) in list(kinds_by_label):
        if channel == "hotline":
            names[label.split("/")[-1]].add(label)
    for name, labels in names.items():
        if len(labels) == 1:
            kinds_by_label[("hotline", name)] = kinds_by_label[("hotline", next(iter(labels)))]
    demand_of = {k.code: max(catalog.DEMAND_PROFILES[k.demand].items(), key=lambda kv: kv[1])[0] for k in catalog.KINDS}

    for key, kinds in derived.items():
        if key not in kinds_by_label:
            kinds_by_label[key] = sorted(set(kinds))

    rows = []
    for (channel, label), kinds in sorted(kinds_by_label.items()):
        missing = [k for k in kinds if k not in KIND_TO_CATEGORY]
        if missing:
            raise ValueError(f"simulator kinds {missing} have no unified category in KIND_TO_CATEGORY")
        codes = {KIND_TO_CATEGORY[k] for k in kinds}
        majors = {c[:2] for c in codes}
        if len(codes) == 1:
            code = codes.pop()
        elif len(majors) == 1:
            code = majors.pop() + "00"
        elif (channel, label) in SHARED_LABEL_CATEGORY:
            code = SHARED_LABEL_CATEGORY[(channel, label)]
        else:
            raise ValueError(f"label {channel} {label!r} spans classes {sorted(codes)}: add it to SHARED_LABEL_CATEGORY")
        demands = {demand_of[k] for k in kinds}
        rows.append({
            "channel": channel,
            "source_label": label,
            "category_l2_code": code,
            "category_l2": taxonomy[code]["category_l2"],
            # the feed's demand type when it does not say one: only when every kind behind the label agrees
            "demand_type": demands.pop() if len(demands) == 1 else "",
        })
    return rows


def unit_rows() -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(units, aliases): departments, street offices (with the street they cover) and platforms."""
    with (SEEDS / "divisions.csv").open(encoding="utf-8", newline="") as fh:
        streets = {r["code"]: r["name"] for r in csv.DictReader(fh) if r["level"] == "street" and r["parent_code"] == "340111"}
    units, aliases = [], []
    for name, short in catalog.UNITS.items():
        units.append({"unit": name, "unit_type": "department", "street_code": ""})
        aliases += [{"alias": name, "unit": name}, {"alias": short, "unit": name}]
    for code, street in sorted(streets.items()):
        office = f"包河区{street}人民政府" if street.endswith("镇") else f"{street}办事处"
        units.append({"unit": office, "unit_type": "street_office", "street_code": code})
        spellings = {office, street, f"包河区{office}", f"包河区{street}", f"{street}人民政府"}
        if code in STREET_OLD_NAMES:
            old = STREET_OLD_NAMES[code]
            spellings |= {old, f"{old}办事处"}
        aliases += [{"alias": s, "unit": office} for s in sorted(spellings)]
    for platform in PLATFORMS:
        units.append({"unit": platform, "unit_type": "platform", "street_code": ""})
        aliases.append({"alias": platform, "unit": platform})
    seen, unique = set(), []
    for a in aliases:
        if a["alias"] not in seen:
            seen.add(a["alias"])
            unique.append(a)
    return units, unique
