from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pytest

sys.path.insert(0, str(Path(__file__).parent))  # core_fixture sits next to the tests

from core_fixture import write_core  # noqa: E402

from warehouse.dbt_runner import DbtResult, run_dbt  # noqa: E402


@pytest.fixture(scope="session")
def built_fixture(tmp_path_factory) -> tuple[Path, DbtResult]:
    """The hand-made core tables, with `dbt build` (seeds, models, schema tests, unit tests, contracts) run once."""
    home = tmp_path_factory.mktemp("warehouse_home")
    write_core(home / "warehouse.duckdb")
    return home, run_dbt("build", home)


@pytest.fixture(scope="module")
def con(built_fixture):
    """A read-only connection to the fixture warehouse once `dbt build` succeeded."""
    home, result = built_fixture
    assert result.ok, result.output[-3000:]
    connection = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    yield connection
    connection.close()
