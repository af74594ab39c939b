"""Case-level comparison (pooled evidence), points borrowed from a named place, and slab-wise blocking."""
from __future__ import annotations

import numpy as np

from dedupe import blocking, cluster, records as records_mod, scoring

from dedupe_testkit import intake, intake_table

LON, LAT = 117.3120, 31.7380
DEG_LON_PER_M = 1 / scoring.METRES_PER_DEG_LON


def _default_model() -> scoring.FellegiSunter:
    # no candidate pairs: the documented priors, nothing estimated
    return scoring.fit_patterns(np.zeros(scoring.PATTERNS))


def _pattern(**levels: int) -> int:
    return int(scoring.pattern_codes({name: np.array([levels[name]], dtype=np.int8) for name in scoring.COMPARISONS})[0])


def _two_located_reports_and_a_110_call():
    """A and B (one case, one point) and C, a 110 call with A's wording and no point."""
    rows = [
        intake("A", 0, "井盖破损", lon=LON, lat=LAT),
        intake("B", 30, "井盖坏了", lon=LON, lat=LAT),
        intake("C", 60, "井盖破损", channel="110"),
    ]
    model = _default_model()
    return (records_mod.prepare(intake_table(rows)), model,
            cluster.CaseEvidence.from_model(model, prior=scoring.REFERENCE_PRIOR))


def test_pattern_codes_round_trip_every_level_combination():
    codes = np.arange(scoring.PATTERNS)
    assert (scoring.pattern_codes(scoring.levels_of_patterns(codes)) == codes).all()


def test_an_intake_joins_a_case_that_matches_as_a_whole_though_no_single_member_does():
    # A and B are one case. C has A's wording but no comparable place with A, and B's place but other wording:
    # neither pair reaches the bar, the case's pooled evidence (wording of one, place of the other) does.
    records, model, evidence = _two_located_reports_and_a_110_call()
    with_a = _pattern(text=4, place=-1, time=1, topic=1, category=1, caller=-1)
    with_b = _pattern(text=0, place=3, time=3, topic=1, category=2, caller=-1)
    a_b = _pattern(text=4, place=3, time=3, topic=1, category=2, caller=-1)
    table = scoring.pattern_probabilities(model, prior=scoring.REFERENCE_PRIOR)
    assert table[with_a] < cluster.AUTO_MATCH and table[with_b] < cluster.AUTO_MATCH <= table[a_b]
    pairs_i, pairs_j = np.array([0, 0, 1]), np.array([1, 2, 2])
    patterns = np.array([a_b, with_a, with_b], dtype=np.int16)
    result = cluster.assign(records, np.ones(3, bool), pairs_i, pairs_j, table[patterns], [None] * 3, {},
                            patterns, evidence)
    assert result.case[0] == result.case[1] == result.case[2]
    # the same probabilities judged pair by pair (no pooled evidence) leave C alone
    alone = cluster.assign(records, np.ones(3, bool), pairs_i, pairs_j, table[patterns], [None] * 3, {})
    assert alone.case[2] != alone.case[0]


def test_a_member_clearly_elsewhere_vetoes_the_pooled_join():
    records, model, evidence = _two_located_reports_and_a_110_call()
    base = dict(time=3, topic=1, category=2, caller=-1)
    a_b = _pattern(text=4, place=3, **base)
    strong = _pattern(text=4, place=-1, caller=1, **{k: v for k, v in base.items() if k != "caller"})
    apart = _pattern(text=4, place=0, **base)  # e.g. C names another estate than B
    table = scoring.pattern_probabilities(model, prior=scoring.REFERENCE_PRIOR)
    assert table[strong] >= cluster.AUTO_MATCH
    patterns = np.array([a_b, strong, apart], dtype=np.int16)
    result = cluster.assign(records, np.ones(3, bool), np.array([0, 0, 1]), np.array([1, 2, 2]), table[patterns],
                            [None] * 3, {}, patterns, evidence)
    assert result.case[0] == result.case[1]
    assert result.case[2] != result.case[0]


def test_a_cannot_link_with_one_member_keeps_the_intake_out_of_the_whole_case():
    rows = [
        intake("A", 0, "井盖破损", lon=LON, lat=LAT),
        intake("B", 30, "井盖破损", lon=LON, lat=LAT),
        intake("C", 60, "井盖破损", lon=LON, lat=LAT),
    ]
    records = records_mod.prepare(intake_table(rows))
    model = _default_model()
    evidence = cluster.CaseEvidence.from_model(model, prior=scoring.REFERENCE_PRIOR)
    same = _pattern(text=4, place=3, time=3, topic=1, category=2, caller=-1)
    table = scoring.pattern_probabilities(model, prior=scoring.REFERENCE_PRIOR)
    patterns = np.array([same, same, same], dtype=np.int16)
    prob = np.array([table[same], cluster.CANNOT_LINK, table[same]])  # a reviewer said A and C are not one problem
    result = cluster.assign(records, np.ones(3, bool), np.array([0, 0, 1]), np.array([1, 2, 2]), prob, [None] * 3,
                            {}, patterns, evidence)
    assert result.case[0] == result.case[1]
    assert result.case[2] != result.case[0]


