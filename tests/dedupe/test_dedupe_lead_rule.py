"""The lead rule is written once (records.TO_UNIT_SQL + LEAD_ORDER_SQL); clustering (Python, CaseState.lead) and
the warehouse's link derivation (SQL, store.derive_links) must pick the same lead for any case. And the links of a
case are derived again when a later version of one of its intakes changes its lead, even if no new intake joins it."""
from datetime import datetime, timedelta

import duckdb
import pyarrow as pa
import pyarrow.compute  # noqa: F401  (pa.compute)
from hypothesis import HealthCheck, given, settings, strategies as st

from dedupe_testkit import T0, case_links, intake, intake_table, scene, write_intakes
from dedupe import cluster, records as records_mod, store
from dedupe.run import match
from dedupe.schema import CASE_LINK_SCHEMA, CASE_SCHEMA

CHANNELS = ("110", "12345", "hotline", "petition")

intake_strategy = st.fixed_dictionaries({
    "minute": st.integers(0, 3),  # few distinct times: ties are common, decided by channel and source id
    "channel": st.sampled_from(CHANNELS),
    "dispatched": st.booleans(),
    "unit": st.sampled_from([None, "", "包河区城管局"]),
    "handed_to": st.sampled_from([None, records_mod.HANDED_TO_PLATFORM, "交警大队"]),
    "caller": st.sampled_from([None, "c1", "c2"]),
    "case": st.integers(0, 2),
    "stored": st.booleans(),  # linked by an earlier run (read with its intake row) or new in this run
})


def _table(drawn: list[dict]) -> tuple[pa.Table, list[int], list[bool]]:
    rows = []
    for k, d in enumerate(drawn):
        row = intake(f"S{(k * 7) % len(drawn)}-{k}", d["minute"], "井盖缺失", channel=d["channel"],
                     caller=d["caller"], dispatched=d["dispatched"])
        row.update(unit=d["unit"], handed_to=d["handed_to"])
        rows.append(row)
    return intake_table(rows), [d["case"] for d in drawn], [d["stored"] for d in drawn]


def _sql_leads(table: pa.Table, case_of: list[int], stored: list[bool]) -> set[tuple[str, str]]:
    con = duckdb.connect()
    try:
        con.execute("CREATE SCHEMA core")
        con.register("incoming", table)
        con.execute("CREATE TABLE core.intake AS SELECT * FROM incoming")
        store.create_output_tables(con)
        case_ids = sorted(set(case_of))
        con.register("cases", pa.table({
            "case_id": [f"K{c}" for c in case_ids], "lead_channel": ["?"] * len(case_ids),
            "lead_source_id": ["?"] * len(case_ids), "repeat_of_case_id": [None] * len(case_ids),
            "merged_into_case_id": [None] * len(case_ids), "created_at": [T0 + timedelta(days=1)] * len(case_ids),
        }, schema=CASE_SCHEMA))
        con.execute('INSERT INTO core."case" SELECT * FROM cases')
        n = table.num_rows
        links = pa.table({
            "channel": table.column("channel"), "source_id": table.column("source_id"),
            "case_id": [f"K{c}" for c in case_of], "link_type": ["duplicate"] * n, "is_lead": [False] * n,
            "match_score": [0.99] * n, "matched_to_channel": [None] * n, "matched_to_source_id": [None] * n,
            # a new row carries its intake's facts: TO_UNIT_SQL as prepare() evaluates it
            "received_at": table.column("received_at"), "to_unit": records_mod.dispatched_to_unit(table),
            "caller_key": table.column("caller_key"),
        }, schema=store.NEW_LINK_SCHEMA)
        old = pa.array(stored)
        con.register("old_links", links.filter(old).select(CASE_LINK_SCHEMA.names))
        con.execute("INSERT INTO core.case_link SELECT * FROM old_links")
        con.register("new_links", links.filter(pa.compute.invert(old)))
        # stored rows are read again with their intake (their versions are recent: since is earlier)
        store.derive_links(con, "new_links", datetime(2000, 1, 1), [])
        assert con.execute("SELECT count(*) FROM core.case_link").fetchall() == [(n,)]
        leads = set(con.execute("SELECT channel, source_id FROM core.case_link WHERE is_lead").fetchall())
        case_leads = set(con.execute('SELECT lead_channel, lead_source_id FROM core."case"').fetchall())
        assert case_leads == leads  # core.case names the same lead
        return leads
    finally:
        con.close()


