"""Session 13: the problem text keeps the words that say what the problem is, and loses a place's remainders."""
from __future__ import annotations

from dedupe.normalize import clean_text, problem_text

ROADS = frozenset({"合作化南路", "包河大道", "芜湖路"})


def test_words_ending_in_lu_that_name_no_road_stay():
    # the old pattern took any 1-6 characters before 路 or 大道 for a road name: 在人行道上挡路 and 市摊点占用道路 went
    assert problem_text(clean_text("有车停在人行道上挡路"), (), ROADS) == "有车停在人行道上挡路"
    assert problem_text(clean_text("夜市摊点占用道路通行困难"), (), ROADS) == "夜市摊点占用道路通行困难"


def test_the_batchs_roads_and_a_crossings_remainder_go():
    text = clean_text("烧烤店油烟很大，地点在合作化南路与包河大道交口西180米")
    assert problem_text(text, (), ROADS) == "烧烤店油烟很大"


def test_a_crossing_named_by_the_address_leaves_no_remainder():
    # the address's own roads are removed as place names first; 与, the direction and the distance were left
    text = clean_text("合作化南路与包河大道交口北250米塘里死鱼水质很差")
    assert problem_text(text, ("合作化南路", "包河大道"), ROADS) == "塘里死鱼水质很差"
    assert problem_text(clean_text("芜湖路与屯溪路北400米井盖缺失"), ("芜湖路", "屯溪路")) == "井盖缺失"


def test_a_road_number_goes_with_the_template():
    assert problem_text(clean_text("有车停在人行道上挡路，地点在芜湖路228号对面"), (), ROADS) == "有车停在人行道上挡路"