def test_an_intake_without_a_point_borrows_the_median_point_of_its_named_estate():
    rows = [
        intake("P1", 0, "垃圾", address="滨湖和园小区南门", lon=LON, lat=LAT),
        intake("P2", 10, "垃圾", address="滨湖和园3栋", lon=LON + 40 * DEG_LON_PER_M, lat=LAT),
        intake("P3", 20, "垃圾", address="滨湖和园小区", lon=LON + 10 * DEG_LON_PER_M, lat=LAT),
        intake("N1", 30, "垃圾", channel="110", address="滨湖和园北门"),
        intake("N2", 40, "垃圾", channel="110", address="翡翠佳苑小区"),  # no located report names it
    ]
    records = records_mod.prepare(intake_table(rows))
    by_id = {records.source_id[k]: k for k in range(len(records))}
    n1, n2 = by_id["N1"], by_id["N2"]
    assert records.approximate[n1] and records.has_point[n1]
    assert abs(records.lon[n1] - (LON + 10 * DEG_LON_PER_M)) < 1e-9 and abs(records.lat[n1] - LAT) < 1e-9
    assert not records.approximate[n2] and not records.has_point[n2]
    assert not records.approximate[[by_id["P1"], by_id["P2"], by_id["P3"]]].any()


def test_a_far_borrowed_point_does_not_make_the_place_disagree():
    # the borrowed point is a median: far from it the address keys decide, not the distance
    rows = [
        intake("P1", 0, "垃圾", address="滨湖和园小区南门", lon=LON, lat=LAT),
        intake("P2", 10, "垃圾", address="滨湖和园3栋", lon=LON, lat=LAT),
        intake("N1", 30, "垃圾", channel="110", address="滨湖和园北门"),
        intake("F", 40, "垃圾", address="滨湖和园小区", lon=LON + 600 * DEG_LON_PER_M, lat=LAT),
    ]
    records = records_mod.prepare(intake_table(rows))
    by_id = {records.source_id[k]: k for k in range(len(records))}
    levels = scoring.comparison_levels(records, np.array([by_id["N1"]]), np.array([by_id["F"]]))
    assert int(levels["place"][0]) == 3  # same estate named
    own = scoring.comparison_levels(records, np.array([by_id["P1"]]), np.array([by_id["F"]]))
    assert int(own["place"][0]) == 2  # own points 600 m apart, same estate: the estate still counts


def test_blocking_slab_by_slab_gives_the_same_pairs(monkeypatch):
    rows = [
        intake(f"S{k}", 37 * k, "路灯不亮" if k % 2 else "噪音扰民", address="滨湖和园小区" if k % 3 else "",
               lon=LON + (k % 5) * 30 * DEG_LON_PER_M, lat=LAT, caller=f"c{k % 4}")
        for k in range(40)
    ]
    records = records_mod.prepare(intake_table(rows))
    is_new = np.ones(len(records), bool)
    whole_i, whole_j = blocking.candidate_pairs(records, is_new)
    monkeypatch.setattr(blocking, "SLAB", 7)
    slab_i, slab_j = blocking.candidate_pairs(records, is_new)
    assert len(whole_i) > 40
    assert (whole_i == slab_i).all() and (whole_j == slab_j).all()
    assert (whole_i < whole_j).all()


def test_a_110_call_and_its_12345_relay_by_the_same_caller_are_one_problem_whatever_their_labels():
    rows = [
        intake("P1", 0, "报警人称小区门口有人吵架", channel="110", caller="c1", category="其他求助"),
        intake("R1", 30, "110转来：来电人称小区楼下广场舞音响太大", caller="c1", category="环境保护/噪声污染"),
        intake("R2", 30, "110转来：来电人称小区楼下广场舞音响太大", caller="c2", category="环境保护/噪声污染"),
        intake("R3", 200, "110转来：来电人称小区楼下广场舞音响太大", caller="c1", category="环境保护/噪声污染"),
        intake("N1", 40, "来电人称小区楼下广场舞音响太大", caller="c1", category="环境保护/噪声污染"),
    ]
    records = records_mod.prepare(intake_table(rows))
    index = {records.source_id[k]: k for k in range(len(records))}
    assert {s for s, k in index.items() if records.relayed_110[k]} == {"R1", "R2", "R3"}
    assert {s for s, k in index.items() if records.from_110[k]} == {"P1"}
    first = np.array([index["P1"]] * 4)
    later = np.array([index[s] for s in ("R1", "R2", "R3", "N1")])
    # the relay by the same caller within the window; not another caller, not hours later, not an unmarked order
    assert scoring.relay_pairs(records, first, later).tolist() == [True, False, False, False]
    model = _default_model()
    codes = scoring.score_patterns(records, first, later)
    prob = scoring.pair_probabilities(model, records, first, later, codes, prior=scoring.REFERENCE_PRIOR)
    assert prob[0] == 1.0 and prob[1:].max() < 1.0


