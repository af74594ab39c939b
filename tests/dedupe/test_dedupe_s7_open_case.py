"""Session 7: a case its unit still holds takes reports beyond the kind's window after its first report while its
latest report is within the window, up to OPEN_CASE_SPAN_FACTOR windows after the first (cluster.
_open_and_still_reported); a closed case, or one past that bound, does not."""
from dedupe import cluster
from dedupe.run import match

from dedupe_testkit import case_links, intake, write_intakes

LON, LAT = 117.3120, 31.7380
DAY = 60 * 24
TEXT = "小区门口堵车，车辆拥堵"  # an acute kind: a 2-day window


def _dispute(days: list[float], closed_minutes=None):
    """Reports of one jam (an acute kind), same caller and place; the first is dispatched, the others not."""
    return [intake(f"N{k + 1}", day * DAY, TEXT, lon=LON, lat=LAT, caller="c1",
                   closed_minutes=closed_minutes if k == 0 else None, dispatched=k == 0)
            for k, day in enumerate(days)]


def _cases(tmp_path, rows):
    write_intakes(tmp_path / "w.duckdb", rows)
    match(tmp_path / "w.duckdb", tmp_path / "review")
    links = case_links(tmp_path / "w.duckdb")
    return [links[("12345", row["source_id"])]["case_id"] for row in rows]


def test_an_open_case_takes_a_report_beyond_the_window_after_its_first_one(tmp_path):
    cases = _cases(tmp_path, _dispute([0, 1.5, 3]))
    assert cases[0] == cases[1] == cases[2]


def test_a_case_its_unit_closed_does_not(tmp_path):
    cases = _cases(tmp_path, _dispute([0, 1.5, 3], closed_minutes=2 * DAY))
    assert cases[0] == cases[1]
    assert cases[2] != cases[0]


def test_not_beyond_the_span_bound_though_every_gap_is_within_the_window(tmp_path):
    # gaps of 1.5 days (within the 2-day window) go on: the report 4.5 days after the first is past 2 windows
    assert cluster.OPEN_CASE_SPAN_FACTOR * 2 < 4.5
    cases = _cases(tmp_path, _dispute([0, 1.5, 3, 4.5]))
    assert cases[0] == cases[1] == cases[2]
    assert cases[3] != cases[0]


def test_not_when_the_latest_report_is_beyond_the_window(tmp_path):
    cases = _cases(tmp_path, _dispute([0, 1.0, 3.5]))
    assert cases[0] == cases[1]
    assert cases[2] != cases[0]
