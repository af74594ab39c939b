"""The benchmarks attach warehouses by path: a path with a quote in it must still name the file."""
from __future__ import annotations

import duckdb

from benchmarks import sql_string


def test_a_quoted_path_attaches(tmp_path):
    folder = tmp_path / "it's a month"
    folder.mkdir()
    source = folder / "warehouse.duckdb"
    con = duckdb.connect(str(source))
    con.execute("CREATE TABLE t AS SELECT 42 AS answer")
    con.close()
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH {sql_string(source)} AS month (READ_ONLY)")
        assert con.execute("SELECT answer FROM month.t").fetchall() == [(42,)]
    finally:
        con.close()
