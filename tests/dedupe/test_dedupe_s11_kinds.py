"""Session 11: the kind a report's words name where its label does not say it (dedupe.kinds), and where scoring
uses it (scoring.comparison_levels: two reports at one place)."""
from __future__ import annotations

import numpy as np

from dedupe import kinds, records as records_mod, scoring
from dedupe_testkit import intake, intake_table

BAR = "环境保护/噪声污染/商业噪声"  # 0211
SITE = "环境保护/噪声污染/施工噪声"  # 0201
NOISE = "环境保护/噪声污染"  # a 12345 label without its third level: 0201, 0202 or 0211
LON, LAT = 117.3120, 31.7380
BAR_WORDS = ("酒吧音乐声太吵", "酒吧夜里音乐太吵", "楼下酒吧唱歌太吵", "酒吧音响声音大", "酒吧半夜音乐声吵", "酒吧音乐吵得睡不着")
SITE_WORDS = ("工地夜间施工打桩", "工地打桩声音巨大", "夜间施工打桩扰民", "工地凌晨还在施工", "工地施工打桩太吵", "工地夜里打桩施工")


def _labelled(count: int = 6) -> list[dict]:
    """Reports whose labels name one code, each at its own place (kilometres apart): what the batch learns from."""
    rows = []
    for k in range(count):
        rows.append(intake(f"bar{k}", 60 * k, BAR_WORDS[k], lon=LON + 0.02 * k, lat=LAT + 0.02, category=BAR))
        rows.append(intake(f"site{k}", 60 * k + 30, SITE_WORDS[k], lon=LON + 0.02 * k, lat=LAT - 0.02, category=SITE))
    return rows


def _inferred(rows: list[dict]) -> dict[str, str]:
    records = records_mod.prepare(intake_table(rows))
    return {source_id: code for source_id, code in zip(records.source_id, records.inferred_l2) if code}


def test_a_label_naming_several_codes_takes_the_one_its_words_name():
    rows = _labelled() + [intake("x", 500, "酒吧音乐声太吵了", lon=LON, lat=LAT, category=NOISE),
                          intake("y", 520, "工地夜间打桩施工", lon=LON, lat=LAT, category=NOISE)]
    assert _inferred(rows) == {"x": "0211", "y": "0201"}


def test_a_petition_class_takes_the_code_its_words_name():
    rows = _labelled() + [intake("p", 500, "酒吧音乐声太吵", channel="petition", category="环境保护")]
    records = records_mod.prepare(intake_table(rows))
    petition = records.source_id.index("p")
    assert not records.cat_l2[petition] and records.cat_l1[petition]  # the label names only a class
    assert records.inferred_l2[petition] == "0211"


def test_no_code_is_read_where_the_classifier_cannot_be_trusted():
    rows = _labelled() + [
        intake("call", 500, "酒吧音乐声太吵", channel="110", category="噪声扰民"),  # 110: not in kinds.CHANNELS
        # the words name a code (0211) this label, several codes of municipal works, excludes
        intake("words", 510, "酒吧音乐声太吵", lon=LON, lat=LAT, category="城乡建设/市政设施"),
        intake("empty", 520, "", lon=LON, lat=LAT, category=NOISE),  # no words
    ]
    assert _inferred(rows) == {}
    # a code is learned only from MIN_EXAMPLES reports whose label names it alone
    few = _labelled(kinds.MIN_EXAMPLES - 1) + [intake("x", 500, "酒吧音乐声太吵", lon=LON, lat=LAT, category=NOISE)]
    assert _inferred(few) == {}


def test_unsure_words_are_left_unread():
    # 太吵 is said as often for either kind: the posterior stays near one half, below kinds.MIN_POSTERIOR
    texts = ["酒吧音乐声太吵"] * 6 + ["工地施工打桩太吵"] * 6 + ["太吵"]
    labels = [frozenset({"0211"})] * 6 + [frozenset({"0201"})] * 6 + [frozenset({"0201", "0211"})]
    classes = [frozenset({"02"})] * 13
    assert kinds.infer_codes(texts, labels, classes, ["12345"] * 13)[-1] == ""
    assert kinds.infer_codes(texts[:-1] + ["酒吧太吵"], labels, classes, ["12345"] * 13)[-1] == "0211"


def _pair_levels(metres_east: float) -> dict[str, int]:
    """A bar's report labelled as such and a report of 'noise' whose words name a bar, `metres_east` apart."""
    rows = _labelled() + [intake("a", 500, "酒吧音响声音大", lon=LON, lat=LAT, category=BAR),
                          intake("b", 530, "楼下酒吧唱歌太吵", lon=LON + metres_east / scoring.METRES_PER_DEG_LON,
                                 lat=LAT, category=NOISE)]
    records = records_mod.prepare(intake_table(rows))
    a, b = records.source_id.index("a"), records.source_id.index("b")
    assert records.inferred_l2[b] == "0211" and not records.inferred_l2[a]
    levels = scoring.comparison_levels(records, np.array([a]), np.array([b]))
    return {name: int(value[0]) for name, value in levels.items()}


