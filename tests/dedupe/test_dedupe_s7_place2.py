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


def test_a_missing_category_seed_is_said_not_silently_dropped(monkeypatch, tmp_path):
    monkeypatch.setattr(categories, "SEED", tmp_path / "absent.csv")
    categories._mapping.cache_clear()
    try:
        with pytest.warns(RuntimeWarning, match="absent.csv"):
            assert categories._mapping() == {}
    finally:
        categories._mapping.cache_clear()


def test_the_repository_seeds_are_read_without_a_warning():
    categories._mapping.cache_clear()
    records_mod._street_code_of_name.cache_clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert categories._mapping()
        assert records_mod._street_code_of_name()


def test_a_missing_divisions_seed_is_said(monkeypatch, tmp_path):
    monkeypatch.setattr(records_mod, "DIVISIONS", tmp_path / "absent.csv")
    records_mod._street_code_of_name.cache_clear()
    try:
        with pytest.warns(RuntimeWarning, match="absent.csv"):
            assert records_mod._street_code_of_name() == {}
    finally:
        records_mod._street_code_of_name.cache_clear()