def _two_cases_and_a_bridge(b_offset_m: float):
    """A and B: two cases (their pair scores low); C, without a point, matches both at the join bar."""
    rows = [
        intake("A", 0, "井盖破损", lon=LON, lat=LAT),
        intake("B", 30, "井盖坏了", lon=LON + b_offset_m * DEG_LON_PER_M, lat=LAT),
        intake("C", 60, "井盖破损", channel="110"),
    ]
    records = records_mod.prepare(intake_table(rows))
    pairs_i, pairs_j = np.array([0, 0, 1]), np.array([1, 2, 2])
    prob = np.array([0.01, cluster.AUTO_MATCH, cluster.AUTO_MATCH])
    result = cluster.assign(records, np.ones(3, bool), pairs_i, pairs_j, prob, [None] * 3, {})
    return [result.resolve(int(c)) for c in result.case], result.merges


def test_an_intake_joining_two_open_cases_at_the_join_bar_merges_them_into_the_older():
    cases, merges = _two_cases_and_a_bridge(b_offset_m=30)
    assert cases == [0, 0, 0]
    assert merges == [(1, 0, "matched_by_one_intake")]


def test_an_intake_without_a_point_does_not_merge_two_cases_at_two_places():
    cases, merges = _two_cases_and_a_bridge(b_offset_m=400)
    assert cases[0] != cases[1] and merges == []


def test_without_any_place_evidence_a_join_needs_the_higher_bar():
    # C (a 110 call naming no place) has A's and B's wording and category the same day, but nothing compares the
    # places: it joins only when the case matches it at AUTO_MATCH_PLACE_UNKNOWN, e.g. with the same caller too
    records, model, evidence = _two_located_reports_and_a_110_call()
    table = scoring.pattern_probabilities(model, prior=scoring.REFERENCE_PRIOR)
    a_b = _pattern(text=4, place=3, time=3, topic=1, category=2, caller=-1)
    wording_only = _pattern(text=4, place=-1, time=2, topic=1, category=2, caller=-1)
    with_caller = _pattern(text=4, place=-1, time=2, topic=1, category=2, caller=1)
    assert cluster.AUTO_MATCH <= table[wording_only] < cluster.AUTO_MATCH_PLACE_UNKNOWN <= table[with_caller]
    for c_pattern, joins in ((wording_only, False), (with_caller, True)):
        patterns = np.array([a_b, c_pattern, c_pattern], dtype=np.int16)
        result = cluster.assign(records, np.ones(3, bool), np.array([0, 0, 1]), np.array([1, 2, 2]),
                                table[patterns], [None] * 3, {}, patterns, evidence)
        assert result.case[0] == result.case[1]
        assert (result.case[2] == result.case[0]) == joins


def test_a_call_takers_manual_link_counts_only_where_the_places_agree():
    near = intake("L2", 60, "路灯不亮", lon=LON + 30 * DEG_LON_PER_M, lat=LAT)
    far = intake("L3", 90, "路灯不亮", lon=LON + 2000 * DEG_LON_PER_M, lat=LAT)
    unlinked = intake("L4", 120, "路灯不亮", lon=LON, lat=LAT)
    near["linked_source_id"] = far["linked_source_id"] = "L1"
    rows = [intake("L1", 0, "井盖破损", lon=LON, lat=LAT), near, far, unlinked]
    records = records_mod.prepare(intake_table(rows))
    assert records.linked_to.tolist() == [-1, 0, 0, -1]
    first, later = np.zeros(3, dtype=np.int64), np.array([1, 2, 3])
    patterns = scoring.score_patterns(records, first, later)
    assert scoring.manual_link_pairs(records, first, later, patterns).tolist() == [True, False, False]
    prob = scoring.pair_probabilities(_default_model(), records, first, later, patterns, prior=scoring.REFERENCE_PRIOR)
    assert prob[0] == 1.0 and prob[1:].max() < 1.0