def test_the_words_kind_agrees_at_one_place():
    levels = _pair_levels(20.0)
    assert levels["place"] == 3 and levels["category"] == 2


def test_the_words_kind_says_nothing_between_two_places():
    # 150-250 m (place level 1): the label's several codes, as before, are no evidence either way
    levels = _pair_levels(200.0)
    assert levels["place"] == 1 and levels["category"] == -1


def test_a_lone_surrogate_in_a_text_does_not_stop_the_reading():
    # a feed can deliver one (a JSON escape of half a character): it is one more unknown character
    texts = ["酒吧音乐声太吵"] * 6 + ["工地施工打桩太吵"] * 6 + ["酒吧\ud800太吵"]
    labels = [frozenset({"0211"})] * 6 + [frozenset({"0201"})] * 6 + [frozenset({"0201", "0211"})]
    assert kinds.infer_codes(texts, labels, [frozenset({"02"})] * 13, ["12345"] * 13)[-1] == "0211"


def test_the_words_kind_brings_its_class():
    """Session 12: a label whose codes span two classes (交通运输/交通管理: 0108 in 01, 0304 in 03) has no class;
    read as 0304, the report compares as class 03, so against a noise order (0202) at its place it is another
    class (level 0). Before, its class stayed unknown and the unit both orders were given stood in: level 2."""
    parking = "交通运输/交通管理/违章停车"  # 0304
    noise = "环境保护/噪声污染/社会生活噪声"  # 0202
    parking_words = ("车辆乱停占用消防通道", "消防通道被车辆占用", "小区车辆乱停放", "车辆长期占用消防通道",
                     "乱停车堵住消防通道", "车辆乱停堵塞通道")
    noise_words = ("广场舞音响太吵", "广场舞音乐声太大", "跳广场舞声音吵", "广场舞扰民太吵", "广场舞音响开得很大",
                   "晚上广场舞太吵")
    unit = "包河区城市管理局"
    rows = []
    for k in range(6):
        rows.append(intake(f"park{k}", 60 * k, parking_words[k], lon=LON + 0.02 * k, lat=LAT + 0.02, category=parking))
        rows.append(intake(f"noise{k}", 60 * k + 30, noise_words[k], lon=LON + 0.02 * k, lat=LAT - 0.02,
                           category=noise))
    rows += [intake("a", 500, "广场舞音响声音太吵", lon=LON, lat=LAT, category=noise),
             intake("b", 530, "车辆乱停占用消防通道", lon=LON, lat=LAT, category="交通运输/交通管理")]
    for row in rows:
        row["unit"] = unit
    records = records_mod.prepare(intake_table(rows))
    a, b = records.source_id.index("a"), records.source_id.index("b")
    assert records.inferred_l2[b] == "0304" and records.cat_l2[b] == frozenset({"0108", "0304"})
    levels = scoring.comparison_levels(records, np.array([a]), np.array([b]))
    assert int(levels["place"][0]) == 3 and int(levels["category"][0]) == 0


def test_a_petition_is_blocked_under_the_class_its_words_name():
    """Session 14: a petition filed under the petition office's class (农村农业: class 01) whose words name a bar's
    noise (0211) is compared with the bar's order two days before it at its place: blocking reads the words' class,
    02, where a day is the limit between two topics (blocking.SHORT_WINDOW_S). A 12345 order keeps its label's."""
    from dedupe import blocking

    two_days = 2 * 24 * 60
    rows = _labelled() + [
        intake("order", 500, "酒吧音响声音大", lon=LON, lat=LAT, category=BAR),
        intake("petition", 500 + two_days, "酒吧音乐声太吵", channel="petition", category="农村农业", lon=LON, lat=LAT),
    ]
    records = records_mod.prepare(intake_table(rows))
    order, petition = records.source_id.index("order"), records.source_id.index("petition")
    assert records.cat_l1[petition] == frozenset({"01"}) and records.inferred_l2[petition] == "0211"
    assert records.block_topic[petition] == "02"
    # another channel's read code leaves its blocking topic alone
    assert records_mod._petition_block_topics(["01", "parking"], ["0211", "0304"], ["petition", "12345"]) == [
        "02", "parking"]
    i, j = blocking.candidate_pairs(records, np.ones(len(records), dtype=bool))
    assert (order, petition) in set(zip(i.tolist(), j.tolist()))
