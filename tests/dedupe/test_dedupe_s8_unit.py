"""Session 8: where the labels say nothing of the kind (a petition's class-only label), the unit each intake was given
stands in: the same unit is category level 2; two units, or a unit on one side only, stay no evidence (-1); a label
that names the kind is never overridden by the unit."""
from __future__ import annotations

import numpy as np
import pytest

from dedupe import categories, records as records_mod, scoring
from dedupe_testkit import intake, intake_table

LON, LAT = 117.3120, 31.7380
ZJ = "包河区住房和城乡建设局"


def _with_unit(row: dict, unit: str | None) -> dict:
    row["unit"] = unit
    return row


def _petition(source_id: str, minutes: float, unit: str | None) -> dict:
    row = intake(source_id, minutes, "小区电梯经常坏", channel="petition", dispatched=False)
    row["source_category"] = "城乡建设"  # the class only: maps to a catch-all
    return _with_unit(row, unit)


def _levels(rows: list[dict], pairs: list[tuple[str, str]]) -> dict[str, list[int]]:
    records = records_mod.prepare(intake_table(rows))
    index = {records.source_id[k]: k for k in range(len(records))}
    i = np.array([index[a] for a, _ in pairs], dtype=np.int64)
    j = np.array([index[b] for _, b in pairs], dtype=np.int64)
    return {name: level.tolist() for name, level in scoring.comparison_levels(records, i, j).items()}


def test_unit_names_resolve_aliases_and_the_platform_is_no_unit():
    if not records_mod.UNIT_ALIASES.exists():
        pytest.skip("no unit alias seed")
    names = records_mod.unit_names(["区城管局", "包河区城市管理局", records_mod.HANDED_TO_PLATFORM, "", "某某单位"])
    assert names[0] == names[1] == "包河区城市管理局"
    assert names[2] == names[3] == ""
    assert names[4] == "某某单位"  # a name the seed does not know is kept as written


def test_the_same_unit_stands_in_for_a_class_only_label():
    if not categories.SEED.exists():
        pytest.skip("no category mapping seed")
    rows = [_petition("P1", 0, ZJ), _petition("P2", 60, ZJ), _petition("P3", 90, "包河区城市管理局"),
            _petition("P4", 120, None)]
    levels = _levels(rows, [("P1", "P2"), ("P1", "P3"), ("P1", "P4")])
    assert levels["category"] == [2, -1, -1]


def test_a_label_that_names_the_kind_is_not_overridden_by_the_unit():
    if not categories.SEED.exists():
        pytest.skip("no category mapping seed")
    manhole = _with_unit(intake("K1", 0, "井盖破损", category="城乡建设/市政设施/井盖", lon=LON, lat=LAT), ZJ)
    streetlight = _with_unit(intake("K2", 10, "路灯不亮", category="城乡建设/市政设施/路灯", lon=LON, lat=LAT), ZJ)
    levels = _levels([manhole, streetlight], [("K1", "K2")])
    assert levels["category"] == [1]  # one class, two kinds, whatever the unit
