"""Session 7: case-to-case merging after the loop (cluster.merge_fragments). Two cases whose cross comparisons,
pooled, reach CASE_MERGE_BAR merge (the older survives); a cross pair clearly elsewhere, the older case closed
before the younger began, or located members too far apart keep them apart."""
from __future__ import annotations

import numpy as np

from dedupe import cluster, records as records_mod, scoring
from dedupe_testkit import default_evidence, intake, intake_table

LON, LAT = 117.3120, 31.7380
DEG_LON_PER_M = 1 / scoring.METRES_PER_DEG_LON
EVIDENCE = default_evidence()


def _code(**levels) -> int:
    return int(scoring.pattern_codes({name: np.array([levels[name]]) for name in scoring.COMPARISONS})[0])


# each weak alone, together (best level per comparison) a clear match: same wording, same spot, same kind, hours apart
WORDING_ONLY = _code(text=4, place=-1, time=2, topic=1, category=-1, caller=0)
PLACE_ONLY = _code(text=1, place=3, time=2, topic=1, category=2, caller=0)
ELSEWHERE = _code(text=4, place=0, time=2, topic=1, category=2, caller=0)


def _records(closed_minutes=None, far: bool = False):
    rows = [intake(f"R{k}", minutes=60 * k, content="井盖破损", lon=LON + (400 * DEG_LON_PER_M if far and k >= 2 else 0),
                   lat=LAT, closed_minutes=closed_minutes if k == 0 else None, dispatched=k == 0)
            for k in range(4)]
    return records_mod.prepare(intake_table(rows))


def _two_cases(records, codes: list[int]) -> cluster.Assignment:
    """Cases {0, 1} and {2, 3}; cross pairs (0, 2), (1, 3) and (0, 3) with the given codes."""
    result = cluster.Assignment(case=np.array([0, 0, 1, 1]), score=np.full(4, np.nan), matched_to=np.full(4, -1),
                                cases=[], merges=[], review=[])
    for position, members in enumerate(([0, 1], [2, 3])):
        result.cases.append(cluster.CaseState(cluster.case_id_for("12345", f"R{members[0]}"), members[0],
                                              float(records.t[members[0]]), float(records.window_s[members[0]]),
                                              list(members), lead_index=members[0]))
    pairs_i, pairs_j = np.array([0, 1, 0])[:len(codes)], np.array([2, 3, 3])[:len(codes)]
    patterns = np.array(codes, dtype=np.int16)
    prob = EVIDENCE.prob_table[patterns.astype(np.int64)]
    cluster.merge_fragments(result, records, pairs_i, pairs_j, prob, patterns, EVIDENCE)
    return result


def test_pooled_weak_comparisons_merge_two_cases_the_older_survives():
    assert max(EVIDENCE.prob_table[WORDING_ONLY], EVIDENCE.prob_table[PLACE_ONLY]) < cluster.CASE_MERGE_BAR
    result = _two_cases(_records(), [WORDING_ONLY, PLACE_ONLY])
    assert result.merges == [(1, 0, "fragments")]
    assert result.cases[0].members == [0, 1, 2, 3]


def test_one_comparison_alone_does_not():
    assert _two_cases(_records(), [WORDING_ONLY, WORDING_ONLY]).merges == []


def test_a_cross_pair_elsewhere_vetoes():
    # the pooled place level is the best one (3): only the veto keeps them apart
    assert _two_cases(_records(), [WORDING_ONLY, PLACE_ONLY, ELSEWHERE]).merges == []


def test_an_older_case_closed_before_the_younger_began_is_not_merged():
    assert _two_cases(_records(closed_minutes=90), [WORDING_ONLY, PLACE_ONLY]).merges == []


def test_located_members_too_far_apart_are_not_merged():
    assert _two_cases(_records(far=True), [WORDING_ONLY, PLACE_ONLY]).merges == []


def test_an_older_case_closed_before_the_younger_case_s_latest_report_is_not_merged():
    # session 10: the younger case began (120 min) while the older was open, but its latest report (180 min) came
    # after the older case's lead was closed (150 min): merged, that report would sit in a case closed before it
    assert _two_cases(_records(closed_minutes=150), [WORDING_ONLY, PLACE_ONLY]).merges == []
    assert _two_cases(_records(closed_minutes=200), [WORDING_ONLY, PLACE_ONLY]).merges == [(1, 0, "fragments")]
