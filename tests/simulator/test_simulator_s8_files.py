"""Session 8: the strands' shards, the truth's encoding, and each strand's CPU in the summary."""
from __future__ import annotations

from datetime import date

import pyarrow.parquet as pq

from simulator import SimulationConfig, simulate
from simulator.feeds import DICTIONARY_COLUMNS
from simulator.generator import STRANDS


def test_a_run_reports_each_strands_cpu_and_leaves_no_shards(tmp_path):
    summary = simulate(SimulationConfig(start=date(2024, 3, 1), days=3, per_day=120, seed=3, compact_12345=True),
                       tmp_path / "landing", tmp_path / "truth", workers=2)
    assert len(summary.strand_cpu_seconds) == STRANDS
    assert all(s > 0 for s in summary.strand_cpu_seconds)
    # the day shards were read and the shard directory removed
    assert not list((tmp_path / "truth").glob(".shards-*"))
    assert not list(tmp_path.rglob("*.pkl"))
    # every day has its 12345 file and its 110 file
    for d in ("20240301", "20240302", "20240303"):
        assert (tmp_path / "landing" / "12345" / f"work_orders_{d}.jsonl").stat().st_size > 0
        assert (tmp_path / "landing" / "110" / f"fjwjq_{d}.csv").stat().st_size > 0


def test_truth_dictionary_encodes_only_the_low_cardinality_columns(tmp_path):
    simulate(SimulationConfig(start=date(2024, 3, 1), days=2, per_day=150, seed=4), tmp_path / "landing",
             tmp_path / "truth", workers=1)
    for name in ("intakes", "incidents"):
        meta = pq.ParquetFile(tmp_path / "truth" / f"{name}.parquet").metadata
        group = meta.row_group(0)
        for i in range(group.num_columns):
            column = group.column(i)
            dictionary = column.dictionary_page_offset is not None
            assert dictionary == (column.path_in_schema in DICTIONARY_COLUMNS), (name, column.path_in_schema)


def test_truth_parts_are_regrouped_into_row_groups_of_the_asked_size(tmp_path):
    import pyarrow as pa

    from simulator.feeds import _row_groups

    schema = pa.schema([("n", pa.int64()), ("s", pa.string())])
    path = tmp_path / "part.arrow"
    sizes = [7, 3, 0, 12, 5, 1, 9]  # batches as a strand's days write them, one of them empty
    with pa.ipc.new_file(str(path), schema) as writer:
        start = 0
        for size in sizes:
            writer.write_batch(pa.record_batch([pa.array(range(start, start + size)),
                                                pa.array([str(i) for i in range(start, start + size)])], schema=schema))
            start += size
    groups = list(_row_groups(path, 10))
    assert [g.num_rows for g in groups] == [10, 10, 10, 7]
    assert pa.concat_tables(groups).column("n").to_pylist() == list(range(sum(sizes)))
    assert pa.concat_tables(groups).column("s").to_pylist() == [str(i) for i in range(sum(sizes))]
