"""Session 8: a case a unit holds (its lead dispatched to a unit, not closed when the report came) takes a report
whose pooled probability is at least cluster.HELD_CASE_MATCH, below the join bar; a case nobody was given, or one
its unit closed before the report, does not. Both clustering paths (numpy blocks and member by member) agree."""
import numpy as np
import pytest

from dedupe import cluster
from dedupe_testkit import assign_report_to_case, default_evidence

EVIDENCE = default_evidence()
TABLE = EVIDENCE.prob_table
PLACE_KNOWN, PLACE_APART = EVIDENCE.place_known_table(), EVIDENCE.place_apart_table()
# pattern codes whose probability lies in the held band and that place the two together (known, not apart)
HELD_BAND = [int(c) for c in np.flatnonzero((TABLE >= cluster.HELD_CASE_MATCH) & (TABLE < cluster.AUTO_MATCH))
             if PLACE_KNOWN[c] and not PLACE_APART[c]]
# (a code saying a member came within a day has its own, lower bar since session 9: test_dedupe_s9_recent.py)
HELD_BAR = EVIDENCE.held_bar_table()
BELOW_HELD = [int(c) for c in np.flatnonzero((TABLE >= cluster.REVIEW_LOW) & (TABLE < cluster.HELD_CASE_MATCH))
              if PLACE_KNOWN[c] and not PLACE_APART[c] and HELD_BAR[c] == cluster.HELD_CASE_MATCH]


def _assign(code: int, **kwargs) -> cluster.Assignment:
    return assign_report_to_case(code, EVIDENCE, **kwargs)


def test_the_band_exists():
    assert cluster.REVIEW_LOW <= cluster.HELD_CASE_MATCH < cluster.AUTO_MATCH
    assert HELD_BAND and BELOW_HELD


@pytest.mark.parametrize("block", [0, 1, cluster.FAST_BLOCK])
def test_a_held_case_takes_a_report_in_the_band(block):
    for code in HELD_BAND[::5]:
        result = _assign(code, dispatched=True, closed_minutes=None, block=block)
        assert result.case[0] == result.case[1], code


@pytest.mark.parametrize("block", [0, 1, cluster.FAST_BLOCK])
def test_not_below_the_band(block):
    for code in BELOW_HELD[::5]:
        result = _assign(code, dispatched=True, closed_minutes=None, block=block)
        assert result.case[0] != result.case[1], code
        assert any(x == 1 and m == 0 for x, m, _ in result.review)  # left apart in the review band: to review
