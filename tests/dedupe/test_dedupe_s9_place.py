"""Session 9: a place named in the text is found even when the first match of the pattern begins too early (a
street name ending in 街道 looks like a road ending in 街 or 道)."""
import pytest

from dedupe import normalize

ROADS = frozenset({"宁国南路", "福州路", "云谷路"})
STREET_ONLY = normalize.parse_address("包河区滨湖世纪社区街道")


@pytest.mark.parametrize("text, crossing, offset", [
    ("公司拖欠员工工资不发地点在包河区滨湖世纪社区街道宁国南路与福州路交口南150米", "宁国南路|福州路", "南150"),
    ("滨湖世纪社区街道福州路与宁国南路交口有人占道经营", "宁国南路|福州路", ""),
])
def test_a_crossing_after_a_street_name(text, crossing, offset):
    keys = normalize.place_from_text(STREET_ONLY, normalize.clean_text(text), ROADS)
    assert (keys.crossing, keys.offset) == (crossing, offset)


def test_a_road_number_after_a_street_name():
    keys = normalize.place_from_text(STREET_ONLY, normalize.clean_text("烟墩街道云谷路313号征地款未足额发放"), ROADS)
    assert (keys.road, keys.number) == ("云谷路", "313")


def test_no_known_road_no_place():
    keys = normalize.place_from_text(STREET_ONLY, normalize.clean_text("滨湖世纪社区街道某某路与某某街交口"), ROADS)
    assert keys == STREET_ONLY
