"""A tiny hand-made warehouse: core tables per connectors/schema.py and dedupe/schema.py, covering every metric
branch. The expected figures in the tests are worked out by hand from the story below.

Units: CG = 包河区城市管理局 (feeds also write 区城管局), LG = 骆岗街道办事处 (street 340111001).
Calendar facts used: 2024-03-09/10 is a weekend; 2024-04-04..06 is Qingming (off), 2024-04-07 (Sunday) a
make-up working day.

C1  12345 A1 lead + 110 B1 duplicate + hotline H1 duplicate + 12345 A7 (from merged case C7): three channels.
    dispatched Fri 03-01 10:00 to CG, signed Mon 03-04 09:00 (due Mon 10:00: on time), deadline 03-08,
    closed 03-07 (on time), callback 满意 03-08.
C2  12345 A2 lead. dispatched Wed 04-03 16:00 to CG; sign due Sun 04-07 16:00 (make-up day); signed Mon 04-08
    (late). deadline 04-10, extension approved -> 04-20, closed 04-18 (on time), callback 基本满意 04-19.
C3  12345 A3 lead. dispatched 03-05 09:00 to LG, returned 03-05 11:00, redispatched to LG, signed 03-05 15:00
    (on time), deadline 03-15, closed 03-20 (late), callback 不满意 03-21, reopened 03-21, closed 03-25,
    callback 满意 03-26.
C4  12345 A4 lead, 咨询, no deadline in the feed. dispatched Sun 03-10 10:00 to CG (unit spelt 区城管局);
    never signed or closed. Limit 2 working days -> deadline Tue 03-12 10:00: overdue at the end of March and
    April.
C5  12345 A5 lead, answered directly (直接答复) 03-02: no unit, never dispatched.
C6  hotline H6 lead, repeat of C1 (closed). received 03-12, dispatched 03-12 09:00 to CG, signed 03-12 10:00,
    deadline 03-20, closed 03-19, rating score 3 (基本满意 under the default mapping), no callback event.
C7  12345 A7 lead once, merged into C1 on 03-03; case_link still names C7 (the survivor is resolved in dbt).
    dispatched 03-02 to LG: must count nowhere.
C8  petition P8 lead (a group visit of 3, marked repeat by the clerk). dispatched 03-04 to LG, deadline 05-03
    (feed), open: not due before as_of.
Two 110 rows quarantined on 03-01. as_of defaults to the latest time in the data (2024-04-19 10:00).
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pyarrow as pa

from connectors.schema import EVENT_SCHEMA, INTAKE_SCHEMA, LOAD_LOG_SCHEMA, QUARANTINE_SCHEMA
from dedupe.schema import CASE_LINK_SCHEMA, CASE_MERGE_SCHEMA, CASE_SCHEMA

CG, CG_SHORT, LG = "包河区城市管理局", "区城管局", "骆岗街道办事处"
LG_STREET, LG_COMMUNITY = "340111001", "340111001001"


def t(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def _intake(channel, source_id, received, **kw):
    row = {name: None for name in INTAKE_SCHEMA.names}
    row.update(channel=channel, source_id=source_id, version_at=t(received), received_at=t(received),
               load_id="L1", delivery="fixture", position=0, urgency="一般", street_code=LG_STREET,
               community_code=LG_COMMUNITY, lon=117.29, lat=31.78, caller_key="k" + source_id,
               content="市民反映问题")
    row.update({k: (t(v) if isinstance(v, str) and k.endswith("_at") else v) for k, v in kw.items()})
    return row


INTAKES = [
    _intake("12345", "A1", "2024-03-01 09:00:00", source_category="城乡建设/市政设施/井盖", demand_type="求助",
            unit=CG, dispatched_at="2024-03-01 10:00:00", signed_at="2024-03-04 09:00:00",
            deadline_at="2024-03-08 10:00:00", closed_at="2024-03-07 12:00:00", rating="满意",
            source_status="已回访", extra='{"jd": "骆岗街道", "sfbm": "1"}'),
    _intake("110", "B1", "2024-03-01 08:50:00", source_category="市政设施损坏", unit="12345平台",
            handed_to="12345平台", dispatched_at="2024-03-01 09:05:00", source_status="已转办",
            extra='{"反馈时间": "2024/3/1 15:20:00", "管辖单位": "包河分局望湖派出所"}'),
    _intake("hotline", "12319:H1", "2024-03-01 11:00:00", source_category="井盖缺失", unit=CG_SHORT),
    _intake("12345", "A2", "2024-04-03 15:00:00", source_category="城乡建设/市政设施/道路", demand_type="投诉",
            unit=CG, dispatched_at="2024-04-03 16:00:00", signed_at="2024-04-08 09:00:00",
            deadline_at="2024-04-10 16:00:00", extended_deadline_at="2024-04-20 16:00:00",
            closed_at="2024-04-18 10:00:00", rating="基本满意", street_code=None, community_code=None),
    _intake("12345", "A3", "2024-03-05 08:00:00", source_category="城乡建设/市容环卫/垃圾清运", demand_type="投诉",
            unit=LG, dispatched_at="2024-03-05 09:00:00", signed_at="2024-03-05 15:00:00",
            deadline_at="2024-03-15 09:00:00", closed_at="2024-03-25 10:00:00", rating="满意", reopened=True),
    _intake("12345", "A4", "2024-03-10 09:00:00", source_category="政务服务/办事指南/证件办理", demand_type="咨询",
            unit=CG_SHORT, dispatched_at="2024-03-10 10:00:00"),
    _intake("12345", "A5", "2024-03-02 09:00:00", source_category="劳动保障/社会保险/参保", demand_type="咨询"),
    _intake("hotline", "12319:H6", "2024-03-12 08:00:00", source_category="12319/0301/井盖缺失", unit=CG_SHORT,
            dispatched_at="2024-03-12 09:00:00", signed_at="2024-03-12 10:00:00",
            deadline_at="2024-03-20 09:00:00", closed_at="2024-03-19 09:00:00", rating_score=3),
    _intake("12345", "A7", "2024-03-01 09:30:00", source_category="城乡建设/市政设施/井盖", demand_type="求助",
            unit=LG, dispatched_at="2024-03-02 09:00:00", deadline_at="2024-03-04 09:00:00"),
    _intake("petition", "P8", "2024-03-04 00:00:00", source_category="城乡建设", unit=LG,
            dispatched_at="2024-03-04 00:00:00", deadline_at="2024-05-03 00:00:00", people_count=3,
            marked_repeat=True, extra='{"信访形式": "来访", "信访目的": "求决"}'),
    _intake("12345", "A9", "2024-03-06 08:00:00", source_category="某个没人映射的类别", demand_type="其他"),
]


def _events(channel, source_id, *items):
    return [{"channel": channel, "source_id": source_id, "seq": i, "event_at": t(at), "event_type": kind,
             "unit": unit, "note": note} for i, (at, kind, unit, note) in enumerate(items, 1)]


EVENTS = (
    _events("12345", "A1", ("2024-03-01 09:00:00", "received", None, None),
            ("2024-03-01 10:00:00", "dispatched", CG, None), ("2024-03-04 09:00:00", "signed", CG, None),
            ("2024-03-07 12:00:00", "closed", CG, None), ("2024-03-08 10:00:00", "callback", None, "满意"))
    + _events("110", "B1", ("2024-03-01 08:50:00", "received", None, None),
              ("2024-03-01 09:05:00", "dispatched", "12345平台", None))
    + _events("12345", "A2", ("2024-04-03 15:00:00", "received", None, None),
              ("2024-04-03 16:00:00", "dispatched", CG, None), ("2024-04-08 09:00:00", "signed", CG, None),
              ("2024-04-09 09:00:00", "extension_requested", CG, None),
              ("2024-04-09 12:00:00", "extension_approved", CG, None),
              ("2024-04-18 10:00:00", "closed", CG, None), ("2024-04-19 10:00:00", "callback", None, "基本满意"))
    + _events("12345", "A3", ("2024-03-05 08:00:00", "received", None, None),
              ("2024-03-05 09:00:00", "dispatched", LG, None), ("2024-03-05 11:00:00", "returned", LG, None),
              ("2024-03-05 12:00:00", "redispatched", LG, None), ("2024-03-05 15:00:00", "signed", LG, None),
              ("2024-03-20 10:00:00", "closed", LG, None), ("2024-03-21 09:00:00", "callback", None, "不满意"),
              ("2024-03-21 10:00:00", "reopened", LG, None), ("2024-03-25 10:00:00", "closed", LG, None),
              ("2024-03-26 10:00:00", "callback", None, "满意"))
    + _events("12345", "A4", ("2024-03-10 09:00:00", "received", None, None),
              ("2024-03-10 10:00:00", "dispatched", CG_SHORT, None), ("2024-03-11 10:00:00", "urged", None, None))
    + _events("12345", "A5", ("2024-03-02 09:00:00", "received", None, None),
              ("2024-03-02 09:05:00", "answered_directly", None, None))
    + _events("hotline", "12319:H6", ("2024-03-19 09:00:00", "closed", CG_SHORT, None))
    + _events("12345", "A7", ("2024-03-01 09:30:00", "received", None, None),
              ("2024-03-02 09:00:00", "dispatched", LG, None))
    + _events("petition", "P8", ("2024-03-04 00:00:00", "received", None, None),
              ("2024-03-04 00:00:00", "dispatched", LG, None))
)

CASE_LINKS = [
    ("12345", "A1", "C1", "lead", True, None), ("110", "B1", "C1", "duplicate", False, 0.97),
    ("hotline", "12319:H1", "C1", "duplicate", False, 0.95), ("12345", "A2", "C2", "lead", True, None),
    ("12345", "A3", "C3", "lead", True, None), ("12345", "A4", "C4", "lead", True, None),
    ("12345", "A5", "C5", "lead", True, None), ("hotline", "12319:H6", "C6", "repeat", True, None),
    ("12345", "A7", "C7", "lead", True, None), ("petition", "P8", "C8", "lead", True, None),
    ("12345", "A9", "C9", "lead", True, None),
]

CASES = [
    ("C1", "12345", "A1", None, None, "2024-03-01 08:50:00"), ("C2", "12345", "A2", None, None, "2024-04-03 15:00:00"),
    ("C3", "12345", "A3", None, None, "2024-03-05 08:00:00"), ("C4", "12345", "A4", None, None, "2024-03-10 09:00:00"),
    ("C5", "12345", "A5", None, None, "2024-03-02 09:00:00"), ("C6", "hotline", "12319:H6", "C1", None, "2024-03-12 08:00:00"),
    ("C7", "12345", "A7", None, "C1", "2024-03-01 09:30:00"), ("C8", "petition", "P8", None, None, "2024-03-04 00:00:00"),
    ("C9", "12345", "A9", None, None, "2024-03-06 08:00:00"),
]


def write_core(db_path: Path) -> None:
    """Create the core tables with the contract schemas and the story above."""
    tables = {
        "intake": pa.Table.from_pylist(INTAKES, INTAKE_SCHEMA),
        "intake_event": pa.Table.from_pylist(EVENTS, EVENT_SCHEMA),
        "quarantine": pa.Table.from_pylist(
            [{"channel": "110", "load_id": "L1", "delivery": "fjwjq_20240301.csv", "position": p,
              "reason": "unparseable 接警时间", "content_masked": "***", "quarantined_at": t("2024-03-01 23:00:00")}
             for p in (3, 4)], QUARANTINE_SCHEMA),
        "load_log": pa.Table.from_pylist(
            [{"load_id": "L1", "channel": "110", "delivery": "fjwjq_20240301.csv", "checksum": "x", "rows_in": 4,
              "rows_loaded": 2, "rows_quarantined": 2, "loaded_at": t("2024-03-01 23:00:00")}], LOAD_LOG_SCHEMA),
        "case_link": pa.Table.from_pylist(
            [dict(zip(["channel", "source_id", "case_id", "link_type", "is_lead", "match_score"], r))
             for r in CASE_LINKS], CASE_LINK_SCHEMA),
        "case": pa.Table.from_pylist(
            [dict(zip(["case_id", "lead_channel", "lead_source_id", "repeat_of_case_id", "merged_into_case_id"], r[:5]),
                  created_at=t(r[5])) for r in CASES], CASE_SCHEMA),
        "case_merge": pa.Table.from_pylist(
            [{"merged_case_id": "C7", "into_case_id": "C1", "merged_at": t("2024-03-03 00:00:00"),
              "reason": "same manhole"}], CASE_MERGE_SCHEMA),
    }
    con = duckdb.connect(str(db_path))
    try:
        con.execute("create schema if not exists core")
        for name, table in tables.items():
            con.register("incoming", table)
            con.execute(f'create or replace table core."{name}" as select * from incoming')
            con.unregister("incoming")
    finally:
        con.close()
