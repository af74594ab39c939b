"""Orchestration-only constants: one place for each of them (paths and secrets come from gongzhi.settings)."""
from __future__ import annotations

from datetime import timedelta

from gongzhi import settings as gongzhi_settings

# First day of the daily partitions of the file feeds (GONGZHI_FIRST_DAY, set before starting Dagster).
FIRST_DAY = gongzhi_settings.load().first_day
# Partition days are calendar days in China Standard Time, like every time in the feeds.
TIMEZONE = "Asia/Shanghai"

# The feed polled over HTTP; the file feeds are the connectors' (pipelines/landing.py file_feeds()).
API_FEED = "12345"

# Run tag that the run queue (dagster.yaml) limits to one run at a time, and the op pool of every warehouse writer.
WAREHOUSE_TAG = ("gongzhi/warehouse", "write")
WAREHOUSE_POOL = "warehouse"

# How far a feed's newest record may trail the newest record of all feeds before its freshness check warns.
# Petitions are exported weekly; the other feeds deliver at least daily.
FEED_MAX_LAG = {
    "12345": timedelta(days=1),
    "110": timedelta(days=2),
    "hotline": timedelta(days=2),
    "petition": timedelta(days=8),
}
FEED_MAX_LAG_DEFAULT = timedelta(days=2)  # declarative feeds

# A day's merge rate (share of intakes merged into an existing case) is judged against the median of the
# previous MERGE_RATE_WINDOW days, +- MERGE_RATE_TOLERANCE; days with fewer intakes are not judged.
MERGE_RATE_WINDOW = 28
MERGE_RATE_TOLERANCE = 0.10
MERGE_RATE_MIN_INTAKES = 50

# The daily schedule runs the file feeds for the previous day at this time (CST); 12345 is polled at this cron.
DAILY_SCHEDULE_HOUR = 6
POLL_12345_CRON = "0 * * * *"
