"""Session 7b: what the place of an intake without a point of its own rests on (records.place_evidence, used by
`benchmarks matching diagnose`), and the warning when a seed the matcher reads is missing."""
from __future__ import annotations

import warnings

import pytest

from dedupe import categories, records as records_mod
from dedupe_testkit import intake, intake_table

LON, LAT = 117.30, 31.80


def test_place_evidence_names_what_each_intake_rests_on():
    rows = [
        intake("A1", 0, "井盖破损", address="滨湖世纪城小区", lon=LON, lat=LAT),  # own point
        intake("A2", 10, "井盖破损", channel="110", address="滨湖世纪城小区"),  # borrows the estate's point
        intake("A3", 20, "井盖破损", channel="110", address="徽州大道与南宁路交口"),
        intake("A4", 30, "井盖破损", channel="110", address="徽州大道与南宁路交口东300米"),
        intake("A5", 40, "井盖破损", channel="110", address="徽州大道100号"),
        intake("A6", 50, "井盖破损", channel="110", address="徽州大道附近"),
        intake("A7", 60, "井盖破损", channel="110", address="骆岗街道"),
        intake("A8", 70, "井盖破损", channel="110", address="附近"),
    ]
    records = records_mod.prepare(intake_table(rows))
    label = dict(zip(records.source_id, records_mod.place_evidence(records)))
    assert label == {"A1": "own_point", "A2": "estate", "A3": "crossing", "A4": "crossing_offset",
                     "A5": "road_number", "A6": "road", "A7": "street", "A8": "none"}
    assert set(label.values()) == set(records_mod.PLACE_EVIDENCE)
    # the estate's borrowed point is not the intake's own: it is still an intake without a point of its own
    assert records.approximate[records.source_id.index("A2")]


# each seed the matcher reads: (module, the attribute naming its file, the cached loader)
SEED_READERS = [(categories, "SEED", categories._mapping), (records_mod, "DIVISIONS", records_mod._street_code_of_name),
                (records_mod, "UNIT_ALIASES", records_mod._unit_of_alias)]


@pytest.mark.parametrize("module, attribute, loader", SEED_READERS, ids=[a for _, a, _ in SEED_READERS])
def test_a_missing_seed_is_said_not_silently_dropped(monkeypatch, tmp_path, module, attribute, loader):
    monkeypatch.setattr(module, attribute, tmp_path / "absent.csv")
    loader.cache_clear()
    try:
        with pytest.warns(RuntimeWarning, match="absent.csv"):
            assert loader() == {}
    finally:
        loader.cache_clear()


def test_the_repository_seeds_are_read_without_a_warning():
    for _, _, loader in SEED_READERS:
        loader.cache_clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _, attribute, loader in SEED_READERS:
            assert loader(), attribute


def _numbered_road(numbers: list[int], call_number: int = 55) -> list[dict]:
    """Located 12345 orders on one road, the k-th 100 m further east, numbered as given; and a 110 call without a
    point at `call_number`."""
    rows = [intake(f"N{k}", k, "路灯不亮", address=f"徽州大道{number}号", lon=LON + k * 100 / 94_500.0, lat=LAT)
            for k, number in enumerate(numbers)]
    return rows + [intake("CALL", 100, "路灯不亮", channel="110", address=f"徽州大道{call_number}号")]


def test_a_road_number_takes_the_point_of_its_number_band_where_numbers_run_along_the_road():
    ordered = [10 * (k + 1) for k in range(12)]  # 10, 20, ... 120 from west to east
    records = records_mod.prepare(intake_table(_numbered_road(ordered)))
    call = records.source_id.index("CALL")
    assert records.approximate[call] and records.has_point[call]
    # numbers 40-70 are within the band of 55: the 4th to 7th orders, 300-600 m east; the line through them (and
    # their median) puts 55 at 450 m
    east_m = (records.lon[call] - LON) * 94_500.0
    assert abs(east_m - 450) < 5
    assert records_mod.place_evidence(records)[call] == "road_number"


