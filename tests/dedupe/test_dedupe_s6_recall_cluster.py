"""Session 6 (recall_cluster.patch): a case its unit still holds takes reports beyond the kind's window after its
first report, as long as its latest report is within the window."""
from dedupe.run import match

from dedupe_testkit import case_links, intake, write_intakes

LON, LAT = 117.3120, 31.7380
DAY = 60 * 24


def _neighbour_dispute(closed_minutes=None):
    # an acute kind (2-day window): reports 1.5 days apart, the third 3 days after the first, same caller and place
    text = "楼上邻居高空抛物，邻里纠纷"
    return [
        intake("N1", 0, text, lon=LON, lat=LAT, caller="c1", closed_minutes=closed_minutes),
        intake("N2", 1.5 * DAY, text, lon=LON, lat=LAT, caller="c1", dispatched=False),
        intake("N3", 3 * DAY, text, lon=LON, lat=LAT, caller="c1", dispatched=False),
    ]


def test_an_open_case_takes_a_report_beyond_the_window_after_its_first_one(tmp_path):
    write_intakes(tmp_path / "w.duckdb", _neighbour_dispute())
    match(tmp_path / "w.duckdb", tmp_path / "review")
    links = case_links(tmp_path / "w.duckdb")
    assert links[("12345", "N1")]["case_id"] == links[("12345", "N2")]["case_id"] == links[("12345", "N3")]["case_id"]


def test_a_case_its_unit_closed_does_not(tmp_path):
    write_intakes(tmp_path / "w.duckdb", _neighbour_dispute(closed_minutes=2 * DAY))
    match(tmp_path / "w.duckdb", tmp_path / "review")
    links = case_links(tmp_path / "w.duckdb")
    assert links[("12345", "N1")]["case_id"] == links[("12345", "N2")]["case_id"]
    assert links[("12345", "N3")]["case_id"] != links[("12345", "N1")]["case_id"]
