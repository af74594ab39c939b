"""The whole graph in-process on a small simulated dataset in a temporary GONGZHI_HOME (the slow test)."""
import duckdb
import pytest

import dagster as dg
from gongzhi import settings as gongzhi_settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    from simulator import SimulationConfig, simulate

    home = tmp_path_factory.mktemp("gongzhi_home")
    summary = simulate(SimulationConfig(days=3, per_day=120, seed=11), home / "landing", home / "truth")
    return home, summary


@pytest.fixture(scope="module")
def outcome(simulated):
    from simulator.server12345 import start_server

    home, _ = simulated
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GONGZHI_HOME", str(home))
        server = start_server(home / "landing" / "12345", port=0, token=gongzhi_settings.DEV_12345_TOKEN)
        try:
            mp.setenv("GONGZHI_12345_URL", server.url)
            from pipelines.cli import run_everything

            yield run_everything(gongzhi_settings.load(), instance=dg.DagsterInstance.ephemeral(), log_level="ERROR")
        finally:
            server.stop()


def test_every_asset_and_blocking_check_succeeds(simulated, outcome):
    assert outcome.success, (outcome.failed_steps, outcome.failed_checks, outcome.problems)
    from pipelines.landing import landed_days

    days = landed_days(simulated[0] / "landing")
    assert outcome.days == (days[0].isoformat(), days[-1].isoformat()) and days[0].isoformat() == "2024-03-01"
    for key in ("raw/110__intake", "raw/12345__intake", "raw/petition__intake", "raw/hotline__intake",
                "core/intake", "core/case_link", "out/exports"):
        assert key in outcome.materialized, key
    assert any(k.startswith("dbt/marts/") for k in outcome.materialized)


def test_warehouse_is_consistent_after_the_run(simulated, outcome):
    home, summary = simulated
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        channels = dict(con.execute("select channel, count(*) from core.intake group by 1").fetchall())
        assert set(channels) == {"12345", "110", "petition", "hotline"}
        rows_in, loaded, quarantined = con.execute(
            "select sum(rows_in), sum(rows_loaded), sum(rows_quarantined) from core.load_log").fetchone()
        assert rows_in == loaded + quarantined and loaded > 0
        unlinked = con.execute(
            "select count(*) from core.intake i anti join core.case_link l using (channel, source_id)").fetchone()[0]
        assert unlinked == 0
        assert con.execute("select count(*) from marts.fct_intake").fetchone()[0] == sum(channels.values())
    finally:
        con.close()
    assert (home / "exports").is_dir() and any((home / "exports").rglob("*.parquet"))
    # the run's materialisation metadata matches the warehouse
    assert outcome.materialized["core/intake"]["dagster/row_count"] == sum(channels.values())


def test_reloading_a_day_changes_nothing(simulated, outcome):
    from pipelines.definitions import defs
    from pipelines.resources import GongzhiResource

    home, _ = simulated
    raw_110 = defs.get_assets_def(dg.AssetKey(["raw", "110__intake"]))
    before = _counts(home)
    result = dg.materialize([raw_110], partition_key=outcome.days[0],
                            resources={"gongzhi": GongzhiResource(home=str(home))}, raise_on_error=False)
    assert result.success
    metadata = result.asset_materializations_for_node("raw__110__intake")[0].metadata
    assert metadata["rows_loaded"].value == 0 and metadata["deliveries_skipped"].value >= 1
    assert _counts(home) == before


def _counts(home):
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(
            "select (select count(*) from core.intake), (select count(*) from raw.\"110__intake\"), "
            "(select count(*) from core.load_log), (select count(*) from core.quarantine)").fetchone()
    finally:
        con.close()
