"""End to end: simulate -> load -> cases -> dbt build, then the marts' metrics must equal an independent Python
computation from the simulator's truth (counts exact, rates within 0.001), on two seeds.

Cases are written from the truth (each true incident one case, its lead and links as the truth says) rather than by
the matcher: the metrics are then fully determined by the truth, so any difference is the warehouse's. The matcher's
accuracy is measured on its own (`gongzhi evaluate-matching`).

The expected figures are computed here in plain Python from truth/incidents.parquet: the handling facts (unit,
dispatch, signing, deadline, extension, closure, rating, reopening, return) come from the truth; only for a lead
whose feed carries no deadline does the test rebuild the deadline from the lead's own feed fields (category label,
demand type, urgency) with the seeds' mapping and time-limit rules (reference data, not the marts' SQL), counting
working days with the chinese_calendar library.
"""
from __future__ import annotations

import csv
import datetime as dt
from collections import Counter, defaultdict
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from warehouse.dbt_runner import run_dbt

simulator = pytest.importorskip("simulator.generator", reason="simulator.generator is not there yet")
load = pytest.importorskip("connectors.load", reason="connectors.load is not there yet")
api12345 = pytest.importorskip("connectors.api12345", reason="connectors.api12345 is not there yet")
server12345 = pytest.importorskip("simulator.server12345", reason="simulator.server12345 is not there yet")

import chinese_calendar  # noqa: E402

from connectors.pii import PiiHasher  # noqa: E402
from dedupe.schema import CASE_LINK_SCHEMA, CASE_MERGE_SCHEMA, CASE_SCHEMA  # noqa: E402

pytestmark = pytest.mark.slow

SEEDS = Path(__file__).resolve().parents[2] / "dbt" / "seeds"
START, DAYS, PER_DAY = dt.date(2024, 3, 18), 24, 70  # crosses a month end and the Qingming holiday
TOKEN = "e2e-token"
SATISFIED = {"满意", "基本满意"}
RATE_TOLERANCE = 0.001


# ---------------------------------------------------------------------------------------------------------------
# the chain

def simulate_and_load(home: Path, seed: int) -> dt.datetime:
    """Simulate and load every feed; return as_of, the simulation's end."""
    config = simulator.SimulationConfig(start=START, days=DAYS, per_day=PER_DAY, seed=seed)
    simulator.simulate(config, home / "landing", home / "truth")
    warehouse = home / "warehouse.duckdb"
    pii = PiiHasher("e2e-test-key")
    for channel in load.FILE_CHANNELS:
        load.load_file_feed(warehouse, home / "landing", channel, pii=pii)
    server = server12345.start_server(home / "landing" / "12345", port=0, token=TOKEN)
    try:
        load.load_12345(warehouse, server.url, TOKEN, api12345.CursorStore(home / "state" / "cursor.json"), pii=pii)
    finally:
        server.stop()
    return dt.datetime.combine(START + dt.timedelta(days=DAYS), dt.time())


def dbt_build(home: Path, as_of: dt.datetime) -> None:
    result = run_dbt("build", home, args=("--vars", f"{{as_of: '{as_of:%Y-%m-%d %H:%M:%S}'}}"))
    assert result.ok, result.output[-4000:]


def write_truth_cases(warehouse: Path, truth: Path) -> None:
    con = duckdb.connect(str(warehouse))
    try:
        intakes = con.execute(f"select channel, source_id, incident_id, is_lead, link_type "
                              f"from '{truth / 'intakes.parquet'}'").fetchall()
        incidents = con.execute(f"select incident_id, lead_channel, lead_source_id, repeat_of_incident_id, "
                                f"first_received_at from '{truth / 'incidents.parquet'}'").fetchall()
        links = pa.Table.from_pylist(
            [{"channel": c, "source_id": s, "case_id": i, "link_type": lt, "is_lead": lead,
              "match_score": None if lead else 1.0} for c, s, i, lead, lt in intakes], CASE_LINK_SCHEMA)
        cases = pa.Table.from_pylist(
            [{"case_id": i, "lead_channel": lc, "lead_source_id": ls, "repeat_of_case_id": r, "created_at": f}
             for i, lc, ls, r, f in incidents], CASE_SCHEMA)
        con.execute("create schema if not exists core")
        for name, table in (("case_link", links), ("case", cases), ("case_merge", CASE_MERGE_SCHEMA.empty_table())):
            con.register("incoming", table)
            con.execute(f'create or replace table core."{name}" as select * from incoming')
            con.unregister("incoming")
    finally:
        con.close()


# ---------------------------------------------------------------------------------------------------------------
# the independent computation

