"""The blocking rows-balance check fails on a delivery whose books do not balance, and passes on one that does."""
import duckdb

from pipelines.assets import rows_balance_result
from pipelines.queries import delivery_imbalances


def make_warehouse(path, deliveries):
    """deliveries: (load_id, delivery, rows_in, rows_loaded, rows_quarantined, rows actually in raw)."""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema core; create schema raw")
        con.execute(
            "create table core.load_log (load_id varchar, channel varchar, delivery varchar, checksum varchar, "
            "rows_in bigint, rows_loaded bigint, rows_quarantined bigint, loaded_at timestamp)"
        )
        con.execute('create table raw."110__intake" (load_id varchar, source_id varchar)')
        for load_id, delivery, rows_in, loaded, quarantined, in_raw in deliveries:
            con.execute(
                "insert into core.load_log values (?, '110', ?, null, ?, ?, ?, now()::timestamp)",
                [load_id, delivery, rows_in, loaded, quarantined],
            )
            for i in range(in_raw):
                con.execute('insert into raw."110__intake" values (?, ?)', [load_id, f"{delivery}-{i}"])


def test_balanced_deliveries_pass(tmp_path):
    path = tmp_path / "w.duckdb"
    make_warehouse(path, [("L1", "fjwjq_20240301.csv", 5, 4, 1, 4), ("L2", "fjwjq_20240302.csv", 3, 3, 0, 3)])
    with duckdb.connect(str(path), read_only=True) as con:
        assert delivery_imbalances(con, "110") == (2, [])
    result = rows_balance_result(path, "110")
    assert result.passed is True


def test_counts_that_do_not_add_up_or_rows_missing_from_raw_fail(tmp_path):
    path = tmp_path / "w.duckdb"
    make_warehouse(path, [
        ("L1", "fjwjq_20240301.csv", 5, 4, 1, 4),   # balanced
        ("L2", "fjwjq_20240302.csv", 6, 4, 1, 4),   # one row neither loaded nor quarantined
        ("L3", "fjwjq_20240303.csv", 3, 3, 0, 2),   # the log claims a row the raw layer does not hold
    ])
    with duckdb.connect(str(path), read_only=True) as con:
        checked, bad = delivery_imbalances(con, "110")
    assert checked == 3
    assert sorted(b.delivery for b in bad) == ["fjwjq_20240302.csv", "fjwjq_20240303.csv"]
    result = rows_balance_result(path, "110")
    assert result.passed is False
    assert result.metadata["deliveries_unbalanced"].value == 2
