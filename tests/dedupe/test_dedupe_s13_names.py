"""Session 13: a case does not take a report, nor merge with a case, that names another estate or street
(cluster._named_apart), whatever the points and the scores say."""
from __future__ import annotations

import numpy as np
import pytest

from dedupe import cluster, records as records_mod, scoring
from dedupe_testkit import intake, intake_table

LON, LAT = 117.3120, 31.7380
DEG_LON_PER_M = 1 / scoring.METRES_PER_DEG_LON


def _cases(rows, pairs_i, pairs_j, prob):
    records = records_mod.prepare(intake_table(rows))
    n = len(rows)
    result = cluster.assign(records, np.ones(n, bool), np.array(pairs_i), np.array(pairs_j), np.array(prob),
                            [None] * n, {})
    return records, [result.resolve(int(c)) for c in result.case], result.merges


@pytest.mark.parametrize("b_estate, merged", [("幸福湾小区", True), ("竹园小区", False)])
def test_an_intake_does_not_bridge_two_cases_that_name_two_estates(b_estate, merged):
    # A and B 30 m apart score low together; C, with neither point nor name, matches both at the join bar
    rows = [
        intake("A", 0, "井盖破损", address="幸福湾小区", lon=LON, lat=LAT),
        intake("B", 30, "路面坑洼", address=b_estate, lon=LON + 30 * DEG_LON_PER_M, lat=LAT),
        intake("C", 60, "井盖破损", channel="110"),
    ]
    records, cases, merges = _cases(rows, [0, 0, 1], [1, 2, 2], [0.01, cluster.AUTO_MATCH, cluster.AUTO_MATCH])
    assert records.estate[0] == "幸福湾"
    assert (cases[0] == cases[1]) is merged
    assert (merges == [(1, 0, "matched_by_one_intake")]) is merged


@pytest.mark.parametrize("c_estate, joins", [("幸福湾小区", True), ("竹园小区", False)])
def test_a_case_does_not_take_a_report_naming_another_estate(c_estate, joins):
    # C's pair with B (no name) is strong, its pair with A fair: only the names tell the two places apart
    rows = [
        intake("A", 0, "井盖破损", address="幸福湾小区", lon=LON, lat=LAT),
        intake("B", 30, "井盖坏了", lon=LON, lat=LAT),
        intake("C", 60, "井盖破损", address=c_estate, lon=LON + 30 * DEG_LON_PER_M, lat=LAT),
    ]
    _, cases, _ = _cases(rows, [0, 0, 1], [1, 2, 2], [cluster.AUTO_MATCH, 0.9, 1.0])
    assert cases[0] == cases[1]
    assert (cases[2] == cases[0]) is joins
