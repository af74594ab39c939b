"""map_work_order: the spec's fields onto the canonical intake and event schemas; fuzzing never crashes it."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.api12345 import LC_ACTIONS, map_work_order
from connectors.errors import RecordError
from connectors.geo import gcj02_to_wgs84
from connectors.pii import ID_CARD_PATTERN, PHONE_PATTERN, PiiHasher
from connectors.schema import EVENT_SCHEMA, EVENT_TYPES, INTAKE_SCHEMA

SAMPLE_PATH = Path(__file__).resolve().parents[1] / "fixtures" / "feed_samples" / "12345_page.json"
SAMPLE = json.loads(SAMPLE_PATH.read_text(encoding="utf-8"))
RECORDS = SAMPLE["data"]["records"]
PII = PiiHasher("test-key")


def _map(record, position=0):
    return map_work_order(record, PII, delivery="12345:test", position=position, load_id="L1")


def _check_schema(row, events):
    assert set(row) == set(INTAKE_SCHEMA.names)
    pa.Table.from_pylist([row], schema=INTAKE_SCHEMA)  # types and nullability hold
    if events:
        pa.Table.from_pylist([{k: e[k] for k in EVENT_SCHEMA.names} for e in events], schema=EVENT_SCHEMA)
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
        assert all(e["event_type"] in EVENT_TYPES for e in events)


def test_sample_records_map_fully():
    rows = [_map(r, i) for i, r in enumerate(RECORDS)]
    for row, events in rows:
        _check_schema(row, events)
    closed, events = rows[0]
    assert closed["source_id"] == "BH12345202403050123" and closed["channel"] == "12345"
    assert closed["version_at"].isoformat() == "2024-03-06T10:15:00"
    assert closed["received_at"].isoformat() == "2024-03-05T08:12:44"
    assert closed["caller_key"] == PII.caller_key("13805512345")
    assert closed["rating"] == "满意" and closed["closed_at"].isoformat() == "2024-03-05T15:02:11"
    assert closed["source_category"] == "城乡建设/市政设施/井盖"
    assert (closed["lon"], closed["lat"]) == pytest.approx(gcj02_to_wgs84(117.2897, 31.7432))
    assert closed["area_code"] == "340111" and closed["street_code"] is None
    assert [e["event_type"] for e in events] == ["received", "dispatched", "signed", "closed", "callback"]
    assert events[-1]["note"] == "满意"
    pending, _ = rows[1]
    assert pending["lon"] is None and pending["area_code"] is None
    assert pending["linked_source_id"] == "BH12345202403050123" and pending["unit"] is None
    assert rows[1][0]["caller_key"] == PII.caller_key("+86 139 5600 1188")
    extended, events = rows[2]
    assert extended["street_code"] == "340111008" and extended["community_code"] is None
    assert extended["extended_deadline_at"].isoformat() == "2024-03-20T09:05:00" and extended["urge_count"] == 1
    assert [e["event_type"] for e in events][-3:] == ["urged", "extension_requested", "extension_approved"]


def test_caller_name_never_stored_and_content_masked():
    record = copy.deepcopy(RECORDS[0])
    record["sqnr"] = "市民来电反映：井盖缺失，我的电话13805512345，身份证340111198506120016"
    record["sqrxm"] = "欧阳娜娜"
    record["new_field"] = "联系人手机13956001188"
    row, events = _map(record)
    text = json.dumps(row, ensure_ascii=False, default=str) + json.dumps(events, ensure_ascii=False, default=str)
    assert "欧阳娜娜" not in text and "13805512345" not in text and "13956001188" not in text
    assert "340111198506120016" not in text
    assert row["content"].startswith("市民来电反映：井盖缺失，我的电话***********")
    assert json.loads(row["extra"])["new_field"] == "联系人手机***********"  # unknown keys kept, masked


def test_division_codes_and_coordinates():
    record = copy.deepcopy(RECORDS[0])
    record.update(xzqh="340111008003", zbx=0, zby=0)
    row, _ = _map(record)
    assert (row["area_code"], row["street_code"], row["community_code"]) == ("340111008003", "340111008",
                                                                             "340111008003")
    assert row["lon"] is None and row["lat"] is None
    record.update(xzqh="34011", zbx="abc")
    row, _ = _map(record)
    assert row["area_code"] is None and json.loads(row["extra"])["unmapped"]["xzqh"] == "34011"
    assert row["lon"] is None


def test_every_lc_action_maps_and_unknown_ones_are_kept():
    record = copy.deepcopy(RECORDS[0])
    record["lc"] = [{"dz": dz, "sj": f"2024-03-05 09:{i:02d}:00", "dw": "单位", "yj": ""}
                    for i, dz in enumerate([*LC_ACTIONS, "转交"])]
    row, events = _map(record)
    assert [e["event_type"] for e in events] == list(LC_ACTIONS.values())
    assert set(LC_ACTIONS.values()) <= set(EVENT_TYPES)
    assert json.loads(row["extra"])["unmapped"]["lc"] == [{"dz": "转交", "sj": "2024-03-05 09:14:00"}]


def test_direct_answer_order():
    record = copy.deepcopy(RECORDS[1])
    record["lc"].append({"dz": "直接答复", "sj": "2024-03-05 08:50:00", "dw": "12345热线", "yj": "已告知办理流程"})
    _, events = _map(record)
    assert events[-1]["event_type"] == "answered_directly" and events[-1]["note"] == "已告知办理流程"


@pytest.mark.parametrize("change,reason", [
    ({"gdbh": ""}, "missing gdbh"),
    ({"gdbh": None}, "missing gdbh"),
    ({"slsj": "2024-02-30 08:00:00"}, "unparseable slsj"),
    ({"slsj": None}, "missing slsj"),
    ({"slsj": "20240305"}, "unparseable slsj"),  # the simulator's faults: basic ISO is not the spec's format
    ({"slsj": "2024-02-30 25:61:00"}, "unparseable slsj"),
    ({"slsj": "昨天下午"}, "unparseable slsj"),
    ({"pdsj": "待定"}, "unparseable pdsj"),
    ({"gxsj": "昨天"}, "unparseable gxsj"),
    ({"bjsj": "2024/13/01"}, "unparseable bjsj"),
    ({"lc": "受理"}, "lc is not a list"),
    ({"lc": [{"dz": "受理", "sj": "x"}]}, "lc[0] unparseable sj"),
    ({"lc": [{"dz": "受理"}]}, "lc[0] missing sj"),
    ({"sqnr": {"a": 1}}, "sqnr is not text"),
])
def test_invalid_records_raise_record_error(change, reason):
    record = {**copy.deepcopy(RECORDS[0]), **change}
    with pytest.raises(RecordError) as err:
        _map(record)
    assert reason in err.value.reason


def test_record_error_reason_masks_values():
    with pytest.raises(RecordError) as err:
        _map({**RECORDS[0], "slsj": "13805512345"})
    assert "13805512345" not in err.value.reason


@pytest.mark.parametrize("value", [float("inf"), float("nan"), -1, "三", [1], 2**40])
def test_odd_urge_counts_are_kept_aside(value):
    row, _ = _map({**RECORDS[0], "cbcs": value})
    assert row["urge_count"] is None and "cbcs" in json.loads(row["extra"])["unmapped"]


def test_not_a_dict():
    for bad in (None, [], "x", 3):
        with pytest.raises(RecordError):
            _map(bad)


# -- fuzzing ------------------------------------------------------------------------------------------------------

_junk = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=30),
                  st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))
_time_text = st.one_of(
    st.datetimes().map(lambda d: d.strftime("%Y-%m-%d %H:%M:%S")),
    st.sampled_from(["", "2024-02-30 00:00:00", "2024-03-05T08:00:00+08:00", "2024/3/5", "0", "24:00:00"]),
)
_lc_step = st.fixed_dictionaries({}, optional={"dz": st.one_of(st.sampled_from(list(LC_ACTIONS)), _junk),
                                               "sj": st.one_of(_time_text, _junk), "dw": _junk, "yj": _junk})
_field_values = {
    "gdbh": st.one_of(st.from_regex(r"BH12345[0-9]{12}", fullmatch=True), _junk),
    "slsj": st.one_of(_time_text, _junk), "gxsj": st.one_of(_time_text, _junk),
    "pdsj": st.one_of(_time_text, _junk), "bjsj": st.one_of(_time_text, _junk),
    "ldhm": st.one_of(st.sampled_from(["13805512345", "+86-138-0551-2345", "", "0551-63351234"]), _junk),
    "sqnr": st.one_of(st.text(max_size=60), _junk), "xzqh": st.one_of(st.from_regex(r"[0-9]{0,13}", fullmatch=True), _junk),
    "zbx": st.one_of(st.floats(), _junk), "zby": st.one_of(st.floats(), _junk),
    "cbcs": _junk, "cbbz": _junk, "hfmyd": _junk, "sqlx": _junk, "jjcd": _junk,
    "lc": st.one_of(st.lists(st.one_of(_lc_step, _junk), max_size=4), _junk),
    "unknown_key": _junk,
}


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.sampled_from(RECORDS), st.fixed_dictionaries({}, optional=_field_values),
       st.lists(st.sampled_from(sorted(RECORDS[0])), max_size=3))
def test_fuzzed_records_give_a_row_or_record_error(base, changes, removed):
    record = {**copy.deepcopy(base), **changes}
    for key in removed:
        record.pop(key, None)
    try:
        row, events = _map(record)
    except RecordError as err:
        assert err.reason
        return
    _check_schema(row, events)
    for name in ("title", "content", "address", "extra"):
        if row[name]:
            assert not PHONE_PATTERN.search(row[name]) and not ID_CARD_PATTERN.search(row[name])
