"""Staging per channel: each feed's own fields and vocabulary come out of its stg_<channel>__intake model, and the
union in int_intake_unified loses no intake (built once on the hand-made fixture, see core_fixture.py)."""
from __future__ import annotations

import datetime as dt

from core_fixture import INTAKES


def one(con, sql):
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    rows = cur.fetchall()
    assert len(rows) == 1, rows
    return dict(zip(names, rows[0]))


def test_each_channel_model_holds_exactly_its_channel(con):
    for channel in ("12345", "110", "petition", "hotline"):
        got = {r[0] for r in con.execute(f"select source_id from staging.stg_{channel}__intake").fetchall()}
        assert got == {i["source_id"] for i in INTAKES if i["channel"] == channel}, channel
    # the union stores every intake once
    assert con.execute("select count(*) from marts.fct_intake").fetchone()[0] == len(INTAKES)
    assert con.execute("select count(*) from intermediate.int_intake_unified").fetchone()[0] == len(INTAKES)


def test_12345_levels_and_fields_from_extra(con):
    a1 = one(con, "select * from staging.stg_12345__intake where source_id = 'A1'")
    assert (a1["category_level_1"], a1["category_level_2"], a1["category_level_3"]) == ("城乡建设", "市政设施", "井盖")
    assert (a1["reported_street_name"], a1["is_confidential"], a1["work_order_status"]) == ("骆岗街道", True, "已回访")
    a5 = one(con, "select * from staging.stg_12345__intake where source_id = 'A5'")
    assert a5["is_confidential"] is None and a5["reported_street_name"] is None  # no extra at all


def test_110_transfer_and_police_station(con):
    b1 = one(con, "select * from staging.stg_110__intake where source_id = 'B1'")
    assert b1["handed_to_12345"] is True and b1["alarm_category"] == "市政设施损坏"
    assert b1["police_station"] == "包河分局望湖派出所"
    assert b1["feedback_at"] == dt.datetime(2024, 3, 1, 15, 20)  # 2024/3/1 15:20:00, no zero padding
    assert b1["rating"] is None


def test_petition_group_visit_and_purpose(con):
    p8 = one(con, "select * from staging.stg_petition__intake where source_id = 'P8'")
    assert (p8["people_count"], p8["is_group_visit"], p8["marked_repeat"]) == (3, True, True)
    assert (p8["petition_form"], p8["petition_purpose"], p8["content_class"]) == ("来访", "求决", "城乡建设")


def test_hotline_code_ticket_and_score_mapped_with_settings(con):
    h6 = one(con, "select * from staging.stg_hotline__intake where source_id = '12319:H6'")
    assert (h6["hotline_code"], h6["ticket_id"], h6["rating_score"], h6["rating"]) == ("12319", "H6", 3, "基本满意")
    # the mapped word is what the marts use
    assert one(con, "select rating from marts.fct_intake where source_id = '12319:H6'")["rating"] == "基本满意"


def test_category_lookup_once_per_label(con):
    labels = {(r[0], r[1]): r[2] for r in con.execute(
        "select channel, source_category, category_l2_code from intermediate.int_category_label").fetchall()}
    assert len(labels) == len({(i["channel"], i["source_category"]) for i in INTAKES if i["source_category"]})
    assert labels[("12345", "某个没人映射的类别")] is None  # unmapped: falls into 9999 downstream
    # 12345 three levels fall back level by level; hotline full label and bare name reach the same class
    assert labels[("hotline", "井盖缺失")] == labels[("hotline", "12319/0301/井盖缺失")] is not None
