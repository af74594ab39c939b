"""The Dagster instance lives in $GONGZHI_HOME/dagster, configured by the repository's dagster.yaml."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from gongzhi.settings import Settings

REPO_DAGSTER_YAML = Path(__file__).resolve().parent.parent / "dagster.yaml"


def prepare_dagster_home(settings: Settings) -> Path:
    """Create DAGSTER_HOME = $GONGZHI_HOME/dagster, link the repo's dagster.yaml into it, export DAGSTER_HOME.

    A symlink keeps one copy of the instance configuration (editing dagster.yaml takes effect on the next
    start); where links are not possible the file is copied.
    """
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    target = home / "dagster.yaml"
    if target.is_symlink() and target.resolve() == REPO_DAGSTER_YAML:
        pass
    else:
        if target.exists() or target.is_symlink():
            target.unlink()
        try:
            target.symlink_to(REPO_DAGSTER_YAML)
        except OSError:
            shutil.copyfile(REPO_DAGSTER_YAML, target)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def ui_command(settings: Settings) -> str:
    return (
        f"make ui   (or: DAGSTER_HOME={settings.dagster_home} GONGZHI_HOME={settings.home} "
        f".venv/bin/dagster dev -m pipelines.definitions)"
    )
