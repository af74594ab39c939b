"""Ground truth written next to the feeds (``$GONGZHI_HOME/truth/``, parquet). Times are naive China Standard Time.

``intakes.parquet`` — one row per intake delivered in some feed (its latest version is always cleanly delivered):

* ``channel``: 12345 / 110 / petition / hotline; ``source_id``: gdbh, 警情编号, 信访件编号, or ``<hotline>:<ticket_id>``
* ``incident_id``: the true incident (case) it reports
* ``caller_id``: a person id (``P…``), never a phone: the same person may write their number in several formats or
  withhold it
* ``received_at``: slsj / 接警时间 / 登记日期 (00:00) / received_at
* ``is_lead``: the incident's lead intake per domain.md: the earliest (by received_at) intake that was dispatched to
  a unit (12345 派单; 110 转办去向 a department, not ``12345平台``; a petition's 责任单位; a hotline ticket's
  assignee), else the earliest intake
* ``link_type``: lead / duplicate / same_caller / repeat (``dedupe/schema.py``): the lead of a repeat incident is
  ``repeat``; a non-lead whose person already reported this incident is ``same_caller``; other non-leads ``duplicate``
* ``kind_code``, ``category_l1``, ``category_l2``: the catalogue kind (``simulator/catalog.py``)

``incidents.parquet`` — one row per incident with at least one delivered intake. Handling columns are what the
lead intake's feed says in its latest delivered version (before the simulation's end), so the warehouse can be
checked against them:

* ``incident_id``, ``repeat_of_incident_id`` (the closed incident this one repeats, else null)
* ``kind_code``, ``category_l1``, ``category_l2``, ``demand_type`` and ``urgency`` (of the lead intake)
* ``street_code`` (9 digits), ``community_code`` (12 digits), ``lon``/``lat`` (true WGS-84 point)
* ``first_received_at`` (earliest intake), ``lead_channel``, ``lead_source_id``
* ``unit``: canonical unit name (feeds may use the short form of ``catalog.UNITS``); ``dispatched_at`` (first
  dispatch), ``signed_at``, ``deadline_at`` (as the feed gives it, before extension; null when the feed has none,
  e.g. 110, some hotline tickets), ``extended_deadline_at``, ``closed_at`` (null when still open or reopened and
  not closed again), ``rating`` (满意/基本满意/不满意/null; hotline scores mapped 4-5/3/1-2), ``reopened``,
  ``returned``, ``urge_count``, ``answered_directly``
* ``hard_negative_of``, ``hard_negative_kind``: for deliberately confusable incidents, the incident they resemble
  and how (``same_estate_other_kind``, ``same_caller_other_kind``, ``neighbouring_road_same_kind``)
* ``estate``: the 小区 the incident is at or nearest to (the named place of ``simulator/placement.py``'s rule)

``malformed.parquet`` — every deliberately broken record; the connectors must quarantine exactly these:

* ``channel``; ``delivery``: file name (for 12345 the work-order store file, the API record being
  ``source_id`` + ``version_at``); ``position``: 1-based data-row index for CSV and XLSX (header/title rows not
  counted), 1-based line number for JSONL, -1 for the whole delivery (a wrong or missing 110 trailer; its rows are
  intact and the day always gets a corrected ``_v2``); ``source_id`` and ``version_at`` when known; ``fault_kind``.
"""
from __future__ import annotations

import pyarrow as pa

TS = pa.timestamp("us")

INTAKE_TRUTH_SCHEMA = pa.schema([
    ("channel", pa.string()), ("source_id", pa.string()), ("incident_id", pa.string()), ("caller_id", pa.string()),
    ("received_at", TS), ("is_lead", pa.bool_()), ("link_type", pa.string()), ("kind_code", pa.string()),
    ("category_l1", pa.string()), ("category_l2", pa.string()),
])

INCIDENT_TRUTH_SCHEMA = pa.schema([
    ("incident_id", pa.string()), ("repeat_of_incident_id", pa.string()), ("kind_code", pa.string()),
    ("category_l1", pa.string()), ("category_l2", pa.string()), ("demand_type", pa.string()),
    ("urgency", pa.string()), ("street_code", pa.string()), ("community_code", pa.string()),
    ("lon", pa.float64()), ("lat", pa.float64()), ("first_received_at", TS), ("lead_channel", pa.string()),
    ("lead_source_id", pa.string()), ("unit", pa.string()), ("dispatched_at", TS), ("signed_at", TS),
    ("deadline_at", TS), ("extended_deadline_at", TS), ("closed_at", TS), ("rating", pa.string()),
    ("reopened", pa.bool_()), ("returned", pa.bool_()), ("urge_count", pa.int32()),
    ("answered_directly", pa.bool_()), ("hard_negative_of", pa.string()), ("hard_negative_kind", pa.string()),
    ("estate", pa.string()),
])

MALFORMED_SCHEMA = pa.schema([
    ("channel", pa.string()), ("delivery", pa.string()), ("position", pa.int64()), ("source_id", pa.string()),
    ("version_at", TS), ("fault_kind", pa.string()),
])
