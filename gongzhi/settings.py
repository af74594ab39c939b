"""Runtime configuration: every setting comes from an environment variable with a default.

This is the one place paths and secrets are resolved; every package reads them from here.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

# Published development key: fine for simulated data, never for real residents' numbers.
DEV_PII_KEY = "gongzhi-dev-key-NOT-FOR-PRODUCTION"
DEV_12345_TOKEN = "dev-token"
DEFAULT_12345_URL = "http://127.0.0.1:8345"


@dataclass(frozen=True)
class Settings:
    home: Path
    api_12345_url: str
    api_12345_token: str
    pii_key: str
    first_day: str  # first day (YYYY-MM-DD) of the file feeds' daily partitions in Dagster

    @property
    def landing(self) -> Path:
        return self.home / "landing"

    @property
    def truth(self) -> Path:
        return self.home / "truth"

    @property
    def warehouse(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def exports(self) -> Path:
        return self.home / "exports"

    @property
    def state(self) -> Path:
        """Connector cursors and other small durable state that is not warehouse data."""
        return self.home / "state"

    @property
    def cursor_12345(self) -> Path:
        """The 12345 feed's `updated_after` cursor, advanced only after a page's data is committed."""
        return self.state / "12345_cursor.json"

    @property
    def review(self) -> Path:
        """Reviewers' must-link / cannot-link decisions for case matching."""
        return self.home / "review"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    @property
    def uses_dev_pii_key(self) -> bool:
        return self.pii_key == DEV_PII_KEY


def load() -> Settings:
    return Settings(
        home=Path(os.environ.get("GONGZHI_HOME", "./data")).resolve(),
        api_12345_url=os.environ.get("GONGZHI_12345_URL", DEFAULT_12345_URL).rstrip("/"),
        api_12345_token=os.environ.get("GONGZHI_12345_TOKEN", DEV_12345_TOKEN),
        pii_key=os.environ.get("GONGZHI_PII_KEY", DEV_PII_KEY),
        # The simulator's default month starts 2024-03-01; a deployment with older history sets it earlier.
        first_day=os.environ.get("GONGZHI_FIRST_DAY", "2024-01-01"),
    )


def warn_if_dev_key(settings: Settings) -> None:
    if settings.uses_dev_pii_key:
        print(
            "WARNING: GONGZHI_PII_KEY is not set; caller numbers are hashed with the PUBLISHED "
            "development key. Fine for simulated data, never for real residents.",
            file=sys.stderr,
        )
