"""Session 10, second round: where the labels name one kind at one place, wording with nothing in common is no
evidence either way (scoring.comparison_levels)."""
from __future__ import annotations

import numpy as np

from dedupe import records as records_mod, scoring
from dedupe_testkit import intake, intake_table

BAR = "环境保护/噪声污染/商业噪声"  # 0211
SITE = "环境保护/噪声污染/施工噪声"  # 0201
LON, LAT = 117.3120, 31.7380


def _levels(label_b: str, metres_east: float) -> dict[str, int]:
    rows = [intake("A", 0, "酒吧音乐声太吵", lon=LON, lat=LAT, caller="a", category=BAR),
            intake("B", 300, "半夜外放大喇叭影响睡觉", lon=LON + metres_east / scoring.METRES_PER_DEG_LON, lat=LAT,
                   caller="b", category=label_b)]
    records = records_mod.prepare(intake_table(rows))
    levels = scoring.comparison_levels(records, np.array([0]), np.array([1]))
    return {name: int(value[0]) for name, value in levels.items()}


def test_other_words_for_one_labelled_kind_at_one_place_are_no_evidence():
    levels = _levels(BAR, 20.0)
    assert levels["category"] == 2 and levels["place"] == 3
    assert levels["text"] == -1


def test_other_words_still_count_against_where_the_labels_or_the_places_differ():
    other_kind = _levels(SITE, 20.0)
    assert other_kind["category"] == 1 and other_kind["text"] == 0
    far = _levels(BAR, 200.0)  # 150-250 m: place level 1
    assert far["category"] == 2 and far["place"] == 1 and far["text"] == 0
