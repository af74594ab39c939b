"""Session 10: a case takes a report at most cluster.MAX_SILENCE_S after its latest report, whatever its window."""
from __future__ import annotations

import numpy as np
import pytest

from dedupe import cluster, records as records_mod, scoring, topics
from dedupe_testkit import default_evidence, intake, intake_table

EVIDENCE = default_evidence()
# same wording, same spot, same kind, days apart within the window: a clear match by itself
STRONG = int(scoring.pattern_codes({"text": np.array([4]), "place": np.array([3]), "time": np.array([1]),
                                    "topic": np.array([1]), "category": np.array([2]), "caller": np.array([0])})[0])


def _assign(gaps_days: list[float], block: int) -> cluster.Assignment:
    """A broken manhole cover (a 45-day window) reported, then again after each gap; every pair scored STRONG."""
    minutes = np.cumsum([0.0, *gaps_days]) * 24 * 60
    rows = [intake(f"R{k}", float(m), "井盖破损", lon=117.3120, lat=31.7380, dispatched=False)
            for k, m in enumerate(minutes)]
    records = records_mod.prepare(intake_table(rows))
    assert records.window_s[0] == topics.INFRASTRUCTURE.window_s
    n = len(rows)
    i, j = np.triu_indices(n, 1)
    codes = np.full(len(i), STRONG, dtype=np.int16)
    return cluster.assign(records, np.ones(n, dtype=bool), i, j, EVIDENCE.prob_table[codes.astype(np.int64)],
                          [None] * n, {}, codes, EVIDENCE, block=block)


@pytest.mark.parametrize("block", [0, cluster.FAST_BLOCK])
def test_a_report_after_a_week_of_silence_starts_a_case(block):
    assert EVIDENCE.prob_table[STRONG] >= cluster.AUTO_MATCH
    silence_days = cluster.MAX_SILENCE_S / topics.DAY
    joined = _assign([silence_days - 1], block)
    assert joined.case[0] == joined.case[1]
    apart = _assign([silence_days + 1], block)
    assert apart.case[0] != apart.case[1]


@pytest.mark.parametrize("block", [0, cluster.FAST_BLOCK])
def test_the_silence_counts_from_the_latest_report_not_the_first(block):
    # three reports five days apart: each within a week of the one before, the last twelve days after the first
    result = _assign([5.0, 5.0], block)
    assert len({int(result.resolve(int(c))) for c in result.case}) == 1