def read_seed(name: str) -> list[dict[str, str]]:
    with (SEEDS / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def is_workday(day: dt.date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


def add_workdays(start: dt.datetime, n: int) -> dt.datetime:
    day = start.date()
    while n > 0:
        day += dt.timedelta(days=1)
        n -= is_workday(day)
    return dt.datetime.combine(day, start.time())


class TimeLimits:
    """The deadline a lead without a feed deadline gets: its label's class and default demand type from
    category_mapping, then the most specific valid rule of time_limits."""

    def __init__(self) -> None:
        self.mapping = {(r["channel"], r["source_label"]): r for r in read_seed("category_mapping.csv")}
        self.rules = read_seed("time_limits.csv")

    def _label(self, channel: str, label: str | None) -> dict | None:
        if not label:
            return None
        parts = label.split("/")
        for candidate in (label, "/".join(parts[:2]), parts[0], parts[-1]):
            if (channel, candidate) in self.mapping:
                return self.mapping[(channel, candidate)]
        return None

    def deadline(self, lead: dict, dispatched_at: dt.datetime) -> dt.datetime:
        mapped = self._label(lead["channel"], lead["source_category"])
        major = mapped["category_l2_code"][:2] if mapped else "99"
        demand = lead["demand_type"] or (mapped["demand_type"] if mapped else None) or None
        urgency = lead["urgency"] or "一般"
        day = lead["received_at"].date()
        best, best_score = None, -1
        for rule in self.rules:
            wanted = {"channel": lead["channel"], "category_l1_code": major, "demand_type": demand,
                      "urgency": urgency}
            if all(rule[k] in ("*", v) for k, v in wanted.items()) and \
                    dt.date.fromisoformat(rule["valid_from"]) <= day <= dt.date.fromisoformat(rule["valid_to"]):
                score = sum(w for k, w in (("channel", 8), ("category_l1_code", 4), ("demand_type", 2),
                                           ("urgency", 1)) if rule[k] != "*")
                if score > best_score:
                    best, best_score = rule, score
        value = int(best["limit_value"])
        if best["limit_unit"] == "working_days":
            return add_workdays(dispatched_at, value)
        if best["limit_unit"] == "calendar_days":
            return dispatched_at + dt.timedelta(days=value)
        return dispatched_at + dt.timedelta(hours=value)


def month_of(t: dt.datetime | dt.date) -> dt.date:
    return dt.date(t.year, t.month, 1)


def expected_metrics(home: Path, as_of: dt.datetime):
    con = duckdb.connect()
    cur = con.execute(f"select * from '{home / 'truth' / 'incidents.parquet'}'")
    names = [d[0] for d in cur.description]
    incidents = [dict(zip(names, r)) for r in cur.fetchall()]
    platforms = {r["unit"] for r in read_seed("units.csv") if r["unit_type"] == "platform"}
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as wh:  # the leads' own feed fields
        cur = wh.execute("select channel, source_id, source_category, demand_type, urgency, received_at "
                         "from core.intake")
        names = [d[0] for d in cur.description]
        feed = {(r[0], r[1]): dict(zip(names, r)) for r in cur.fetchall()}
    limits = TimeLimits()

    monthly: dict[tuple, Counter] = defaultdict(Counter)
    totals: dict[str, Counter] = defaultdict(Counter)
    for inc in incidents:
        unit = inc["unit"]
        if unit is None or unit in platforms:
            continue
        m = monthly
        created = (month_of(inc["first_received_at"]), unit)
        m[created]["created_cases"] += 1
        m[created]["repeat_cases"] += inc["repeat_of_incident_id"] is not None
        dispatched = inc["dispatched_at"]
        closed = inc["closed_at"]
        if dispatched is None:
            continue
        key = (month_of(dispatched), unit)
        m[key]["dispatched_cases"] += 1
        m[key]["dispatched_closed_cases"] += closed is not None
        m[key]["returned_cases"] += bool(inc["returned"])
        if inc["lead_channel"] == "12345":
            m[key]["sign_due_cases"] += 1
            m[key]["signed_on_time_cases"] += (inc["signed_at"] is not None
                                              and inc["signed_at"] <= add_workdays(dispatched, 1))
        deadline = inc["extended_deadline_at"] or inc["deadline_at"]
        if deadline is None:
            deadline = limits.deadline(feed[(inc["lead_channel"], inc["lead_source_id"])], dispatched)
        if closed is not None or deadline < as_of:
            due = (month_of(deadline), unit)
            m[due]["due_cases"] += 1
            m[due]["closed_on_time_cases"] += closed is not None and closed <= deadline
        ever_closed = closed is not None or bool(inc["reopened"])
        totals[unit]["closed_cases"] += ever_closed
        totals[unit]["reopened_cases"] += ever_closed and bool(inc["reopened"])
        if inc["rating"] is not None:
            totals[unit]["rated_callbacks"] += 1
            totals[unit]["satisfied_callbacks"] += inc["rating"] in SATISFIED
        if not ever_closed and deadline < as_of and dispatched < as_of:
            totals[unit]["overdue_cases"] += 1
    return monthly, totals


def check_chain_with_the_real_matcher(home: Path, as_of: dt.datetime) -> None:
    """The whole chain with the matcher: dbt build (schema tests, contracts) passes on its output, and what does
    not depend on case boundaries equals the truth: intakes per day and channel, and every intake in one case."""
    match_module = pytest.importorskip("dedupe.run", reason="dedupe.run is not there yet")
    match_module.match(home / "warehouse.duckdb", home / "review")
    dbt_build(home, as_of)
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        got = dict(((d, c), n) for d, c, n in con.execute(
            "select day, channel, intakes from marts.mart_intake_daily where intakes > 0").fetchall())
        want = dict(((d, c), n) for d, c, n in con.execute(
            f"select cast(received_at as date), channel, count(*) from '{home / 'truth' / 'intakes.parquet'}' "
            f"group by all").fetchall())
        assert got == want
        without_case = con.execute("select count(*) from marts.fct_intake where case_id is null").fetchone()[0]
        assert without_case == 0


MONTHLY_COUNTS = ("created_cases", "repeat_cases", "dispatched_cases", "dispatched_closed_cases", "returned_cases",
                  "sign_due_cases", "signed_on_time_cases", "due_cases", "closed_on_time_cases")
MONTHLY_RATES = {"sign_on_time_rate": ("signed_on_time_cases", "sign_due_cases"),
                 "closed_on_time_rate": ("closed_on_time_cases", "due_cases"),
                 "closure_rate": ("dispatched_closed_cases", "dispatched_cases"),
                 "return_rate": ("returned_cases", "dispatched_cases"),
                 "repeat_rate": ("repeat_cases", "created_cases")}
TOTAL_COUNTS = ("closed_cases", "reopened_cases", "rated_callbacks", "satisfied_callbacks")


def rate(num: int, den: int) -> float | None:
    return num / den if den else None


@pytest.mark.parametrize("seed", [20240301, 7])
def test_marts_equal_an_independent_computation_from_the_truth(tmp_path, seed):
    as_of = simulate_and_load(tmp_path, seed)
    if seed == 7:
        check_chain_with_the_real_matcher(tmp_path, as_of)
    write_truth_cases(tmp_path / "warehouse.duckdb", tmp_path / "truth")
    dbt_build(tmp_path, as_of)
    expected_monthly, expected_totals = expected_metrics(tmp_path, as_of)

    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        cur = con.execute("select * from marts.mart_unit_monthly")
        names = [d[0] for d in cur.description]
        mart = {(r["month"], r["unit"]): r for r in (dict(zip(names, row)) for row in cur.fetchall())}
        daily = {(d, c): (i, n) for d, c, i, n in
                 con.execute("select day, channel, intakes, new_cases from marts.mart_intake_daily").fetchall()}
        truth_daily = con.execute(
            f"select cast(received_at as date), channel, count(*), count(*) filter (where is_lead) "
            f"from '{tmp_path / 'truth' / 'intakes.parquet'}' group by all").fetchall()
        unmapped = con.execute("select channel, source_category, count(*) from marts.fct_intake "
                               "where is_unmapped_category group by all").fetchall()

    # every label a feed delivers, including 12345 labels cut short (empty fl3/fl2), has a unified category
    assert unmapped == [], f"feed labels in no mapping: {unmapped}"
    assert len(expected_monthly) >= 10
    for key, want in expected_monthly.items():
        got = mart.get(key)
        assert got is not None, f"no mart row for {key}"
        for column in MONTHLY_COUNTS:
            assert got[column] == want[column], (key, column, got[column], want[column])
        for column, (num, den) in MONTHLY_RATES.items():
            want_rate = rate(want[num], want[den])
            assert (got[column] is None) == (want_rate is None), (key, column)
            if want_rate is not None:
                assert abs(got[column] - want_rate) <= RATE_TOLERANCE, (key, column, got[column], want_rate)

    for key, got in mart.items():  # the mart has no unit-month the truth does not have
        if key not in expected_monthly:
            assert all(got[column] == 0 for column in MONTHLY_COUNTS), key

    got_totals: dict[str, Counter] = defaultdict(Counter)
    for (month, unit), row in mart.items():
        for column in TOTAL_COUNTS:
            got_totals[unit][column] += row[column]
        if month == month_of(as_of - dt.timedelta(seconds=1)):
            got_totals[unit]["overdue_cases"] += row["overdue_cases"]
    for unit in set(expected_totals) | set(got_totals):
        for column in TOTAL_COUNTS + ("overdue_cases",):
            assert got_totals[unit][column] == expected_totals[unit][column], (unit, column)
        want_sat = rate(expected_totals[unit]["satisfied_callbacks"], expected_totals[unit]["rated_callbacks"])
        got_sat = rate(got_totals[unit]["satisfied_callbacks"], got_totals[unit]["rated_callbacks"])
        assert (want_sat is None and got_sat is None) or abs(got_sat - want_sat) <= RATE_TOLERANCE

    for day, channel, intakes, leads in truth_daily:
        assert daily[(day, channel)] == (intakes, leads), (day, channel)
