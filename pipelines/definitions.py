"""The Dagster code location `gongzhi` (pyproject [tool.dagster]): `defs`."""

import os
import sys
import warnings

import dagster as dg

# backfill_policy and pools are marked beta in Dagster 1.13; the warnings say nothing to the operator.
warnings.filterwarnings("ignore", category=dg.BetaWarning)

from pipelines import assets, checks
from pipelines import dbt as dbt_wiring  # `dbt` is the resource key the dbt assets take
from pipelines.automation import JOBS, SCHEDULES, SENSORS
from pipelines.resources import GongzhiResource
from pipelines.assets import FILE_FEEDS
from pipelines.settings import API_FEED


DEFINITION_PROBLEMS = assets.DEFINITION_PROBLEMS


def _dbt_assets() -> list[dg.AssetsDefinition]:
    if not dbt_wiring.dbt_project_exists():
        DEFINITION_PROBLEMS.append(f"no dbt project in {dbt_wiring.DBT_DIR}: the graph has no dbt models")
        print(f"gongzhi: {DEFINITION_PROBLEMS[-1]}", file=sys.stderr)
        return []
    from dagster_dbt import DbtCliResource, dbt_assets

    project = dbt_wiring.dbt_project()
    try:
        manifest = dbt_wiring.ensure_manifest(project)
    except dbt_wiring.ManifestError as exc:
        # The rest of the graph stays usable (UI, loads, matching); the failure is loud, never silent.
        DEFINITION_PROBLEMS.append(f"dbt models left out of the graph: {exc}")
        print(f"gongzhi: ERROR {DEFINITION_PROBLEMS[-1]}", file=sys.stderr)
        return []

    @dbt_assets(manifest=manifest, project=project, dagster_dbt_translator=dbt_wiring.TRANSLATOR, name="dbt_models",
                pool=assets.WAREHOUSE_POOL)
    def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, gongzhi: GongzhiResource):
        # dbt's profile reads GONGZHI_HOME; give the subprocess the same absolute home this run uses.
        os.environ["GONGZHI_HOME"] = str(gongzhi.settings().home)
        yield from dbt.cli(["build"], context=context, target_path=dbt_wiring.RUN_TARGET_PATH).stream()

    return [dbt_models]


def build_definitions() -> dg.Definitions:
    dbt_defs = _dbt_assets()
    out_keys = [
        key for d in dbt_defs for key, group in d.group_names_by_key.items() if group == "out"
    ] or assets.CASE_KEYS
    return dg.Definitions(
        assets=[
            *[assets.file_feed_asset(c) for c in FILE_FEEDS],
            assets.raw_12345,
            assets.core_current,
            assets.cases,
            *dbt_defs,
            assets.exports_asset(out_keys),
        ],
        asset_checks=[*[checks.freshness_check(c) for c in (API_FEED, *FILE_FEEDS)], checks.merge_rate_band],
        jobs=JOBS,
        schedules=SCHEDULES,
        sensors=SENSORS,
        resources={"gongzhi": GongzhiResource(), **({"dbt": dbt_wiring.dbt_resource()} if dbt_wiring.dbt_project_exists() else {})},
    )


defs = build_definitions()
