"""Property-based: good rows always load, corrupted rows are always quarantined, junk never crashes a parser."""
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors import declarative
from connectors.feed110 import parse_110
from connectors.hotline import parse_hotline
from connectors.petition import parse_petition
from connectors_testkit import FIXTURES, PII, csv_110, jsonl, petition_row, row_110, ticket, xlsx_petition

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
free_text = st.text(alphabet=st.sampled_from(list("噪声扰民井盖缺失abc ,，\"'\n\r;:：0123456789-_")), max_size=40)
plans = st.lists(st.tuples(st.booleans(), st.integers(0, 5), free_text), min_size=1, max_size=25)


def _balanced(parsed):
    assert parsed.rows_in == len(parsed.rows) + sum(1 for q in parsed.quarantine if q.position != -1)


# ---- 110 -------------------------------------------------------------------------------------------------

_BAD_110 = [
    lambda r: {**r, "接警时间": "2024/13/45 99:99:99"},
    lambda r: {**r, "警情编号": ""},
    lambda r: {**r, "接警时间": ""},
    lambda r: {**r, "转办时间": "明天"},
    lambda r: {**r, "简要警情": "@@BADBYTES@@"},
    lambda r: {**r, "反馈时间": "2024-03-05T08:00"},
]


@FUZZ
@given(plans)
def test_110_good_rows_load_bad_rows_quarantine(plan):
    rows, good, bad = [], set(), set()
    for i, (ok, kind, text) in enumerate(plan, start=1):
        row = row_110(i % 90, 警情编号=f"34011120240305{i:04d}", 简要警情=text or "空")
        if ok:
            good.add(row["警情编号"])
        else:
            row = _BAD_110[kind](row)
            bad.add(i)
        rows.append(row)
    data = csv_110(rows).replace("@@BADBYTES@@".encode("gb18030"), b"\xff\xff")
    parsed = parse_110(data, "fjwjq_20240305.csv", PII, load_id="L")
    assert parsed.failure is None
    assert {r["source_id"] for r in parsed.rows} == good
    assert {q.position for q in parsed.quarantine} == bad
    _balanced(parsed)


# ---- hotline ---------------------------------------------------------------------------------------------

_BAD_TICKET = [
    lambda t: json.dumps(t, ensure_ascii=False)[: len(json.dumps(t, ensure_ascii=False)) // 2],  # truncated
    lambda t: {**t, "rating": 6},
    lambda t: {**t, "received_at": "not a time"},
    lambda t: {k: v for k, v in t.items() if k != "ticket_id"},
    lambda t: [t],
    lambda t: {**t, "caller": "13805512345"},
]


@FUZZ
@given(plans, st.booleans(), st.dictionaries(st.text(min_size=1, max_size=5), st.integers(), max_size=3))
def test_hotline_good_lines_load_bad_lines_quarantine(plan, gz, unknown):
    objs, good, bad = [], set(), set()
    for i, (ok, kind, text) in enumerate(plan, start=1):
        obj = {**unknown, **ticket(i, detail=text, rating=(i % 5) + 1 if i % 3 else None)}
        if ok:
            good.add(f"12319:{obj['ticket_id']}")
        else:
            obj = _BAD_TICKET[kind](obj)
            bad.add(i)
        objs.append(obj)
    parsed = parse_hotline(jsonl(objs, gz=gz), "12319/2024-03-05.jsonl" + (".gz" if gz else ""), PII, load_id="L")
    assert {r["source_id"] for r in parsed.rows} == good
    assert {q.position for q in parsed.quarantine} == bad
    _balanced(parsed)


# ---- petition --------------------------------------------------------------------------------------------

_BAD_PETITION = [
    lambda r: {**r, "登记日期": "二〇二四年"},
    lambda r: {**r, "信访件编号": None},
    lambda r: {**r, "评价": "还行"},
    lambda r: {**r, "人数": -3},
    lambda r: {**r, "办结日期": "2024.13.40"},
    lambda r: {**r, "办理期限": "下周"},
]
_GOOD_DATES = st.sampled_from(["2024.03.05", "2024年3月5日", 45356, "2024-03-05", 45356.5])


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plans, _GOOD_DATES)
def test_petition_good_rows_load_bad_rows_quarantine(plan, good_date):
    rows, good, bad = [], set(), set()
    for i, (ok, kind, text) in enumerate(plan, start=1):
        row = petition_row(i, 信访事项=text, 登记日期=good_date)
        if ok:
            good.add(row["信访件编号"])
        else:
            row = _BAD_PETITION[kind](row)
            bad.add(i + 2)  # Excel row number: title and header come first
        rows.append(row)
    parsed = parse_petition(xlsx_petition(rows), "xfdj_20240307.xlsx", PII, load_id="L")
    assert {r["source_id"] for r in parsed.rows} == good
    assert {q.position for q in parsed.quarantine} == bad
    _balanced(parsed)


# ---- declarative (open311) -------------------------------------------------------------------------------

_OPEN311_HEADER = (FIXTURES / "open311" / "requests_2024-03-05.csv").read_text().splitlines()[0]


def _open311_line(i: int, text: str, fault: int | None) -> str:
    cells = [str(i), "2024-03-05T08:12:44+08:00", "2024-03-05T09:00:00Z", "", "open", "Pothole",
             '"' + text.replace('"', '""') + '"', "addr", "31.74", "117.28", "unit", "", ""]
    if fault == 0:
        cells[1] = "soon"
    elif fault == 1:
        cells[4] = "pending"
    elif fault == 2:
        cells[0] = ""
    elif fault == 3:
        cells = cells[:5]
    elif fault == 4:
        cells[8] = "north"
    elif fault == 5:
        cells[2] = "2024-02-30T00:00:00"
    return ",".join(cells)


@FUZZ
@given(plans)
def test_declarative_good_rows_load_bad_rows_quarantine(plan):
    spec = declarative.load_spec("open311")
    lines, good, bad = [_OPEN311_HEADER], set(), set()
    for i, (ok, kind, text) in enumerate(plan, start=1):
        lines.append(_open311_line(i, text, None if ok else kind))
        (good.add(str(i)) if ok else bad.add(i))
    parsed = declarative.parse(spec, ("\r\n".join(lines) + "\r\n").encode(), "requests_2024-03-05.csv", PII,
                               load_id="L")
    assert {r["source_id"] for r in parsed.rows} == good
    assert {q.position for q in parsed.quarantine} == bad
    _balanced(parsed)


# ---- junk ------------------------------------------------------------------------------------------------

@FUZZ
@given(st.binary(max_size=600), st.sampled_from([b"", b"\x00", "合计：1条\r\n".encode("gb18030"), b"\x1f\x8b"]))
def test_junk_never_crashes_any_parser(data, suffix):
    junk = data + suffix
    results = [
        parse_110(junk, "fjwjq_20240305.csv", PII, load_id="L"),
        parse_hotline(junk, "12319/2024-03-05.jsonl", PII, load_id="L"),
        parse_hotline(junk, "12319/2024-03-05.jsonl.gz", PII, load_id="L"),
        parse_petition(junk, "xfdj_20240307.xlsx", PII, load_id="L"),
        declarative.parse(declarative.load_spec("open311"), junk, "requests_2024-03-05.csv", PII, load_id="L"),
    ]
    for parsed in results:
        _balanced(parsed)
        assert parsed.rows == [] or parsed.failure is None
