"""The generated seeds are current, the calendar is the library's, and every label the simulator emits is mapped."""
from __future__ import annotations

import csv
import datetime as dt
import sys
from pathlib import Path

import chinese_calendar
import pytest

SEEDS = Path(__file__).resolve().parents[2] / "dbt" / "seeds"
sys.path.insert(0, str(SEEDS.parent / "scripts"))

import generate_seeds  # noqa: E402


def read(name: str) -> list[dict[str, str]]:
    with (SEEDS / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("name", sorted(generate_seeds.GENERATED))
def test_generated_seed_is_current(name):
    if name == "divisions.csv" and not generate_seeds.REFERENCE.exists():
        pytest.skip(f"reference file {generate_seeds.REFERENCE} not present")
    committed = (SEEDS / name).read_text(encoding="utf-8")
    assert committed == generate_seeds.GENERATED[name](), f"run dbt/scripts/generate_seeds.py and commit {name}"


def test_calendar_matches_the_library_and_covers_the_years():
    rows = read("work_calendar.csv")
    days = [dt.date.fromisoformat(r["day"]) for r in rows]
    assert days[0] <= dt.date(2023, 1, 1) and days[-1] >= dt.date(2027, 12, 31)
    checked = 0
    for row, day in zip(rows, days):
        if row["source"] == "chinese_calendar":
            assert (row["is_workday"] == "true") == chinese_calendar.is_workday(day), day
            checked += 1
        else:
            with pytest.raises(NotImplementedError):  # only days the library does not know fall back
                chinese_calendar.is_workday(day)
    assert checked >= 4 * 365
    by_day = {r["day"]: r for r in rows}
    assert by_day["2024-04-04"]["is_workday"] == "false" and by_day["2024-04-07"]["is_workday"] == "true"


def test_every_simulator_label_maps_to_a_real_class():
    from simulator import catalog

    mapping = {(r["channel"], r["source_label"]): r["category_l2_code"] for r in read("category_mapping.csv")}
    taxonomy = {r["category_l2_code"]: r for r in read("category_taxonomy.csv")}
    unmapped = [(r["channel"], r["source_category"]) for r in catalog.category_label_rows()
                if r["source_category"] and (r["channel"], r["source_category"]) not in mapping]
    assert unmapped == []
    assert all(taxonomy[code]["is_fallback"] == "false" for code in mapping.values())
    majors = {r["category_l1_code"] for r in taxonomy.values() if r["is_fallback"] == "false"}
    assert len(majors) == 10 and 90 <= len(taxonomy) <= 130


def test_every_unit_the_simulator_names_is_known():
    from simulator import catalog

    aliases = {r["alias"]: r["unit"] for r in read("unit_aliases.csv")}
    units = {r["unit"]: r for r in read("units.csv")}
    for name, short in catalog.UNITS.items():
        assert aliases[name] == name and aliases[short] == name
    offices = [u for u in units.values() if u["unit_type"] == "street_office"]
    assert len(offices) == 13 and all(u["street_code"].startswith("340111") for u in offices)
