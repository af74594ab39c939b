"""The shortcuts that make clustering fast are exact: they never change what the full computation decides."""
from datetime import timedelta

import numpy as np
from dedupe_testkit import default_evidence, intake_table, scene
from hypothesis import given, settings, strategies as st

from dedupe import blocking, cluster, records as records_mod, scoring


EVIDENCE = default_evidence()
codes_strategy = st.lists(st.integers(min_value=0, max_value=scoring.PATTERNS - 1), min_size=1, max_size=8)


@settings(max_examples=200, deadline=None)
@given(codes_strategy, st.data())
def test_bound_is_at_least_the_pooled_probability_of_any_subset(codes, data):
    bound = EVIDENCE.best_possible_probability(np.array([0, len(codes)]), np.array(codes))[0]
    subset = data.draw(st.lists(st.sampled_from(codes), min_size=1, max_size=len(codes)))
    assert EVIDENCE.pooled_probability(subset) <= bound + 1e-9


@settings(max_examples=200, deadline=None)
@given(codes_strategy)
def test_pooled_code_built_member_by_member_scores_as_pooled_probability(codes):
    memo: dict = {}
    code = codes[0]
    for other in codes[1:]:
        code = EVIDENCE.pooled_code(code, other, memo)
    assert EVIDENCE.prob_table[code] == EVIDENCE.pooled_probability(codes)


def test_bound_per_node_and_for_a_node_without_pairs():
    offsets = np.array([0, 2, 2, 3])
    codes = np.array([5, 17, 4000])
    bound = EVIDENCE.best_possible_probability(offsets, codes)
    assert bound[1] == 0.0
    assert bound[0] >= max(EVIDENCE.prob_table[5], EVIDENCE.prob_table[17])
    assert np.isclose(bound[2], EVIDENCE.prob_table[4000])


def test_slabs_of_any_size_give_the_same_candidates():
    """Each slab's joins expand only the rows within the longest window before it: the union over slabs is the
    whole candidate set whatever the slab size."""
    rows = list(scene())
    # the scene again 10 and 60 days later (other ids): pairs across slabs, some within a window, some beyond
    for days in (10, 60):
        for row in scene():
            rows.append({**row, "source_id": f"{row['source_id']}+{days}",
                         "received_at": row["received_at"] + timedelta(days=days)})
    records = records_mod.prepare(intake_table(rows))
    is_new = np.ones(len(records), dtype=bool)

    def pairs(slab):
        found = [set(zip(i.tolist(), j.tolist())) for i, j in blocking.candidate_slabs(records, is_new, slab=slab)]
        return set().union(*found)

    whole = pairs(10_000)
    assert whole and pairs(3) == whole == pairs(7)
    assert any(j - i > 3 for i, j in whole)  # pairs that cross slabs of 3 exist


def test_slabs_built_ahead_in_a_thread_come_in_order_and_errors_reach_the_caller():
    from dedupe.run import _ahead

    def slabs(fail_at=None):
        for k in range(5):
            if k == fail_at:
                raise ValueError("slab failed")
            yield np.arange(k), np.arange(k) + 1

    assert [len(i) for i, _ in _ahead(slabs())] == [0, 1, 2, 3, 4]
    seen = []
    try:
        for i, _ in _ahead(slabs(fail_at=3)):
            seen.append(len(i))
    except ValueError as error:
        assert str(error) == "slab failed"
    else:
        raise AssertionError("the producer's error was swallowed")
    assert seen == [0, 1, 2]
    # the consumer stops early: the producer thread ends and the generator is closed
    gen = slabs()
    for _ in _ahead(gen):
        break
    assert gen.gi_frame is None
