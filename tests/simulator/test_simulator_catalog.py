"""The catalogue and the geography the simulator draws from."""
from __future__ import annotations

import random

from simulator.catalog import (DEMAND_PROFILES, GAP_PROFILES, KINDS, STREET_OFFICE, UNITS, URGENCY_PROFILES,
                               category_label_rows)
from simulator.geography import ESTATES_PER_COMMUNITY, crossing_offset, distance_m, load_district, neighbouring_point
from simulator.text import format_phone, id_check_char, id_number


def test_catalogue_has_enough_classes_and_kinds_with_complete_labels():
    assert len(KINDS) >= 40 and len({k.l1 for k in KINDS}) >= 10
    assert len({k.code for k in KINDS}) == len(KINDS)
    for k in KINDS:
        assert k.fl[0] and k.fl[1] and k.petition and k.titles and len(k.details) >= 3
        assert k.demand in DEMAND_PROFILES and k.urgency in URGENCY_PROFILES and k.gap in GAP_PROFILES
        assert k.unit == STREET_OFFICE or k.unit in UNITS
        assert (k.channels[1] > 0) <= bool(k.jq110) and (k.channels[3] > 0) <= (k.hotline is not None)
    rows = category_label_rows()
    assert {r["channel"] for r in rows} == {"12345", "110", "hotline", "petition"}
    assert {r["kind_code"] for r in rows} == {k.code for k in KINDS}


def test_district_has_its_streets_and_communities_inside_the_box():
    d = load_district()
    assert len(d.streets) == 13 and len(d.communities) == 116
    for c in d.communities:
        assert c.code.startswith(c.street_code) and 117.28 <= c.lon <= 117.40 and 31.70 <= c.lat <= 31.86
        assert len(set(c.estates)) == ESTATES_PER_COMMUNITY == len(c.estate_points)
        # an estate is a place: the estates of one community are apart (the rule of simulator/placement.py
        # separates same-kind incidents by 250 m, so estates closer than that would be one place)
        assert min(distance_m(*p, *q) for p in c.estate_points for q in c.estate_points if p != q) > 250
    names = [e for c in d.communities for e in c.estates]
    assert len(names) == len(set(names))
    assert d.street_office("340111102").endswith("大圩镇人民政府")
    assert d.street_office("340111005") == "望湖街道办事处"


def test_neighbouring_road_is_near_and_crossing_offset_is_true():
    rnd = random.Random(1)
    for c in load_district().communities[:30]:
        lon, lat = neighbouring_point(c.lon, c.lat, rnd)
        assert 700 < distance_m(c.lon, c.lat, lon, lat) < 1000
        a, b, direction, metres = crossing_offset(c.lon, c.lat)
        assert a != b and direction in "东西南北" and 10 <= metres <= 600


def test_id_numbers_and_phone_formats():
    rnd = random.Random(2)
    ids = [id_number(rnd) for _ in range(300)]
    assert all(len(i) == 18 and id_check_char(i[:17]) == i[17] for i in ids)
    assert any(i.endswith("X") for i in ids)
    assert id_check_char("11010519491231002") == "X" and id_check_char("44052418800101001") == "4"  # GB 11643 examples
    formats = {format_phone("13805512345", rnd) for _ in range(300)}
    assert {"13805512345", "138 0551 2345", "+86-138-0551-2345"} <= formats


def test_texts_written_unescaped_into_12345_history_need_no_json_escape():
    from simulator.geography import load_district

    texts = [k.fix for k in KINDS] + list(UNITS) + [load_district().street_office(s) for s in load_district().streets]
    assert not [t for t in texts if '"' in t or "\\" in t or any(ord(c) < 32 for c in t)]
