"""Benchmarks, run on demand (`make bench BENCH="..."`), never by the tests; results go to benchmarks/results/."""
from __future__ import annotations

import os


def sql_string(value: str | os.PathLike[str]) -> str:
    """A value as a SQL string literal, its quotes doubled: for the statements that take no parameters (ATTACH, a
    list spliced into generated SQL)."""
    return "'" + str(value).replace("'", "''") + "'"
