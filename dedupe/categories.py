"""The feeds' own categories mapped onto the unified taxonomy, when the dbt seed that holds it is present.

`dbt/seeds/category_mapping.csv` (built by the dbt side) maps each (channel, source label) to a unified l2 code
(l1 = its first two digits). Matching uses it only as a soft signal and works without it (keyword topics then
carry the category comparison). A 12345 label missing its third level maps to every l2 code its prefix covers.
"""
from __future__ import annotations

import csv
import warnings
from functools import lru_cache
from pathlib import Path

SEED = Path(__file__).resolve().parent.parent / "dbt" / "seeds" / "category_mapping.csv"
FALLBACK_SUFFIX = "00"  # xx00 codes are a class's catch-all ('综合'): they say only the l1


@lru_cache(maxsize=1)
def _mapping() -> dict[tuple[str, str], str]:
    if not SEED.exists():
        # said once per process: without it every label is unknown, the blocking topics fall back to keywords and
        # the category comparison says nothing (seed 20240301: 643 582 -> 320 252 candidates, unnoticed by a run
        # from a copy of dedupe/ outside the repository)
        warnings.warn(f"{SEED} not found: matching runs without unified categories", RuntimeWarning, stacklevel=2)
        return {}
    with SEED.open(newline="", encoding="utf-8") as handle:
        return {
            (row["channel"], row["source_label"]): row["category_l2_code"]
            for row in csv.DictReader(handle)
            if row.get("channel") and row.get("source_label") and row.get("category_l2_code")
        }


@lru_cache(maxsize=4096)
def codes(channel: str, label: str | None) -> tuple[frozenset[str], frozenset[str]]:
    """(specific l2 codes, l1 codes) of a feed label; empty sets when unknown."""
    if not label:
        return frozenset(), frozenset()
    mapping = _mapping()
    found = mapping.get((channel, label))
    # a label cut short may be mapped to its class's catch-all (xx00) by the seed; for matching it still agrees
    # with every specific code below it
    below = [code for (ch, lab), code in mapping.items() if ch == channel and lab.startswith(label + "/")]
    matches = [found] if found and not (found.endswith(FALLBACK_SUFFIX) and below) else below
    l2 = frozenset(code for code in matches if not code.endswith(FALLBACK_SUFFIX))
    l1 = frozenset(class_of(code) for code in matches)
    return l2, l1


def class_of(code: str) -> str:
    """The l1 class of a unified l2 code: its first two digits."""
    return code[:2]


def only_code(codes: frozenset[str]) -> str:
    """A label's one code, '' when it names none or several."""
    return next(iter(codes)) if len(codes) == 1 else ""
