"""Generate the seeds that are derived from maintained sources rather than typed by hand.

* ``seeds/work_calendar.csv`` from the ``chinese_calendar`` library (public holidays and make-up working days)
* ``seeds/divisions.csv`` from ``../shared/reference/hefei_divisions_2021.csv`` (all of Hefei)

* ``seeds/category_mapping.csv``, ``units.csv``, ``unit_aliases.csv`` from ``simulator/catalog.py`` (catalog_seeds.py)

Run: ``.venv/bin/python dbt/scripts/generate_seeds.py``. A test checks the committed CSVs are current.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import sys
from pathlib import Path

import chinese_calendar

# catalog_seeds sits next to this file; the repository root holds the simulator package
sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[2])]

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "hefei_divisions_2021.csv"
FIRST_YEAR = 2023
LAST_YEAR = 2027  # years beyond the library's range fall back to Monday-Friday and are flagged as such


def calendar_rows(first_year: int = FIRST_YEAR, last_year: int = LAST_YEAR) -> list[dict[str, object]]:
    rows = []
    day = dt.date(first_year, 1, 1)
    while day <= dt.date(last_year, 12, 31):
        try:
            is_workday = chinese_calendar.is_workday(day)
            _, holiday = chinese_calendar.get_holiday_detail(day)
            source = "chinese_calendar"
        except NotImplementedError:  # the library publishes each year's schedule once the State Council does
            is_workday, holiday, source = day.weekday() < 5, None, "weekday_fallback"
        rows.append(
            {
                "day": day.isoformat(),
                "is_workday": "true" if is_workday else "false",
                "holiday_name": holiday or "",
                "source": source,
            }
        )
        day += dt.timedelta(days=1)
    return rows


def calendar_csv() -> str:
    return _to_csv(["day", "is_workday", "holiday_name", "source"], calendar_rows())


def divisions_csv(reference: Path = REFERENCE) -> str:
    with reference.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return _to_csv(["code", "name", "level", "parent_code"], rows)


def _to_csv(columns: list[str], rows: list[dict[str, object]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def category_mapping_csv() -> str:
    from catalog_seeds import category_mapping_rows

    return _to_csv(["channel", "source_label", "category_l2_code", "category_l2", "demand_type"], category_mapping_rows())


def units_csv() -> str:
    from catalog_seeds import unit_rows

    return _to_csv(["unit", "unit_type", "street_code"], unit_rows()[0])


def unit_aliases_csv() -> str:
    from catalog_seeds import unit_rows

    return _to_csv(["alias", "unit"], unit_rows()[1])


# Order matters: the catalogue seeds read divisions.csv.
GENERATED = {
    "work_calendar.csv": calendar_csv,
    "divisions.csv": divisions_csv,
    "category_mapping.csv": category_mapping_csv,
    "units.csv": units_csv,
    "unit_aliases.csv": unit_aliases_csv,
}


def main(argv: list[str]) -> int:
    for name, build in GENERATED.items():
        (SEEDS / name).write_text(build(), encoding="utf-8")
        print(f"wrote {SEEDS / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
