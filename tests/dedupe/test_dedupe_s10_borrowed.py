"""Session 10: a member whose point is borrowed (records.approximate) is compared at cluster.MAX_BORROWED_DISTANCE_M,
two members with their own points at cluster.MAX_MEMBER_DISTANCE_M."""
from __future__ import annotations

import numpy as np
import pytest

from dedupe import cluster, records as records_mod, scoring
from dedupe_testkit import default_evidence, intake, intake_table

EVIDENCE = default_evidence()
LON, LAT = 117.3120, 31.7380
STRONG = int(scoring.pattern_codes({"text": np.array([4]), "place": np.array([3]), "time": np.array([2]),
                                    "topic": np.array([1]), "category": np.array([2]), "caller": np.array([0])})[0])


def _two_reports(metres_east: float, first_borrowed: bool, block: int) -> cluster.Assignment:
    rows = [intake("A", 0, "井盖破损", lon=LON, lat=LAT, dispatched=False),
            intake("B", 60, "井盖破损", lon=LON + metres_east / scoring.METRES_PER_DEG_LON, lat=LAT, dispatched=False)]
    records = records_mod.prepare(intake_table(rows))
    records.approximate[0] = first_borrowed  # as if A's point were the median of the reports naming its place
    codes = np.array([STRONG], dtype=np.int16)
    return cluster.assign(records, np.ones(2, dtype=bool), np.array([0]), np.array([1]),
                          EVIDENCE.prob_table[codes.astype(np.int64)], [None, None], {}, codes, EVIDENCE, block=block)


@pytest.mark.parametrize("block", [0, cluster.FAST_BLOCK])
def test_a_borrowed_point_is_near_enough_within_the_wider_bound(block):
    assert EVIDENCE.prob_table[STRONG] >= cluster.AUTO_MATCH
    between = (cluster.MAX_MEMBER_DISTANCE_M + cluster.MAX_BORROWED_DISTANCE_M) / 2
    borrowed = _two_reports(between, True, block)
    assert borrowed.case[0] == borrowed.case[1]
    own = _two_reports(between, False, block)
    assert own.case[0] != own.case[1]


@pytest.mark.parametrize("block", [0, cluster.FAST_BLOCK])
def test_a_borrowed_point_beyond_the_wider_bound_is_another_place(block):
    result = _two_reports(cluster.MAX_BORROWED_DISTANCE_M + 200, True, block)
    assert result.case[0] != result.case[1]
