"""Daily partitions of the file feeds: one partition per calendar day (CST) of delivered files."""
from __future__ import annotations

import dagster as dg

from pipelines.settings import FIRST_DAY, TIMEZONE

# end_offset=1: today's partition exists already, so a file landing today can be loaded today.
DAILY = dg.DailyPartitionsDefinition(start_date=FIRST_DAY, timezone=TIMEZONE, end_offset=1)
