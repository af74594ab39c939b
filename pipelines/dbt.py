"""The dbt project as Dagster assets: manifest prepared at build time, models grouped by layer.

`make setup` runs `dbt parse` (into dbt/target/dagster/manifest.json). If the manifest is missing or older than the
project's files (someone edited a model without `make setup`), it is parsed once here, with a message; a
project that does not parse raises a clear error instead of a Dagster stack trace about a missing file.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject

REPO = Path(__file__).resolve().parent.parent
DBT_DIR = REPO / "dbt"
# The interpreter's own dbt: `.venv/bin/gongzhi` runs without .venv/bin on PATH.
DBT_EXECUTABLE = Path(sys.executable).parent / "dbt"
_PROJECT_FILES = ("dbt_project.yml", "profiles.yml")
_PROJECT_DIRS = ("models", "seeds", "macros", "snapshots", "tests")


class ManifestError(RuntimeError):
    pass


def dbt_project_exists() -> bool:
    return (DBT_DIR / "dbt_project.yml").is_file()


# The orchestration's own target folder: a manual `dbt build` (target/) never rewrites the manifest Dagster reads.
TARGET_PATH = Path("target") / "dagster"
# Where each `dbt build` of a run writes: one fixed folder (runs that build are one at a time, in the warehouse
# pool), instead of dagster-dbt's folder per invocation that would grow by megabytes every hourly poll.
RUN_TARGET_PATH = DBT_DIR / "target" / "dagster-run"


def dbt_project() -> DbtProject:
    return DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR, target_path=TARGET_PATH)


def _newest_source_mtime() -> float:
    newest = 0.0
    for name in _PROJECT_FILES:
        p = DBT_DIR / name
        if p.exists():
            newest = max(newest, p.stat().st_mtime)
    for d in _PROJECT_DIRS:
        for p in (DBT_DIR / d).rglob("*") if (DBT_DIR / d).is_dir() else ():
            if p.is_file():
                newest = max(newest, p.stat().st_mtime)
    return newest


def manifest_is_stale(manifest: Path) -> bool:
    return not manifest.exists() or manifest.stat().st_mtime < _newest_source_mtime()


def parse_manifest(project: DbtProject) -> Path:
    """Run `dbt parse` (what `make setup` does) into a private folder, then move the manifest into place
    atomically: another process loading the definitions meanwhile never reads half a manifest."""
    env = dict(os.environ)
    env.setdefault("GONGZHI_HOME", str((REPO / "data").resolve()))
    manifest = Path(project.manifest_path)
    manifest.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="parse-", dir=manifest.parent.parent))
    try:
        result = subprocess.run(
            [str(DBT_EXECUTABLE), "parse", "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR),
             "--target-path", str(scratch), "--quiet"],
            cwd=DBT_DIR, env=env, capture_output=True, text=True,
        )
        if result.returncode != 0 or not (scratch / "manifest.json").exists():
            raise ManifestError(
                f"`dbt parse` failed for {DBT_DIR} (exit {result.returncode}); fix the dbt project and run "
                f"`make setup`.\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
            )
        os.replace(scratch / "manifest.json", manifest)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return manifest


def ensure_manifest(project: DbtProject) -> Path:
    manifest = Path(project.manifest_path)
    if manifest_is_stale(manifest):
        print(f"dbt manifest {manifest} is missing or older than the dbt project: running `dbt parse` "
              "(`make setup` does this ahead of time)", file=sys.stderr)
        parse_manifest(project)
    return manifest


def _layer_of(dbt_resource_props: Mapping[str, Any]) -> str:
    """raw / core / out: marts are the published layer, everything else in dbt builds on core."""
    fqn = dbt_resource_props.get("fqn") or []
    folders = fqn[1:-1]
    if dbt_resource_props.get("resource_type") == "model" and folders and folders[0] in ("marts", "mart"):
        return "out"
    return "core"


class LayeredDbtTranslator(DagsterDbtTranslator):
    """dbt nodes keyed dbt/<folder>/<name> and grouped by layer; sources keep their meta.dagster.asset_key."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props.get("resource_type") == "source":
            return super().get_asset_key(dbt_resource_props)
        fqn = dbt_resource_props.get("fqn") or [dbt_resource_props["name"]]
        folder = fqn[1] if len(fqn) > 2 else dbt_resource_props.get("resource_type", "model")
        return dg.AssetKey(["dbt", folder, dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return _layer_of(dbt_resource_props)


TRANSLATOR = LayeredDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=dbt_project(), dbt_executable=str(DBT_EXECUTABLE))
