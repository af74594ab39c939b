"""The code location loads and validates, and its asset graph is the one committed in asset_graph.json.

The snapshot covers what pipelines/ owns (feeds, core, cases, exports, checks, jobs, schedules, sensors); dbt's own
models change with the dbt project, so for them the test asserts the wiring instead of listing every model.
Refresh the snapshot after an intended change: GONGZHI_UPDATE_SNAPSHOT=1 pytest tests/pipelines -k snapshot
"""
import json
import os
import sys
from pathlib import Path

import dagster as dg
import pytest

from pipelines.automation import RUN_TAGS
from pipelines.settings import WAREHOUSE_POOL

SNAPSHOT = Path(__file__).with_name("asset_graph.json")
CORE_SOURCES = {("core", t) for t in ("intake", "intake_event", "quarantine", "load_log", "case_link", "case", "case_merge")}


@pytest.fixture(scope="module")
def defs():
    from pipelines.definitions import DEFINITION_PROBLEMS, defs

    assert DEFINITION_PROBLEMS == []
    return defs


@pytest.fixture(scope="module")
def graph(defs):
    return defs.resolve_asset_graph()


def _is_dbt(key: dg.AssetKey) -> bool:
    return key.path[0] == "dbt"


def _snapshot(defs, graph) -> dict:
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        if _is_dbt(key):
            continue
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "partitioned": node.partitions_def is not None,
            "deps": sorted(p.to_user_string() for p in node.parent_keys if not _is_dbt(p))
            + (["<every dbt mart>"] if any(_is_dbt(p) for p in node.parent_keys) else []),
        }
    checks = sorted(k.to_user_string() for k in graph.asset_check_keys if not _is_dbt(k.asset_key))
    return {
        "assets": assets,
        "checks": checks,
        "jobs": sorted(j.name for j in defs.jobs),
        "schedules": sorted(s.name for s in defs.schedules),
        "sensors": sorted(s.name for s in defs.sensors),
    }


def test_definitions_load_and_validate(defs):
    dg.Definitions.validate_loadable(defs)


def test_asset_graph_matches_snapshot(defs, graph):
    current = _snapshot(defs, graph)
    if os.environ.get("GONGZHI_UPDATE_SNAPSHOT"):
        SNAPSHOT.write_text(json.dumps(current, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert current == json.loads(SNAPSHOT.read_text(encoding="utf-8"))


def test_dbt_sources_are_the_upstream_assets(graph):
    dbt_keys = [k for k in graph.get_all_asset_keys() if _is_dbt(k)]
    assert dbt_keys, "no dbt models in the graph"
    parents = {tuple(p.path) for k in dbt_keys for p in graph.get(k).parent_keys if not _is_dbt(p)}
    # dbt reads exactly the tables the loads and matching write, under the keys those assets carry
    assert parents == CORE_SOURCES
    for key in CORE_SOURCES:
        assert graph.get(dg.AssetKey(list(key))).is_materializable


def test_layers_group_dbt_models_and_exports_follow_every_mart(graph):
    marts = {k for k in graph.get_all_asset_keys() if k.path[:2] == ["dbt", "marts"]}
    assert marts and all(graph.get(k).group_name == "out" for k in marts)
    staging = [k for k in graph.get_all_asset_keys() if k.path[:2] == ["dbt", "staging"]]
    assert staging and all(graph.get(k).group_name == "core" for k in staging)
    assert set(graph.get(dg.AssetKey(["out", "exports"])).parent_keys) == marts


def test_every_warehouse_writer_is_in_the_pool_and_every_job_is_tagged(defs, graph):
    for key in graph.get_all_asset_keys():
        assets_def = defs.get_assets_def(key)
        assert assets_def.node_def.pool == WAREHOUSE_POOL, key
    for job in defs.jobs:
        assert dict(job.tags or {}).items() >= RUN_TAGS.items(), job.name


def test_dbt_runs_with_the_interpreters_own_dbt(defs):
    from dagster_dbt import DbtCliResource

    resource = defs.resources["dbt"]
    assert isinstance(resource, DbtCliResource)
    assert Path(resource.dbt_executable) == Path(sys.executable).parent / "dbt"
    assert Path(resource.dbt_executable).exists()


def test_12345_fetch_retries(defs):
    assets_def = defs.get_assets_def(dg.AssetKey(["raw", "12345__intake"]))
    assert assets_def.node_def.retry_policy.max_retries >= 1
    poll = next(j for j in defs.jobs if j.name == "poll_12345")
    assert poll.tags["dagster/max_retries"] == "1"
