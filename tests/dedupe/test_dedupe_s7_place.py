"""Session 7: a shared road or the same street is not one place (domain.md: 50-100 m, one building or estate). Without
two points such pairs have no place level (-1: the join then needs AUTO_MATCH_PLACE_UNKNOWN); the weak agreement is
still there for a call-taker's manual link (scoring.shares_road_or_street)."""
from __future__ import annotations

import numpy as np

from dedupe import records as records_mod, scoring
from dedupe_testkit import intake, intake_table


def _levels_and_weak(a: dict, b: dict) -> tuple[int, bool]:
    records = records_mod.prepare(intake_table([a, b]))
    i, j = np.array([0]), np.array([1])
    return int(scoring.comparison_levels(records, i, j)["place"][0]), bool(scoring.shares_road_or_street(records, i, j)[0])


def test_a_shared_road_without_points_is_no_place_evidence():
    number = intake("R1", 0, "井盖破损", channel="110", address="徽州大道100号")
    crossing = intake("R2", 30, "井盖破损", channel="110", address="徽州大道与南宁路交口东300米")
    assert _levels_and_weak(number, crossing) == (-1, True)


def test_the_same_street_alone_is_no_place_evidence():
    a = intake("S1", 0, "垃圾堆放", channel="110", address="骆岗街道")
    b = intake("S2", 30, "垃圾堆放", channel="110", address="小区旁边")
    a["street_code"] = b["street_code"] = "340111006"  # the street the feed gives, nothing else in common
    assert _levels_and_weak(a, b) == (-1, True)


def test_a_named_place_still_decides():
    a = intake("P1", 0, "井盖破损", channel="110", address="徽州大道与南宁路交口东300米")
    same = intake("P2", 30, "井盖破损", channel="110", address="南宁路与徽州大道交口东300米")
    other = intake("P3", 40, "井盖破损", channel="110", address="徽州大道与南宁路交口西300米")
    assert _levels_and_weak(a, same)[0] == 3
    assert _levels_and_weak(a, other)[0] == 0
