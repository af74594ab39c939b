"""Session 14: a report at a spot along a road from a crossing (A与B交口北340米) without a point of its own takes the
crossing's point moved by its offset; the crossing's point comes from the located reports naming it with any
offset, each moved back by its own."""
from __future__ import annotations

import numpy as np
import pytest

from dedupe import normalize, records as records_mod
from dedupe_testkit import intake, intake_table

LON, LAT = 117.3120, 31.7380  # the crossing of 九华山路 and 马鞍山路 in these tests


def _east(metres: float) -> float:
    return LON + metres / normalize.METRES_PER_DEG_LON


def _north(metres: float) -> float:
    return LAT + metres / normalize.METRES_PER_DEG_LAT


@pytest.mark.parametrize("key, expected", [
    ("x:九华山路|马鞍山路", ("九华山路|马鞍山路", 0.0, 0.0)),
    ("x:九华山路|马鞍山路|北340", ("九华山路|马鞍山路", 0.0, 340.0)),
    ("x:九华山路|马鞍山路|西120", ("九华山路|马鞍山路", -120.0, 0.0)),
    ("e:幸福家园", None),
    ("n:龙川路671", None),
    ("", None),
])
def test_crossing_offset_reads_the_place_key(key, expected):
    assert normalize.crossing_offset(key) == expected


def test_the_place_key_round_trips_through_crossing_offset():
    keys = normalize.parse_address("包河区马鞍山路与九华山路交口南360米")
    assert normalize.crossing_offset(keys.place_key) == ("九华山路|马鞍山路", 0.0, -360.0)


def _records(rows):
    return records_mod.prepare(intake_table(rows))


def test_a_spot_without_a_point_takes_the_crossing_moved_by_its_offset():
    rows = [
        # located reports of the crossing, each at its own offset: moved back, all at the crossing
        intake("A", 0, "路灯不亮", address="九华山路与马鞍山路交口北200米", lon=LON, lat=_north(200)),
        intake("B", 10, "垃圾堆放", address="九华山路与马鞍山路交口东300米", lon=_east(300), lat=LAT),
        intake("C", 20, "井盖缺失", address="九华山路与马鞍山路交口", lon=_east(20), lat=_north(-10)),
        # no point, an offset no located report names
        intake("D", 30, "井盖缺失", address="马鞍山路与九华山路交口南360米"),
    ]
    records = _records(rows)
    assert records.approximate.tolist() == [False, False, False, True]
    assert records.lon[3] == pytest.approx(_east(0), abs=1e-6)  # median of 0, 0, 20 m east
    assert records.lat[3] == pytest.approx(_north(-360), abs=1e-6)  # median of 0, 0, -10 m north, then 360 m south


def test_a_spot_named_by_a_located_report_keeps_that_report_point():
    """The same key's located report lends its point first (_place_points): it was nearer than the crossing's
    median moved by the offset on the months looked at."""
    rows = [
        intake("A", 0, "路灯不亮", address="九华山路与马鞍山路交口北200米", lon=_east(50), lat=_north(260)),
        intake("B", 10, "路灯不亮", address="九华山路与马鞍山路交口北200米"),
    ]
    records = _records(rows)
    assert records.approximate.tolist() == [False, True]
    assert (records.lon[1], records.lat[1]) == (records.lon[0], records.lat[0])


def test_a_crossing_nobody_located_gives_no_point():
    rows = [
        intake("A", 0, "路灯不亮", address="九华山路与马鞍山路交口北200米", lon=LON, lat=_north(200)),
        intake("B", 10, "路灯不亮", address="太湖路与龙川路交口北200米"),
    ]
    records = _records(rows)
    assert not records.has_point[1] and not records.approximate[1]
    assert np.isnan(records.lon[1])


def test_a_batch_naming_no_place_gives_no_point():
    rows = [intake("A", 0, "路灯不亮"), intake("B", 10, "路灯不亮", lon=LON, lat=LAT)]
    records = _records(rows)
    assert records.approximate.tolist() == [False, False]
