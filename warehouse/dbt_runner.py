"""Run the dbt project (``dbt/``) against a GONGZHI_HOME from plain Python: for tests, benchmarks and scripts.

The Dagster pipeline runs the same project through dagster-dbt; this is the small, dependency-free way in.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt"


@dataclass
class DbtResult:
    returncode: int
    output: str
    statuses: dict[str, int]  # status (success, pass, fail, error, warn, skipped) -> nodes

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def run_dbt(command: str, home: Path, *, target_path: Path | None = None, args: tuple[str, ...] = ()) -> DbtResult:
    """``dbt <command>`` with GONGZHI_HOME=home. ``target_path`` keeps parallel runs apart (default: home/dbt-target)."""
    home = Path(home).resolve()
    target_path = Path(target_path or home / "dbt-target").resolve()
    dbt = Path(sys.executable).with_name("dbt")
    env = {**os.environ, "GONGZHI_HOME": str(home), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    cmd = [str(dbt), command, "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
           "--target-path", str(target_path), "--log-path", str(target_path / "logs"), *args]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    statuses: dict[str, int] = {}
    results = target_path / "run_results.json"
    if results.exists():
        for result in json.loads(results.read_text(encoding="utf-8")).get("results", []):
            statuses[result["status"]] = statuses.get(result["status"], 0) + 1
    return DbtResult(proc.returncode, proc.stdout + proc.stderr, statuses)
