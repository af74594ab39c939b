"""map_pages (column-wise) gives exactly what map_work_order gives record by record, whatever the records hold."""
from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors import columnar
from connectors.api12345 import _text_structs, map_pages, map_work_order, parse_time
from connectors.errors import RecordError
from connectors.geo import gcj02_to_wgs84, gcj02_to_wgs84_arrays
from connectors.pii import PiiHasher

SAMPLE_PATH = Path(__file__).resolve().parents[1] / "fixtures" / "feed_samples" / "12345_page.json"
RECORDS = json.loads(SAMPLE_PATH.read_text(encoding="utf-8"))["data"]["records"]
PII = PiiHasher("test-key")


def one_by_one(records, delivery, load_id):
    """What map_work_order gives per record: rows, events, (position, reason) of the refused ones."""
    rows, events, refused = [], [], []
    for position, record in enumerate(records):
        try:
            row, row_events = map_work_order(record, PII, delivery=delivery, position=position, load_id=load_id)
        except (RecordError, ValueError, TypeError) as err:
            refused.append((position, err.reason if isinstance(err, RecordError) else
                            f"unexpected value ({type(err).__name__})"))
            continue
        rows.append(row)
        events.extend(row_events)
    return rows, events, refused


def assert_same_as_one_by_one(pages):
    parsed = map_pages(pages, PII)
    assert len(parsed) == len(pages)
    for (records, delivery, load_id), delivery_parsed in zip(pages, parsed):
        rows, events, refused = one_by_one(records, delivery, load_id)
        assert delivery_parsed.delivery == delivery and delivery_parsed.load_id == load_id
        assert delivery_parsed.row_table.to_pylist() == rows
        assert delivery_parsed.event_table.to_pylist() == events
        assert [(q.position, q.reason) for q in delivery_parsed.quarantine] == refused
        assert delivery_parsed.rows_in == len(records)


def test_sample_page_equals_record_by_record():
    assert_same_as_one_by_one([(RECORDS, "12345:p1", "L1")])
    assert map_pages([(RECORDS, "12345:p1", "L1")], PII)[0].row_table.num_rows == len(RECORDS)


def test_several_pages_keep_their_own_delivery_load_id_and_positions():
    pages = [(RECORDS, "12345:p1", "L1"), ([], "12345:p2", "L2"), (RECORDS[::-1], "12345:p3", "L3")]
    assert_same_as_one_by_one(pages)
    third = map_pages(pages, PII)[2].row_table
    assert third.column("position").to_pylist() == [0, 1, 2]
    assert set(third.column("delivery").to_pylist()) == {"12345:p3"}


# Corruptions of a good record: each must come out exactly as map_work_order says (mapped, or refused with
# its reason), never differently because the column-wise path took it.
ODD_VALUES = [
    None, "", " ", "  padded  ", "\u3000全角空格\u3000", 0, 1, -3, 2**40, 1.5, True, [], {}, ["x"], {"a": 1},
    "2024-03-05 10:00:00", "2024-02-30 10:00:00", "2024-03-05 24:00:00", "0000-01-01 00:00:00",
    "2024/3/5 10:00", " 2024-03-05 10:00:00", "咨询", "其他", "不存在", "一般", "特急", "满意", "很好",
    "340111", "340111008", "340111008001", "34011", "3401110080011", "abcdef", "０", "1", "0",
    "电话13805512345", "身份证340111199001011234", "１３８０５５１２３４５", "117.3", "nan",
]
FIELD_VALUES = st.sampled_from(ODD_VALUES)
FIELDS = ["gdbh", "slsj", "gxsj", "ldhm", "sqrxm", "sfbm", "sqlx", "sqbt", "sqnr", "sfdz", "xzqh", "jd", "zbx", "zby",
          "fl1", "fl2", "fl3", "jjcd", "cbdw", "pdsj", "qssj", "blsx", "yqsx", "bjsj", "gdzt", "hfmyd", "cbcs",
          "cbbz", "glgdbh", "unknown_key"]
LC_STEP_VARIANTS = [
    {"dz": dz, "sj": "2024-03-05 09:00:00", "dw": "街道", "yj": ""} for dz in ["回访", "未知动作", None, " 受理", 3]
] + [{"dz": "回访", "sj": sj, "dw": dw, "yj": yj} for sj, dw, yj in [
    ("", "街道", "满意"), (None, None, None), ("2024-13-01 00:00:00", "", "不满意"), (5, " x", "电话13805512345"),
    ("2024-03-05 09:00:00", 1, ["x"]), ("2024-03-05 09:00:00", "街道", "很好"), ("2024-03-05 09:00:00", "", "满意 ")]
] + ["not a step", None, 7]
LC_STEPS = st.one_of(
    st.fixed_dictionaries({"dz": st.sampled_from(["受理", "派单", "回访", "办结", "未知动作", None, " 受理", 3]),
                           "sj": st.sampled_from(["2024-03-05 09:00:00", "", None, "2024-13-01 00:00:00", 5]),
                           "dw": st.sampled_from(["街道", None, "", " x", 1]),
                           "yj": st.sampled_from(["满意", "不满意", "电话13805512345", None, "", ["x"]])}),
    st.sampled_from(["not a step", None, 7]),
)


def test_every_single_field_corruption_maps_exactly_as_record_by_record():
    """Each field of each sample record set to each odd value (or removed), and each odd lc step: exhaustive."""
    records = single_field_corruptions()
    pages = [(records[i:i + 500], f"12345:p{i}", f"L{i}") for i in range(0, len(records), 500)]
    assert_same_as_one_by_one(pages)
    parsed = map_pages(pages, PII)
    # both paths are exercised: most records map, some are refused
    assert sum(p.row_table.num_rows for p in parsed) > len(records) // 2
    assert sum(len(p.quarantine) for p in parsed) > 100


