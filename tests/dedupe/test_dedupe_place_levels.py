"""Place comparison: naming two different estates or streets is a clear disagreement, and distance cuts are tight."""
from __future__ import annotations

import numpy as np

from dedupe import cluster, records as records_mod, scoring

from dedupe_testkit import intake, intake_table

LON, LAT = 117.3120, 31.7380
DEG_LON_PER_M = 1 / scoring.METRES_PER_DEG_LON


def _place_level(a: dict, b: dict) -> int:
    records = records_mod.prepare(intake_table([a, b]))
    levels = scoring.comparison_levels(records, np.array([0]), np.array([1]))
    return int(levels["place"][0])


def test_two_named_estates_disagree_even_when_the_points_are_close():
    a = intake("E1", 0, "小区门口垃圾堆放无人清运", address="滨湖和园小区南门", lon=LON, lat=LAT)
    b = intake("E2", 30, "小区门口垃圾堆放无人清运", address="翡翠佳苑小区北门", lon=LON + 20 * DEG_LON_PER_M, lat=LAT)
    same = intake("E3", 40, "小区门口垃圾堆放无人清运", address="滨湖和园小区北门", lon=LON + 20 * DEG_LON_PER_M, lat=LAT)
    assert _place_level(a, b) == 0
    assert _place_level(a, same) == 3


def test_without_points_two_crossing_spots_disagree_but_an_estate_and_a_crossing_say_nothing():
    spot = intake("X1", 0, "井盖破损", channel="110", address="徽州大道与南宁路交口东300米")
    other_spot = intake("X2", 30, "井盖破损", channel="110", address="南宁路与徽州大道交口西300米")
    same_spot = intake("X3", 40, "井盖破损", channel="110", address="南宁路徽州大道交口东300米")
    estate = intake("X4", 50, "井盖破损", channel="110", address="滨湖和园小区南门")
    assert _place_level(spot, other_spot) == 0
    assert _place_level(spot, same_spot) == 3
    assert _place_level(spot, estate) == -1


def test_two_crossing_spots_disagree_when_a_point_is_borrowed_however_near():
    """Session 14: a borrowed point (records.approximate) is off by ~130 m at the median: near as it may be, it does
    not make two spots the keys tell apart one place. Two points of their own still do."""
    def spot(source_id, minutes, address, metres_east):
        return intake(source_id, minutes, "井盖破损", address=address, lon=LON + metres_east * DEG_LON_PER_M, lat=LAT)

    located = spot("C1", 0, "徽州大道与南宁路交口东300米", 0)
    near_own = spot("C2", 10, "徽州大道与南宁路交口东360米", 40)
    # C4 names C3's spot and has no point: it borrows C3's, 40 m from C1
    lender = spot("C3", 20, "徽州大道与南宁路交口东360米", 40)
    borrower = intake("C4", 30, "井盖破损", address="徽州大道与南宁路交口东360米")
    assert _place_level(located, near_own) == 3
    records = records_mod.prepare(intake_table([located, lender, borrower]))
    assert records.approximate.tolist() == [False, False, True]
    levels = scoring.comparison_levels(records, np.array([0, 1]), np.array([2, 2]))
    assert levels["place"].tolist() == [0, 3]  # C1 and C4: two spots; C3 and C4: one spot


def test_distance_levels_follow_the_cuts():
    a = intake("D1", 0, "路灯不亮", lon=LON, lat=LAT)
    levels = []
    for metres in (30, 100, 200, 400):
        b = intake("D2", 10, "路灯不亮", lon=LON + metres * DEG_LON_PER_M, lat=LAT)
        levels.append(_place_level(a, b))
    assert levels == [3, 2, 1, 0]


def test_a_case_does_not_grow_beyond_the_shared_place_distance():
    assert cluster.MAX_MEMBER_DISTANCE_M == scoring.DIST_CUTS_M[-1]


def test_common_estate_suffixes_are_parsed():
    from dedupe.normalize import parse_address

    assert parse_address("安居名邸南门").estate == "安居名邸"
    assert parse_address("滨湖国际3栋").estate == "滨湖国际"
    assert parse_address("融科世家").estate == "融科世家"
    assert parse_address("锦绣大道616号").estate == ""


def test_a_12345_label_cut_short_agrees_with_every_specific_code_below_it():
    import pytest

    from dedupe import categories

    if not categories.SEED.exists():
        pytest.skip("no category mapping seed")
    l2, l1 = categories.codes("12345", "城乡建设/市政设施")
    full, _ = categories.codes("12345", "城乡建设/市政设施/井盖")
    assert full and full <= l2
    assert not any(code.endswith(categories.FALLBACK_SUFFIX) for code in l2)


def _category_level(a: dict, b: dict) -> int:
    records = records_mod.prepare(intake_table([a, b]))
    return int(scoring.comparison_levels(records, np.array([0]), np.array([1]))["category"][0])


def test_a_label_that_names_only_the_class_cannot_disagree_on_the_kind():
    import pytest

    from dedupe import categories

    if not categories.SEED.exists():
        pytest.skip("no category mapping seed")
    manhole = intake("K1", 0, "井盖破损", category="城乡建设/市政设施/井盖", lon=LON, lat=LAT)
    streetlight = intake("K2", 10, "路灯不亮", category="城乡建设/市政设施/路灯", lon=LON, lat=LAT)
    class_only = intake("K3", 20, "井盖破损", category="城乡建设/市政设施", channel="petition")
    class_only["source_category"] = "城乡建设"
    assert categories.codes("petition", "城乡建设")[0] == frozenset()  # the petition label maps to a catch-all
    assert categories.codes("petition", "城乡建设")[1] & categories.codes("12345", "城乡建设/市政设施/井盖")[1]
    assert _category_level(manhole, streetlight) == 1  # one class, two kinds
    assert _category_level(manhole, class_only) == -1  # one class, the kind unknown on one side


def test_a_keyword_topic_that_disagrees_where_the_categories_name_one_kind_is_no_evidence():
    import pytest

    from dedupe import categories

    if not categories.SEED.exists():
        pytest.skip("no category mapping seed")
    order = intake("T1", 0, "电梯坏了", category="住房保障/物业管理/电梯", lon=LON, lat=LAT)  # keyword topic: property
    ticket = intake("T2", 10, "电梯坏了", category="特种设备", channel="hotline", lon=LON, lat=LAT)  # elevator
    other_kind = intake("T3", 20, "物业不作为", category="住房保障/物业管理/物业服务", lon=LON, lat=LAT)
    records = records_mod.prepare(intake_table([order, ticket, other_kind]))
    by_id = {records.source_id[k]: k for k in range(len(records))}
    assert records.topic[by_id["T1"]] != records.topic[by_id["T2"]]
    levels = scoring.comparison_levels(records, np.array([by_id["T1"], by_id["T1"]]), np.array([by_id["T2"], by_id["T3"]]))
    assert levels["category"].tolist()[0] == 2 and levels["topic"].tolist()[0] == -1
    assert levels["category"].tolist()[1] != 2