@pytest.mark.parametrize("call_number, east_m", [(12, 20.0), (118, 1080.0), (55, 450.0)])
def test_a_road_number_lies_on_the_line_through_its_neighbours(call_number, east_m):
    """Session 12: near the band's edge the band's median is up to HOUSE_NUMBER_BAND numbers away (12 took the
    point of 20, 80 m off; 118 that of 110); a straight line through the band's located numbers puts it in place."""
    ordered = [10 * (k + 1) for k in range(12)]  # number n lies (n / 10 - 1) * 100 m east
    records = records_mod.prepare(intake_table(_numbered_road(ordered, call_number)))
    call = records.source_id.index("CALL")
    assert records.approximate[call]
    assert abs((records.lon[call] - LON) * 94_500.0 - east_m) < 5


def test_random_house_numbers_place_nothing():
    shuffled = [70, 120, 10, 90, 40, 110, 20, 60, 100, 30, 80, 50]  # rho between number and position ~ 0
    records = records_mod.prepare(intake_table(_numbered_road(shuffled)))
    call = records.source_id.index("CALL")
    assert not records.approximate[call] and not records.has_point[call]


def test_number_order_needs_enough_located_intakes():
    import numpy as np

    few = np.arange(records_mod.MIN_NUMBERED_POINTS - 1)
    assert not records_mod.numbers_run_along(few, few * 100.0, few * 0.0)
    enough = np.arange(records_mod.MIN_NUMBERED_POINTS)
    assert records_mod.numbers_run_along(enough, enough * 0.0 + 5.0, -enough * 80.0)  # north to south, descending


def test_an_estate_the_text_names_wins_over_the_number_band():
    rows = _numbered_road([10 * (k + 1) for k in range(12)])
    rows.append(intake("EST", 101, "滨湖世纪城小区门口路灯不亮", address="滨湖世纪城小区", lon=LON, lat=LAT + 0.01))
    rows[-2]["content"] = "滨湖世纪城小区门口路灯不亮"  # the 110 call at number 55 names the estate in its text
    records = records_mod.prepare(intake_table(rows))
    call = records.source_id.index("CALL")
    assert records.approximate[call]
    assert abs(records.lat[call] - (LAT + 0.01)) < 1e-9 and abs(records.lon[call] - LON) < 1e-9


def test_the_running_sums_give_each_band_its_own_least_squares_line():
    """_points_of_numbers fits every wanted number of a road at once; each must equal a fit of its own band alone
    (np.polyfit), or the band's median where it holds fewer than MIN_FIT_NUMBERS distinct numbers."""
    import numpy as np

    rng = np.random.default_rng(1)
    numbers = np.r_[rng.integers(1, 400, 60), [600, 600, 604]]  # the last band: two distinct numbers only
    lon = 117.3 + numbers * 1e-5 + rng.normal(0, 3e-4, len(numbers))
    lat = 31.8 + numbers * 2e-6 + rng.normal(0, 3e-4, len(numbers))
    wanted = np.array([1, 5, 50, 133, 399, 602, 480])
    out_lon, out_lat, found = records_mod._points_of_numbers(numbers, lon, lat, wanted)
    for k, w in enumerate(wanted.tolist()):
        near = np.abs(numbers - w) <= records_mod.HOUSE_NUMBER_BAND
        assert found[k] == near.any()
        if not near.any():
            continue
        if len(np.unique(numbers[near])) >= records_mod.MIN_FIT_NUMBERS:
            expected = [np.polyval(np.polyfit(numbers[near], v[near], 1), w) for v in (lon, lat)]
        else:
            expected = [np.median(v[near]) for v in (lon, lat)]
        assert abs(out_lon[k] - expected[0]) < 1e-9 and abs(out_lat[k] - expected[1]) < 1e-9
