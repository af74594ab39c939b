"""Session 10: a 110 call's coarse label covers the unified codes its 12345 relays carry (records.label_coverage)."""
from __future__ import annotations

import numpy as np

from dedupe import records as records_mod, scoring
from dedupe_testkit import intake, intake_table

NOISE_110 = "噪声扰民"  # the category seed maps it to 0202 (社会生活噪声) alone
BAR = "环境保护/噪声污染/商业噪声"  # 0211
SITE = "环境保护/噪声污染/施工噪声"  # 0201
SQUARE = "环境保护/噪声污染/社会生活噪声"  # 0202


def _calls_and_relays(relay_labels: list[str], start: int = 0) -> list[dict]:
    """One 110 noise call per label, each relayed ten minutes later by a 12345 order with that label."""
    rows = []
    for n, label in enumerate(relay_labels, start=start):
        caller = f"caller{n}"
        rows.append(intake(f"P{n}", n * 300, "来电人称楼下噪音很大", channel="110", caller=caller, category=NOISE_110))
        rows.append(intake(f"R{n}", n * 300 + 10, "110转来：来电人称楼下噪音很大", caller=caller, category=label))
    return rows


def _by_id(records) -> dict[str, int]:
    return {source_id: k for k, source_id in enumerate(records.source_id)}


def test_a_relayed_110_label_covers_the_codes_its_relays_carry():
    rows = _calls_and_relays([BAR] * 4 + [SITE] * 4 + [SQUARE] * 3 + [BAR])
    rows.append(intake("Q", 20_000, "酒吧音乐声太吵", channel="110", caller="someone", category=NOISE_110))
    rows.append(intake("O", 20_100, "酒吧音乐声太吵", caller="other", category=BAR))
    records = records_mod.prepare(intake_table(rows))
    at = _by_id(records)
    assert records.cat_l2[at["Q"]] == frozenset({"0201", "0202", "0211"})  # a call nobody relayed is widened too
    assert records.cat_l2[at["P0"]] == frozenset({"0201", "0202", "0211"})
    assert records.cat_l1[at["Q"]] == frozenset({"02"})
    assert records.cat_l2[at["O"]] == frozenset({"0211"})  # 12345 labels are read as the seed says
    assert records.cat_l2[at["R0"]] == frozenset({"0211"})
    # the widened call names several codes: the bar's order is one of them, which says nothing either way (without
    # the relays the seed's 0202 would disagree with it: see the next tests)
    levels = scoring.comparison_levels(records, np.array([at["Q"]]), np.array([at["O"]]))
    assert levels["category"][0] == -1


def test_a_code_too_few_relays_carry_is_not_covered():
    # two relays say 0201 (fewer than LABEL_COVERAGE_MIN_RELAYS): the label covers 0211 and its seed code 0202 only
    rows = _calls_and_relays([BAR] * 10 + [SITE] * 2)
    records = records_mod.prepare(intake_table(rows))
    assert records.cat_l2[_by_id(records)["P0"]] == frozenset({"0202", "0211"})


def test_without_relays_a_110_label_is_read_as_the_seed_says():
    rows = [intake("Q", 0, "酒吧音乐声太吵", channel="110", caller="someone", category=NOISE_110),
            intake("O", 60, "门口大喇叭促销", caller="other", category=BAR)]
    records = records_mod.prepare(intake_table(rows))
    at = _by_id(records)
    assert records.cat_l2[at["Q"]] == frozenset({"0202"})
    levels = scoring.comparison_levels(records, np.array([at["Q"]]), np.array([at["O"]]))
    assert levels["category"][0] == 1  # same class, another kind: what the seed's single code says


def test_a_relay_is_the_latest_call_of_its_caller_within_the_relay_window():
    t = np.array([0.0, 100.0, 200.0, 300.0, 300.0 + records_mod.RELAY_WINDOW_S + 1.0])
    from_110 = np.array([True, True, False, False, False])
    relayed = np.array([False, False, True, True, True])
    callers = np.array([5, 5, 5, 7, 5])
    assert records_mod.relayed_calls(from_110, relayed, callers, t).tolist() == [-1, -1, 1, -1, -1]


def _category_level(label_a: str, label_b: str, channel_a: str = "12345", channel_b: str = "12345") -> int:
    # two wordings (near-identical ones would make the labels' disagreement moot: see the last test)
    rows = [intake("A", 0, "噪音很大", channel=channel_a, caller="a", category=label_a),
            intake("B", 60, "路灯坏了好几天晚上黑漆漆", channel=channel_b, caller="b", category=label_b)]
    records = records_mod.prepare(intake_table(rows))
    return int(scoring.comparison_levels(records, np.array([0]), np.array([1]))["category"][0])


def test_two_single_codes_agree_or_disagree_as_before():
    assert _category_level(BAR, BAR) == 2
    assert _category_level(BAR, SITE) == 1  # one class, two kinds
    assert _category_level(BAR, "城乡建设/市政设施/井盖") == 0  # two classes


def test_agreement_through_a_label_naming_several_codes_is_no_evidence_its_disagreement_is():
    cut_short = "环境保护/噪声污染"  # a 12345 label without its third level: every noise code
    assert len(records_mod.prepare(intake_table([intake("A", 0, "x", category=cut_short)])).cat_l2[0]) > 1
    assert _category_level(cut_short, BAR) == -1
    assert _category_level(cut_short, "城乡建设/市政设施/井盖") == 0


def test_a_label_naming_only_its_class_never_counts_against():
    # a petition's class (城乡建设 -> the catch-all 0100) against a 12345 housing label of another class
    assert _category_level("城乡建设", "住房保障/房屋质量/渗漏", channel_a="petition") == -1


def _levels_of(text_a: str, text_b: str, label_a: str, label_b: str) -> dict:
    rows = [intake("A", 0, text_a, caller="a", category=label_a), intake("B", 60, text_b, caller="b", category=label_b)]
    records = records_mod.prepare(intake_table(rows))
    return {name: int(v[0]) for name, v in scoring.comparison_levels(records, np.array([0]), np.array([1])).items()}


def test_near_identical_wording_overrides_labels_and_keywords_that_name_two_kinds():
    manhole = "城乡建设/市政设施/井盖"
    same = _levels_of("晚上十一点还在施工声音很大影响休息", "晚上十一点还在施工声音很大影响休息", BAR, manhole)
    assert same["text"] == len(scoring.TEXT_CUTS)
    assert (same["topic"], same["category"]) == (1, 2)
    other = _levels_of("晚上十一点还在施工声音很大影响休息", "路灯坏了好几天晚上黑漆漆", BAR, manhole)
    assert other["text"] < len(scoring.TEXT_CUTS)
    assert (other["topic"], other["category"]) == (0, 0)