def _python_leads(table: pa.Table, case_of: list[int]) -> set[tuple[str, str]]:
    records = records_mod.prepare(table)
    index = {records.key(k): k for k in range(len(records))}
    keys = list(zip(table.column("channel").to_pylist(), table.column("source_id").to_pylist()))
    leads = set()
    for c in sorted(set(case_of)):
        members = [index[key] for key, cc in zip(keys, case_of) if cc == c]
        state = cluster.CaseState(case_id=f"K{c}", first_index=members[0], first_t=0.0, window_s=0.0, members=members)
        leads.add(records.key(state.lead(records)))
    return leads


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(intake_strategy, min_size=1, max_size=10))
def test_clustering_and_the_warehouse_pick_the_same_lead(drawn):
    table, case_of, stored = _table(drawn)
    assert _python_leads(table, case_of) == _sql_leads(table, case_of, stored)


def test_dispatched_to_unit_reads_the_one_rule():
    rows = [intake("a", 0, "x", dispatched=True), intake("b", 1, "x", dispatched=False),
            intake("c", 2, "x", dispatched=False), intake("d", 3, "x", dispatched=False),
            intake("e", 4, "x", channel="110", dispatched=True)]
    rows[2]["unit"] = "包河区城管局"  # a named unit without a dispatch time (petition 责任单位)
    rows[3]["unit"] = ""  # an empty unit names none
    rows[4]["handed_to"] = records_mod.HANDED_TO_PLATFORM  # handed to the platform, not to a unit
    assert records_mod.dispatched_to_unit(intake_table(rows)).tolist() == [True, False, True, False, False]


def test_a_later_version_that_dispatches_an_intake_moves_the_lead_without_new_members(tmp_path, monkeypatch):
    # the scene's operating point (see test_dedupe_matching.operating_point): its four manhole reports form one case
    monkeypatch.setattr(cluster, "AUTO_MATCH", 0.85)
    monkeypatch.setattr(cluster, "REVIEW_LOW", 0.3)
    warehouse = tmp_path / "w.duckdb"
    rows = scene()
    for row in rows:
        if row["source_id"] in ("A1", "110-1", "H1"):
            row["dispatched_at"] = None  # with A2 (never dispatched): no manhole report dispatched yet
    write_intakes(warehouse, rows)
    match(warehouse, tmp_path / "review")
    before = case_links(warehouse)
    manhole = before[("12345", "A1")]["case_id"]
    assert {before[k]["case_id"] for k in (("12345", "A2"), ("110", "110-1"), ("hotline", "H1"))} == {manhole}
    assert before[("110", "110-1")]["is_lead"]  # none dispatched: the earliest leads
    # a later version dispatches H1; an unrelated report far away arrives in the same delivery
    for row in rows:
        if row["source_id"] == "H1":
            row["dispatched_at"] = T0 + timedelta(hours=3)
            row["version_at"] = T0 + timedelta(hours=3)
    rows.append(intake("Z1", 8 * 60, "市民来电反映：某小区电梯故障。", address="滨湖某小区", lon=117.35, lat=31.70,
                       caller="c99", category="城乡建设/物业管理/电梯"))
    write_intakes(warehouse, rows)
    report = match(warehouse, tmp_path / "review")
    after = case_links(warehouse)
    assert report.intakes_matched == 1
    assert after[("hotline", "H1")]["is_lead"] and not after[("110", "110-1")]["is_lead"]
    assert after[("110", "110-1")]["link_type"] != "lead"
    assert {k: v["case_id"] for k, v in after.items() if k in before} == {k: v["case_id"] for k, v in before.items()}
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        lead = con.execute('SELECT lead_source_id FROM core."case" WHERE case_id = ?',
                           [after[("hotline", "H1")]["case_id"]]).fetchall()
    finally:
        con.close()
    assert lead == [("H1",)]
