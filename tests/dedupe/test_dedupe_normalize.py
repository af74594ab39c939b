from dedupe.normalize import clean_text, distance_m, grid_cell, parse_address, simplify
from dedupe.topics import family_of, topic_of, ACUTE, INFRASTRUCTURE, NUISANCE


def test_boilerplate_punctuation_and_traditional_are_removed():
    a = clean_text("市民来电反映：南宁路口井蓋沒了，晚上很危險，请尽快处理。")
    b = clean_text("来电人称南宁路口井盖没了晚上很危险")
    assert a == b == "南宁路口井盖没了晚上很危险"


def test_full_width_digits_and_letters_become_half_width():
    assert clean_text("南宁路１２３号ＡＢ栋") == "南宁路123号ab栋"
    assert simplify("１２号樓") == "12号楼"


def test_empty_and_missing_text():
    assert clean_text(None) == "" and clean_text("") == ""
    assert parse_address(None).place_key == ""


def test_crossing_is_order_independent_and_ignores_a_small_offset_and_district():
    a = parse_address("包河区徽州大道与南宁路交口东50米")
    b = parse_address("南宁路徽州大道路口")
    assert a.crossing == b.crossing == "南宁路|徽州大道"
    assert a.place_key == b.place_key
    assert a.offset == "东50"


def test_a_crossing_with_an_offset_beyond_100_m_is_another_spot():
    at_crossing = parse_address("徽州大道与南宁路交口")
    east_300 = parse_address("南宁路与徽州大道交口东300米")
    assert east_300.place_key == "x:南宁路|徽州大道|东300" == parse_address("包河区徽州大道南宁路交口东300米").place_key
    assert east_300.place_key not in (at_crossing.place_key, parse_address("徽州大道与南宁路交口西300米").place_key)
    assert parse_address("徽州大道与南宁路交口东100米").place_key == at_crossing.place_key


def test_estate_building_road_number_street_community():
    estate = parse_address("滨湖和园小区12栋")
    assert (estate.estate, estate.building) == ("滨湖和园", "12")
    assert parse_address("滨湖和园南门").place_key == estate.place_key
    numbered = parse_address("合肥市包河区望湖街道南宁路88号")
    assert (numbered.street, numbered.road, numbered.number) == ("望湖", "南宁路", "88")
    assert numbered.place_key == "n:南宁路88"
    full = parse_address("芜湖路街道三里庵社区金寨路与长江路交叉口")
    assert (full.street, full.community, full.crossing) == ("芜湖路", "三里庵", "金寨路|长江路")


def test_road_named_after_the_district_is_kept():
    assert parse_address("包河大道88号").road == "包河大道"


def test_coordinates_distance_and_cells():
    assert abs(distance_m(117.29, 31.74, 117.29, 31.741) - 110.6) < 1.0
    assert grid_cell(117.29, 31.74, 200) == grid_cell(117.2900001, 31.7400001, 200)


def test_topics_and_time_families():
    assert topic_of("市政设施损坏", "井盖没了") == "manhole"
    assert family_of(topic_of("", "路口堵车严重")) is ACUTE
    # session 9: a neighbour dispute and a bus line's service go on for days
    assert family_of(topic_of("", "楼上邻里纠纷吵架")) is NUISANCE
    assert family_of(topic_of("", "公交车班次太少")) is NUISANCE
    assert family_of("manhole") is INFRASTRUCTURE
    assert topic_of("", "") == ""
    # session 13: 违章停车 is parking, not an illegal building (违章 came first); a fallen 大树 is a tree
    assert topic_of("", "小区门口违章停车") == "parking"
    assert topic_of("", "大树倒了") == "tree"
    # session 14: posters had no topic (a posters report then met a label-less one only within a day: blocking)
    assert topic_of("", "楼道里贴满小广告影响市容") == "posters"
    assert family_of(topic_of("", "有人乱涂乱画乱张贴")) is NUISANCE
