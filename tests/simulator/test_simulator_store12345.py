"""The 12345 store's records (simulator/store12345.py): versions rendered from an order's head and events."""
from __future__ import annotations

import json
from datetime import datetime

from simulator.handling import to_seconds
from simulator.store12345 import ORDER_MARK, order_line, render_versions, version_of_order_line

HEAD = ('{"gdbh": "BH123452024030100001", "slsj": "2024-03-01 09:00:00", "ldhm": "13800000000", "sqrxm": "张先生", '
        '"sfbm": "0", "sqlx": "投诉", "sqbt": "噪音\\"扰民\\"", "sqnr": "楼下\\n施工", "sfdz": "某小区", "xzqh": "340111", '
        '"jd": "", "zbx": 117.3, "zby": null, "fl1": "a", "fl2": "b", "fl3": "", "jjcd": "一般"')


def _s(text: str) -> int:
    return to_seconds(datetime.fromisoformat(text))


EVENTS = [
    (_s("2024-03-01 09:00:00"), "受理", "12345热线", "", 0),
    (_s("2024-03-01 10:00:00"), "派单", "单位甲", "请按时办理", _s("2024-03-08 10:00:00")),
    (_s("2024-03-01 11:00:00"), "签收", "单位甲", "", 0),
    (_s("2024-03-01 12:00:00"), "退单", "单位甲", "非我单位职责", 0),
    (_s("2024-03-01 13:00:00"), "改派", "单位乙", "请按职责办理", _s("2024-03-08 13:00:00")),
    (_s("2024-03-02 09:00:00"), "催办", "12345热线", "请加快办理", 0),
    (_s("2024-03-02 10:00:00"), "办结", "单位乙", "已处理", 0),
    (_s("2024-03-02 12:00:00"), "回访", "12345热线", "不满意", 0),
    (_s("2024-03-02 13:00:00"), "重办", "单位乙", "市民不满意，重新办理", 0),
    (_s("2024-03-03 13:00:00"), "办结", "单位乙", "已处理", 0),
    (_s("2024-03-06 13:00:00"), "归档", "12345热线", "", 0),
]


def test_versions_follow_the_events():
    records = [json.loads(r) for r in render_versions(HEAD, "BH123452024022900007", EVENTS)]
    assert len(records) == len(EVENTS)
    assert [r["gxsj"][11:] for r in records[:3]] == ["09:00:00", "10:00:00", "11:00:00"]
    assert records[0]["sqbt"] == '噪音"扰民"' and records[0]["sqnr"] == "楼下\n施工"
    assert records[0]["cbdw"] == "" and records[0]["pdsj"] is None and records[0]["gdzt"] == "待派单"
    assert records[2]["qssj"] == "2024-03-01 11:00:00" and records[2]["blsx"] == "2024-03-08 10:00:00"
    # redispatch: the first dispatch time stays, the new unit has not signed, the deadline is the new one
    assert records[4]["pdsj"] == "2024-03-01 10:00:00" and records[4]["cbdw"] == "单位乙"
    assert records[4]["qssj"] is None and records[4]["blsx"] == "2024-03-08 13:00:00"
    assert records[7]["hfmyd"] == "不满意" and records[7]["bjsj"] == "2024-03-02 10:00:00"
    assert records[8]["cbbz"] == 1 and records[8]["bjsj"] is None and records[8]["hfmyd"] is None
    assert records[9]["bjsj"] == "2024-03-03 13:00:00" and records[9]["cbcs"] == 1
    assert records[10]["gdzt"] == "已归档" and len(records[10]["lc"]) == len(records[9]["lc"]) == 10
    assert all(r["glgdbh"] == "BH123452024022900007" for r in records)
    assert [len(r["lc"]) for r in records[:4]] == [1, 2, 3, 4]


def test_broken_versions_show_the_bad_text_there_only():
    bad = {3: ("slsj", "昨天下午"), 5: ("pdsj", "待定")}
    records = [json.loads(r) for r in render_versions(HEAD, "", EVENTS, bad)]
    assert records[3]["slsj"] == "昨天下午" and records[3]["pdsj"] == "2024-03-01 10:00:00"
    assert records[5]["pdsj"] == "待定" and records[5]["slsj"] == "2024-03-01 09:00:00"
    intact = render_versions(HEAD, "", EVENTS)
    assert [r for k, r in enumerate(render_versions(HEAD, "", EVENTS, bad)) if k not in bad] == \
        [r for k, r in enumerate(intact) if k not in bad]


def test_an_order_line_renders_each_version_as_rendered_whole():
    bad = {4: ("slsj", "")}
    line = order_line(HEAD, "", EVENTS, bad)
    stored = json.loads(line)
    assert stored[ORDER_MARK] == [e[0] for e in EVENTS] and stored["gdbh"] == "BH123452024030100001"
    assert line.startswith(HEAD.encode())
    whole = render_versions(HEAD, "", EVENTS, bad)
    assert [version_of_order_line(line, k).decode() for k in range(len(EVENTS))] == whole
    assert render_versions(HEAD, "", EVENTS, bad, only=6) == [whole[6]]
