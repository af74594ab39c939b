"""Session 9: a case a unit holds takes a report at cluster.RECENT_HELD_CASE_MATCH when the pooled comparison says
one of its members came within a day (time level >= cluster.RECENT_TIME_LEVEL) or the report says the problem was
reported before (records.reported_before), at cluster.HELD_CASE_MATCH otherwise; a case no unit holds keeps the join
bar. Both clustering paths (numpy blocks and member by member) agree."""
import numpy as np
import pytest

from dedupe import cluster, normalize, records as records_mod, scoring
from dedupe_testkit import assign_report_to_case, default_evidence, intake, intake_table

EVIDENCE = default_evidence()
TABLE = EVIDENCE.prob_table
PLACE_KNOWN, PLACE_APART = EVIDENCE.place_known_table(), EVIDENCE.place_apart_table()
TIME = scoring.levels_of_patterns(np.arange(scoring.PATTERNS))["time"]
# codes between the two bars that place the two together, by what they say of the time
BETWEEN = [int(c) for c in np.flatnonzero((TABLE >= cluster.RECENT_HELD_CASE_MATCH) & (TABLE < cluster.HELD_CASE_MATCH))
           if PLACE_KNOWN[c] and not PLACE_APART[c]]
RECENT = [c for c in BETWEEN if TIME[c] >= cluster.RECENT_TIME_LEVEL]
HELD_BAND = [int(c) for c in np.flatnonzero((TABLE >= cluster.HELD_CASE_MATCH) & (TABLE < cluster.AUTO_MATCH))
             if PLACE_KNOWN[c] and not PLACE_APART[c]]
DAYS_APART = [c for c in BETWEEN if TIME[c] < cluster.RECENT_TIME_LEVEL]


def _assign(code: int, **kwargs) -> cluster.Assignment:
    return assign_report_to_case(code, EVIDENCE, **kwargs)


def test_the_bars_and_their_codes():
    assert cluster.RECENT_HELD_CASE_MATCH < cluster.HELD_CASE_MATCH < cluster.AUTO_MATCH
    assert RECENT and DAYS_APART
    bars = EVIDENCE.held_bar_table()
    assert {bars[c] for c in RECENT} == {cluster.RECENT_HELD_CASE_MATCH}
    assert {bars[c] for c in DAYS_APART} == {cluster.HELD_CASE_MATCH}
    assert cluster._lowest_acted_on() <= cluster.RECENT_HELD_CASE_MATCH


@pytest.mark.parametrize("block", [0, 1, cluster.FAST_BLOCK])
def test_a_held_case_reported_within_the_day_takes_a_report_at_the_lower_bar(block):
    for code in RECENT[::7]:
        assert _assign(code, dispatched=True, closed_minutes=None, block=block).case[1] == 0, code


@pytest.mark.parametrize("block", [0, 1, cluster.FAST_BLOCK])
def test_not_when_the_reports_are_days_apart(block):
    for code in DAYS_APART[::7]:
        result = _assign(code, dispatched=True, closed_minutes=None, block=block)
        assert result.case[0] != result.case[1], code


# a code in session 8's held band (test_dedupe_s8_held.py) and one below it that only the within-a-day bar takes
@pytest.mark.parametrize("bar", ["held", "recent"])
@pytest.mark.parametrize("block", [0, 1, cluster.FAST_BLOCK])
def test_not_when_no_unit_holds_the_case(block, bar):
    code = HELD_BAND[0] if bar == "held" else RECENT[0]
    never_given = _assign(code, dispatched=False, closed_minutes=None, block=block)
    closed_before = _assign(code, dispatched=True, closed_minutes=300, block=block)
    closed_after = _assign(code, dispatched=True, closed_minutes=900, block=block)
    assert never_given.case[0] != never_given.case[1]
    assert closed_before.case[0] != closed_before.case[1]
    assert closed_after.case[0] == closed_after.case[1]


@pytest.mark.parametrize("text, says", [
    ("再次来电井盖还是没有盖上", True), ("之前已反映过至今没人处理", True), ("第二次反映路灯不亮", True),
    ("此前已多次向12345反映问题仍未解决", True), ("井盖破损很危险", False), ("路灯不亮", False),
])
def test_what_says_the_problem_was_reported_before(text, says):
    assert normalize.says_reported_before(normalize.clean_text(text)) is says


def test_prepare_marks_the_reports_that_say_so():
    rows = [intake("A", 0, "井盖破损"), intake("B", 60, "再次来电：井盖还是没有盖上"),
            intake("C", 120, "井盖破损", channel="petition")]  # session 14: a petition raises it again
    records = records_mod.prepare(intake_table(rows))
    assert records.reported_before.tolist() == [False, True, True]


@pytest.mark.parametrize("block", [0, 1, cluster.FAST_BLOCK])
def test_a_held_case_takes_a_report_that_says_it_was_made_before_at_the_lower_bar(block):
    for code in DAYS_APART[::7]:
        joined = _assign(code, dispatched=True, closed_minutes=None, block=block, later_text="再次来电：井盖松动")
        assert joined.case[1] == 0, code
        nobody_holds = _assign(code, dispatched=False, closed_minutes=None, block=block, later_text="再次来电：井盖松动")
        assert nobody_holds.case[1] != 0, code
