"""Resources: the project's settings, and dbt. Secrets (12345 token, PII key) stay in the environment."""

import dataclasses
from pathlib import Path

import dagster as dg

from gongzhi import settings as gongzhi_settings


class GongzhiResource(dg.ConfigurableResource):
    """Paths and endpoints from gongzhi.settings, resolved when a step runs (not when definitions load).

    `home` overrides GONGZHI_HOME (tests use it); everything else follows from the environment.
    """

    home: str | None = None

    def settings(self) -> gongzhi_settings.Settings:
        loaded = gongzhi_settings.load()
        if self.home:
            loaded = dataclasses.replace(loaded, home=Path(self.home).resolve())
        return loaded

    def pii(self):
        from connectors.pii import PiiHasher

        return PiiHasher(self.settings().pii_key)