def single_field_corruptions():
    records = []
    for base in RECORDS:
        for field in FIELDS:
            for value in ODD_VALUES + ["__removed__"]:
                record = copy.deepcopy(base)
                if value == "__removed__":
                    record.pop(field, None)
                else:
                    record[field] = value
                records.append(record)
    for step in LC_STEP_VARIANTS + [None]:
        records.append(dict(copy.deepcopy(RECORDS[0]), lc=[RECORDS[0]["lc"][0], step]))
    return records


def test_pages_converted_whole_to_arrow_and_pages_taken_field_by_field_map_alike():
    """One corrupted record per page: a page whose text fields and lc fit the Arrow type is converted in one call
    (the odd text values, null steps, blanks and bad times found column-wise); the others (a number where text
    belongs, an lc that is not a list of objects) go field by field. Both must equal map_work_order."""
    records = single_field_corruptions()
    pages = [([record], f"12345:p{i}", f"L{i}") for i, record in enumerate(records)]
    structs = _text_structs(pages)
    converted = sum(s is not None for s in structs)
    assert 0 < converted < len(pages) and len(pages) - converted > 100
    assert_same_as_one_by_one(pages)
    # and mixed within one call, pages of several records
    assert_same_as_one_by_one([(records[i:i + 7], f"12345:q{i}", f"M{i}") for i in range(0, len(records), 7)])


@st.composite
def corrupted_record(draw):
    record = copy.deepcopy(draw(st.sampled_from(RECORDS)))
    for _ in range(draw(st.integers(0, 3))):
        field = draw(st.sampled_from(FIELDS))
        if draw(st.booleans()) and field in record:
            del record[field]
        else:
            record[field] = draw(FIELD_VALUES)
    if draw(st.integers(0, 3)) == 0:
        record["lc"] = draw(st.one_of(st.lists(LC_STEPS, max_size=4), st.sampled_from([None, "x", {}])))
    return record if draw(st.integers(0, 15)) else draw(st.sampled_from([[1, 2], "text", None, 42]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.one_of(corrupted_record(), st.sampled_from(RECORDS)), max_size=8), min_size=1,
                max_size=3))
def test_corrupted_records_map_exactly_as_record_by_record(pages):
    assert_same_as_one_by_one([(records, f"12345:p{i}", f"L{i}") for i, records in enumerate(pages)])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.floats(116.5, 118.0)),
                          st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.floats(31.0, 32.5))),
                min_size=1, max_size=20))
def test_array_conversion_equals_the_scalar_one(points):
    lon, lat = gcj02_to_wgs84_arrays(np.array([p[0] for p in points]), np.array([p[1] for p in points]))
    for (x, y), out_x, out_y in zip(points, lon, lat):
        want_x, want_y = gcj02_to_wgs84(x, y)
        if want_x is None:
            assert math.isnan(out_x) and math.isnan(out_y)
        else:
            assert (out_x, out_y) == (want_x, want_y)


def _mask_without_shortcut(text):
    from connectors.pii import ID_CARD_PATTERN, PHONE_PATTERN, _mask_match
    return PHONE_PATTERN.sub(_mask_match, ID_CARD_PATTERN.sub(_mask_match, text))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(list("0123456789０１２３４５６７８９ -－.·()（）+Xx") +
                                ["电话", "手机", "tel", "86", "0551", "市民", "号"]), max_size=30).map("".join))
def test_masking_skips_only_text_that_cannot_hold_a_number(text):
    from connectors.pii import mask_text
    assert mask_text(text) == _mask_without_shortcut(text)


def test_caller_keys_are_remembered_per_raw_value_without_changing_them():
    pii = PiiHasher("test-key")
    first = [pii.caller_key(v) for v in ["138 0551 2345", "", "+86-138-0551-2345", "abc", None, 13805512345]]
    again = [pii.caller_key(v) for v in ["138 0551 2345", "", "+86-138-0551-2345", "abc", None, 13805512345]]
    assert first == again and first[0] == first[2] == first[5] and first[1] is None and first[3] is None
    assert PiiHasher("other-key").caller_key("138 0551 2345") != first[0]


# The column-wise time check (a shape with each component in its range, then the parsed day equal to the written
# one) accepts exactly the times parse_time accepts, with the same value.
TIME_COMPONENTS = st.tuples(st.sampled_from(["0000", "0001", "1999", "2023", "2024", "2100", "9999"]),
                            *[st.integers(0, 99).map(lambda v: f"{v:02d}")] * 5)


@settings(max_examples=300, deadline=None)
@given(st.lists(TIME_COMPONENTS, min_size=1, max_size=20))
def test_column_times_accept_exactly_what_parse_time_accepts(components):
    texts = [f"{y}-{mo}-{d} {h}:{mi}:{s}" for y, mo, d, h, mi, s in components]
    texts += ["2024-02-29 23:59:59", "2023-02-29 00:00:00", "2024-04-31 12:00:00", "2024-12-31 23:59:59"]
    [(parsed, irregular)] = columnar.times_of([pa.array(texts, pa.string())])
    for text, value, odd in zip(texts, parsed.to_pylist(), irregular.tolist()):
        try:
            expected = parse_time(text)
        except ValueError:
            expected = None
        assert (value, odd) == (expected, expected is None), text
