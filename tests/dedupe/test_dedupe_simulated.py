"""Matching on a small simulated district (3 days x 200 intakes a day): blocking recall and sane quality.

The data go through the simulator and the real connectors (the benchmark harness), so this also checks that the
matcher reads what `gongzhi load` writes.
"""
import duckdb
import numpy as np
import pytest

from benchmarks.bench_matching import build_warehouse
from dedupe import blocking, records as records_mod
from dedupe.evaluate import evaluate_warehouse
from dedupe.run import match


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    home = tmp_path_factory.mktemp("district")
    build_warehouse(home, days=3, per_day=200, seed=7)
    return home


def test_blocking_finds_most_true_pairs_with_few_candidates(district):
    con = duckdb.connect(str(district / "warehouse.duckdb"), read_only=True)
    table = con.sql("SELECT " + ", ".join(records_mod.MATCH_COLUMNS) + " FROM core.intake").to_arrow_table()
    truth = dict(
        ((c, s), i) for c, s, i in con.execute(
            f"SELECT channel, source_id, incident_id FROM read_parquet('{district / 'truth' / 'intakes.parquet'}')"
        ).fetchall()
    )
    con.close()
    records = records_mod.prepare(table)
    pairs_i, pairs_j = blocking.candidate_pairs(records, np.ones(len(records), bool))
    stats = blocking.blocking_recall(records, pairs_i, pairs_j, [truth.get(records.key(k)) for k in range(len(records))])
    assert stats["true_pairs"] > 20
    assert stats["recall"] >= 0.8
    assert stats["candidates_per_intake"] < 40


def test_match_and_evaluate_on_the_simulated_district(district):
    report = match(district / "warehouse.duckdb", district / "review")
    metrics = evaluate_warehouse(district / "warehouse.duckdb", district / "truth")
    assert report.intakes_matched == metrics["intakes_linked"] == metrics["intakes_in_truth"]
    assert metrics["cases"] < metrics["intakes"]  # some reports were merged
    assert metrics["bcubed_precision"] > 0.9 and metrics["over_merge_rate"] < 0.1
    again = match(district / "warehouse.duckdb", district / "review")
    assert again.intakes_matched == 0
