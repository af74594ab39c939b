"""The truth keeps domain.md's rule: no two different incidents of one kind at one place while the first is open or
recent (simulator/placement.py), and the designed hard negatives survive it."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pyarrow.parquet as pq
import pytest

from simulator import SimulationConfig, simulate
from simulator.catalog import KINDS
from simulator.geography import (EW_LAT0, EW_STEP, M_PER_DEG_LAT, M_PER_DEG_LON, NS_LON0, NS_STEP, crossing_place_key,
                                 distance_m)
from simulator.placement import Occupancy, block_until, report_gap_window, rule_violations

NUISANCE = next(k for k in KINDS if k.gap == "nuisance")
T0 = datetime(2024, 3, 5, 10, 0)


def _row(incident_id, lon, lat, first, closed=None, estate="甲小区", kind=NUISANCE, repeat_of=None):
    return {"incident_id": incident_id, "kind_code": kind.code, "lon": lon, "lat": lat, "first_received_at": first,
            "closed_at": closed, "estate": estate, "repeat_of_incident_id": repeat_of}


def _nuisance_taken_at_estate_1():
    """An occupancy holding one nuisance incident (chain I1) at 甲小区, and the day after it was reported."""
    occ = Occupancy()
    lon, lat = 117.30, 31.80
    until = block_until(NUISANCE, T0, None)
    occ.take(NUISANCE.code, lon, lat, "甲小区", until, chain="I1")
    return occ, lon, lat, until, datetime(2024, 3, 6)


def test_occupancy_takes_a_place_for_its_kind_until_its_time_and_spares_the_chain():
    occ, lon, lat, until, day = _nuisance_taken_at_estate_1()
    north_200 = lat + 200 / M_PER_DEG_LAT
    north_300 = lat + 300 / M_PER_DEG_LAT
    assert not occ.is_free(NUISANCE.code, lon, north_200, "乙小区", day)  # 200 m away
    assert occ.is_free(NUISANCE.code, lon, north_300, "乙小区", day)  # 300 m away, another estate
    assert not occ.is_free(NUISANCE.code, lon + 2000 / M_PER_DEG_LON, lat, "甲小区", day)  # the same estate
    other = next(k for k in KINDS if k.code != NUISANCE.code)
    assert occ.is_free(other.code, lon, lat, "甲小区", day)  # another kind
    assert occ.is_free(NUISANCE.code, lon, lat, "甲小区", day, chain="I1")  # its own repeat chain
    assert occ.is_free(NUISANCE.code, lon, lat, "甲小区", until + timedelta(seconds=1))  # after the window
    occ.release_before(until + timedelta(days=1))
    assert occ.cells == {} and occ.names == {}


def test_a_point_near_another_incident_keeps_its_estate_off_the_free_list_until_that_one_is_released():
    occ, lon, lat, until, day = _nuisance_taken_at_estate_1()
    north_200 = lat + 200 / M_PER_DEG_LAT
    assert occ.taken_until(NUISANCE.code, lon, north_200, "乙小区", day) == until  # blocked by I1's point
    assert occ.taken_until(NUISANCE.code, lon, lat + 300 / M_PER_DEG_LAT, "乙小区", day) is None
    estates = [("甲小区",), ("乙小区",), ("丙小区",)]
    assert occ.free_estates(NUISANCE.code, estates, day) == [("乙小区",), ("丙小区",)]
    occ.keep_off(NUISANCE.code, "乙小区", until)
    next_day = day + timedelta(days=1)
    assert occ.free_estates(NUISANCE.code, estates, next_day) == [("丙小区",)]
    after = until + timedelta(seconds=1)
    assert occ.free_estates(NUISANCE.code, estates, after) == estates  # both free again after I1's time
    assert occ.is_free(NUISANCE.code, lon, north_200, "乙小区", next_day) is False  # the rule's check is unchanged


def _strand_with_one_incident(tmp_path, crowded: bool):
    from simulator.generator import Strand

    strand = Strand(SimulationConfig(start=date(2024, 3, 1), days=5, per_day=1000), 0, tmp_path)
    kind = strand.kinds[0]
    t = datetime(2024, 3, 2, 9, 30)
    inc = strand._new_incident(kind, t, strand._place())
    inc.crowded = crowded
    strand._report_incident(inc, None, extras=False)
    assert strand.truth_incidents[-1][0] == inc.incident_id  # it is in the truth either way
    return strand, inc


def test_a_crowded_incident_holds_no_place_and_an_ordinary_one_does(tmp_path):
    strand, inc = _strand_with_one_incident(tmp_path, crowded=True)
    assert strand.occupancy.names == {} and strand.occupancy.cells == {}
    strand, inc = _strand_with_one_incident(tmp_path, crowded=False)
    assert not strand.occupancy.is_free(inc.kind.code, inc.lon, inc.lat, inc.estate, datetime(2024, 3, 2))


def test_block_lasts_the_window_or_until_a_later_closure():
    window = report_gap_window(NUISANCE)
    assert block_until(NUISANCE, T0, None) == T0 + window
    assert block_until(NUISANCE, T0, T0 + timedelta(hours=1)) == T0 + window
    assert block_until(NUISANCE, T0, T0 + window + timedelta(days=3)) == T0 + window + timedelta(days=3)


def test_rule_violations_finds_each_kind_of_clash_and_spares_repeats_and_distant_or_late_ones():
    lon, lat = 117.30, 31.80
    later = T0 + timedelta(days=2)
    far_lon, far_lat = lon + 2000 / M_PER_DEG_LON, lat + 2000 / M_PER_DEG_LAT
    rows = [_row("A", lon, lat, T0), _row("B", lon, lat + 100 / M_PER_DEG_LAT, later, estate="乙小区"),
            _row("C", far_lon, far_lat, later, estate="甲小区"),
            _row("R", lon, lat, later, repeat_of="A", estate="甲小区"),
            _row("L", lon, lat, later + report_gap_window(NUISANCE) + timedelta(days=1), estate="丙小区")]
    found = {(a, b): why for a, b, why in rule_violations(rows)}
    assert found == {("A", "B"): "near", ("A", "C"): "same estate", ("B", "R"): "near", ("C", "R"): "same estate"}


def test_two_repeats_of_one_incident_open_at_once_break_the_rule_each_with_its_parent_does_not():
    lon, lat = 117.30, 31.80
    closed = T0 + timedelta(days=1)
    rows = [_row("A", lon, lat, T0, closed=closed),
            _row("R1", lon, lat, closed + timedelta(hours=2), repeat_of="A"),
            _row("R2", lon, lat, closed + timedelta(hours=5), repeat_of="A"),
            # a repeat of the repeat follows both the repeat and the incident it repeats
            _row("RR", lon, lat, closed + timedelta(days=20), repeat_of="R1")]
    assert rule_violations(rows) == [("R1", "R2", "near")]


def test_rule_violations_finds_a_bare_crossing_named_by_two_places_more_than_250_m_apart():
    crossing_lon, crossing_lat = NS_LON0 + 5 * NS_STEP, EW_LAT0 + 10 * EW_STEP
    ne = (crossing_lon + 95 / M_PER_DEG_LON, crossing_lat + 95 / M_PER_DEG_LAT)
    sw = (crossing_lon - 95 / M_PER_DEG_LON, crossing_lat - 95 / M_PER_DEG_LAT)
    assert distance_m(*ne, *sw) > 250 and crossing_place_key(*ne) == crossing_place_key(*sw)
    rows = [_row("X", *ne, T0, estate="丁"), _row("Y", *sw, T0 + timedelta(hours=1), estate="戊")]
    assert rule_violations(rows) == [("X", "Y", "same crossing")]


@pytest.fixture(scope="module")
def month(tmp_path_factory):
    home = tmp_path_factory.mktemp("month")
    summary = simulate(SimulationConfig(start=date(2024, 3, 1), days=30, per_day=1000, seed=20240301),
                       home / "landing", home / "truth", workers=2)
    return summary, pq.read_table(home / "truth" / "incidents.parquet").to_pylist()


def test_a_simulated_month_keeps_the_placement_rule(month):
    summary, incidents = month
    assert summary.placement["redraws"] > 0  # places were taken and re-drawn: the rule did work
    assert summary.placement["crowded"] == 0
    assert rule_violations(incidents) == []
    assert 0.15 <= summary.repeat_share <= 0.30


def test_hard_negatives_survive_the_placement_rule(month):
    _, incidents = month
    by_id = {r["incident_id"]: r for r in incidents}
    kinds = {r["hard_negative_kind"] for r in incidents if r["hard_negative_kind"]}
    assert kinds == {"same_estate_other_kind", "same_caller_other_kind", "neighbouring_road_same_kind"}
    for r in incidents:
        twin = by_id.get(r["hard_negative_of"])
        if twin is None:
            continue  # the twin had no delivered intake (reported after the period)
        if r["hard_negative_kind"] == "neighbouring_road_same_kind":
            assert r["kind_code"] == twin["kind_code"]
            assert distance_m(r["lon"], r["lat"], twin["lon"], twin["lat"]) > 250
            assert r["estate"] != twin["estate"]
            assert crossing_place_key(r["lon"], r["lat"]) != crossing_place_key(twin["lon"], twin["lat"])
        elif r["hard_negative_kind"] == "same_estate_other_kind":
            assert r["kind_code"] != twin["kind_code"] and r["estate"] == twin["estate"]
            assert r["first_received_at"].date() == twin["first_received_at"].date() or r["lead_channel"] == "petition"
