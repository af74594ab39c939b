"""Session 10, second round: what an incremental run learns of a 110 label's coverage (records.label_coverage).

A run prepares its context: the new intakes and every matched intake received within the longest window
(topics.MAX_WINDOW_S, 45 days) before the earliest new one (run._load_context). So a daily run learns the coverage
from the relays of the last 45 days, the earlier days' included: the same relays a full run over those days sees.
Relays older than that are not seen; docs/dedupe.md ("Session 10, second round") measures what that costs a month
matched day by day (nothing measurable).
"""
from __future__ import annotations

from dedupe_testkit import intake, write_intakes

from dedupe import records as records_mod
from dedupe.run import match
from dedupe.topics import MAX_WINDOW_S

NOISE_110 = "噪声扰民"  # the category seed maps it to 0202 (社会生活噪声) alone
BAR = "环境保护/噪声污染/商业噪声"  # 0211
DAY_MIN = 24 * 60


def _call_and_relay(n: int, minutes: float) -> list[dict]:
    """A 110 noise call and the 12345 order relaying it ten minutes later, labelled as a bar's noise."""
    caller = f"caller{n}"
    return [intake(f"P{n}", minutes, "来电人称楼下噪音很大", channel="110", caller=caller, category=NOISE_110),
            intake(f"R{n}", minutes + 10, "110转来：来电人称楼下噪音很大", caller=caller, category=BAR)]


def _coverage_of_each_run(monkeypatch, warehouse, batches: list[list[dict]], tmp_path) -> list[dict]:
    """Match the batches one run each (core.intake grows by one batch per run); the noise label's coverage that
    each run learned."""
    learned: list[dict] = []
    original = records_mod.label_coverage

    def recording(*args):
        coverage = original(*args)
        learned.append(coverage)
        return coverage

    monkeypatch.setattr(records_mod, "label_coverage", recording)
    rows: list[dict] = []
    for batch in batches:
        rows += batch
        write_intakes(warehouse, rows)
        match(warehouse, tmp_path / "review")
    return [run.get(("110", NOISE_110), frozenset()) for run in learned]


def test_a_daily_run_learns_the_coverage_from_the_relays_of_earlier_days_too(monkeypatch, tmp_path):
    # two relays a day (fewer than LABEL_COVERAGE_MIN_RELAYS): no single day shows the label covers a bar's noise
    days = [_call_and_relay(2 * d, d * DAY_MIN + 600) + _call_and_relay(2 * d + 1, d * DAY_MIN + 700) for d in range(3)]
    assert 2 < records_mod.LABEL_COVERAGE_MIN_RELAYS <= 4
    daily = _coverage_of_each_run(monkeypatch, tmp_path / "daily.duckdb", days, tmp_path)
    full = _coverage_of_each_run(monkeypatch, tmp_path / "full.duckdb", [sum(days, [])], tmp_path)
    assert full == [frozenset({"0211"})]
    # day 1 sees two relays; day 2 sees day 1's as well (they are in its context): from then on as the full run
    assert daily == [frozenset(), frozenset({"0211"}), frozenset({"0211"})]


def test_relays_older_than_the_longest_window_are_not_seen_by_a_later_daily_run(monkeypatch, tmp_path):
    old = _call_and_relay(0, 0) + _call_and_relay(1, 100) + _call_and_relay(2, 200)
    later_minutes = MAX_WINDOW_S / 60 + 2 * DAY_MIN  # beyond the context of a run that matches this day
    later = [intake("Q", later_minutes, "酒吧音乐声太吵", channel="110", caller="someone", category=NOISE_110)]
    daily = _coverage_of_each_run(monkeypatch, tmp_path / "daily.duckdb", [old, later], tmp_path)
    full = _coverage_of_each_run(monkeypatch, tmp_path / "full.duckdb", [old + later], tmp_path)
    assert full == [frozenset({"0211"})]
    # the second run's context is Q alone: Q's label is read as the seed says (0202), where the full run widens it
    assert daily == [frozenset({"0211"}), frozenset()]
