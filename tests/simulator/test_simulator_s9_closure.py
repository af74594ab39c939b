"""Session 9: no intake is filed under an incident it reaches after that incident's closure (domain.md: a report
after closure is a repeat, a new incident). The closure is the lead intake's, a 直接答复 without dispatch included;
the time checked is the one the report is finally received at (a petition's registration date, a 110 relay)."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pyarrow.parquet as pq
import pytest

from simulator import SimulationConfig, simulate
from simulator.generator import Strand

CONFIG = SimulationConfig(start=date(2024, 3, 1), days=20, per_day=400, seed=11)


@pytest.fixture(scope="module")
def month_truth(tmp_path_factory):
    # at HEAD 1c3e86c this month filed 44 intakes of 33 incidents after their closure (5 dispatched leads,
    # 28 answered directly)
    root = tmp_path_factory.mktemp("s9_closure")
    summary = simulate(CONFIG, root / "landing", root / "truth", workers=1)
    intakes = pq.read_table(root / "truth" / "intakes.parquet").to_pylist()
    incidents = {r["incident_id"]: r for r in pq.read_table(root / "truth" / "incidents.parquet").to_pylist()}
    return summary, intakes, incidents


def test_no_intake_is_received_after_its_incidents_closure(month_truth):
    _, intakes, incidents = month_truth
    closed = [i for i in incidents.values() if i["closed_at"] is not None]
    assert any(i["answered_directly"] for i in closed) and any(i["dispatched_at"] for i in closed)
    late = [(r["incident_id"], r["source_id"], r["received_at"], incidents[r["incident_id"]]["closed_at"])
            for r in intakes
            if incidents[r["incident_id"]]["closed_at"] is not None and not incidents[r["incident_id"]]["reopened"]
            and r["received_at"] > incidents[r["incident_id"]]["closed_at"]]
    assert late == []


def test_reports_after_a_direct_answer_open_repeat_incidents(month_truth):
    _, _, incidents = month_truth
    parents = [incidents[i["repeat_of_incident_id"]] for i in incidents.values() if i["repeat_of_incident_id"]]
    assert any(p["answered_directly"] and p["dispatched_at"] is None for p in parents)
    assert any(p["dispatched_at"] is not None for p in parents)
    for child in (i for i in incidents.values() if i["repeat_of_incident_id"]):
        parent = incidents[child["repeat_of_incident_id"]]
        assert parent["closed_at"] is not None and child["first_received_at"] > parent["closed_at"]


def test_the_repeat_share_stays_in_the_domains_range(month_truth):
    summary, intakes, _ = month_truth
    assert 0.15 <= summary.repeat_share <= 0.30
    assert summary.repeat_share == pytest.approx(sum(r["link_type"] != "lead" for r in intakes) / len(intakes))


@pytest.mark.parametrize("channel, t, after, arrives", [
    ("12345", datetime(2024, 3, 5, 10), datetime(2024, 3, 5, 9), datetime(2024, 3, 5, 10)),
    ("hotline", datetime(2024, 3, 5, 10), datetime(2024, 3, 5, 9), datetime(2024, 3, 5, 10)),
    ("110", datetime(2024, 3, 5, 10), datetime(2024, 3, 5, 9), datetime(2024, 3, 5, 10) + timedelta(minutes=65)),
    # a petition is registered on its date; one whose date began before `after` is registered the next day
    ("petition", datetime(2024, 3, 5, 10), datetime(2024, 3, 4, 23), datetime(2024, 3, 5)),
    ("petition", datetime(2024, 3, 5, 10), datetime(2024, 3, 5, 9), datetime(2024, 3, 6)),
])
def test_the_latest_receipt_of_a_report_by_channel(channel, t, after, arrives):
    assert Strand._arrives_by(channel, t, after) == arrives
