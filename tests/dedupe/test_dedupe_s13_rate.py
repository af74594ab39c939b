"""Session 13: a case reported in a burst is over once it has been silent for many of its own mean gaps
(cluster._silent_for_its_rate)."""
from __future__ import annotations

import pytest

from dedupe import cluster, topics
from test_dedupe_s10_silence import EVIDENCE, STRONG, _assign

BURST = cluster.RATE_MIN_REPORTS  # reports in the first burst


def _burst_then(gap_hours: float, silence_days: float, block: int) -> cluster.Assignment:
    return _assign([gap_hours / 24] * (BURST - 1) + [silence_days], block)


@pytest.mark.parametrize("block", [0, cluster.FAST_BLOCK])
def test_a_report_long_after_a_burst_starts_a_case(block):
    assert EVIDENCE.prob_table[STRONG] >= cluster.AUTO_MATCH
    # five reports an hour apart, then one two days later: 48 silent hours against a mean gap of one hour
    result = _burst_then(1.0, 2.0, block)
    cases = [int(result.resolve(int(c))) for c in result.case]
    assert len(set(cases[:BURST])) == 1
    assert cases[BURST] != cases[0]


@pytest.mark.parametrize("block", [0, cluster.FAST_BLOCK])
def test_the_same_silence_after_reports_days_apart_joins(block):
    # five reports a day apart, then one two days later: two mean gaps
    result = _burst_then(24.0, 2.0, block)
    assert len({int(result.resolve(int(c))) for c in result.case}) == 1


@pytest.mark.parametrize("block", [0, cluster.FAST_BLOCK])
def test_fewer_reports_do_not_measure_a_rate(block):
    # one report fewer than the rule needs, the same burst and silence: joined (the week's silence rule only)
    result = _assign([1.0 / 24] * (BURST - 2) + [2.0], block)
    assert len({int(result.resolve(int(c))) for c in result.case}) == 1


@pytest.mark.parametrize("block", [0, cluster.FAST_BLOCK])
def test_a_burst_of_minutes_still_takes_a_report_within_the_floor(block):
    # five reports a minute apart, then one after 11 hours: 165 mean gaps, but within the floor
    floor_hours = cluster.RATE_FLOOR_S / topics.HOUR
    result = _burst_then(1.0 / 60, (floor_hours - 1) / 24, block)
    assert len({int(result.resolve(int(c))) for c in result.case}) == 1
