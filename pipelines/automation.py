"""Jobs, the daily schedule, the 12345 poll schedule and one sensor per landing folder."""

import hashlib
import json
from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg

from pipelines.assets import FILE_FEEDS
from pipelines.checks import raw_key
from pipelines.landing import LandedFile, file_feeds, landed_files
from pipelines.partitions import DAILY
from pipelines.resources import GongzhiResource
from pipelines.settings import (
    API_FEED,
    DAILY_SCHEDULE_HOUR,
    POLL_12345_CRON,
    TIMEZONE,
    WAREHOUSE_TAG,
)

RUN_TAGS = {WAREHOUSE_TAG[0]: WAREHOUSE_TAG[1]}


def _job(name: str, selection: dg.AssetSelection, *, partitioned: bool, extra_tags=None, description: str):
    return dg.define_asset_job(
        name,
        selection=selection,
        partitions_def=DAILY if partitioned else None,
        tags={**RUN_TAGS, **(extra_tags or {})},
        description=description,
    )


everything_job = _job(
    "everything",
    dg.AssetSelection.all(),
    partitioned=True,
    description="All assets: the file feeds for the chosen days, 12345, cases, dbt, exports (`gongzhi run`).",
)
daily_job = _job(
    "daily",
    dg.AssetSelection.assets(*[raw_key(c) for c in FILE_FEEDS]).downstream(),
    partitioned=True,
    description="One day of every file feed, then cases, dbt models and exports.",
)
feed_jobs = {
    channel: _job(
        f"load_{channel}",
        dg.AssetSelection.assets(raw_key(channel)).downstream(),
        partitioned=True,
        description=f"One day of the {channel} feed (started by its landing sensor), then everything downstream.",
    )
    for channel in FILE_FEEDS
}
poll_12345_job = _job(
    "poll_12345",
    dg.AssetSelection.assets(raw_key(API_FEED)).downstream(),
    partitioned=False,
    # A run that fails is re-executed once from the failed step (run_retries in dagster.yaml).
    extra_tags={"dagster/max_retries": "1", "dagster/retry_strategy": "FROM_FAILURE"},
    description="Poll the 12345 API from the stored cursor, then cases, dbt models and exports.",
)
JOBS = [everything_job, daily_job, *feed_jobs.values(), poll_12345_job]


def previous_day(now: datetime) -> date:
    return (now.astimezone(ZoneInfo(TIMEZONE)) - timedelta(days=1)).date()


@dg.schedule(
    job=daily_job,
    cron_schedule=f"0 {DAILY_SCHEDULE_HOUR} * * *",
    execution_timezone=TIMEZONE,
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Every morning: load yesterday's files of every feed and rebuild what depends on them.",
)
def daily_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    day = previous_day(context.scheduled_execution_time)
    return dg.RunRequest(run_key=f"daily:{day.isoformat()}", partition_key=day.isoformat())


poll_12345_schedule = dg.ScheduleDefinition(
    name="poll_12345_schedule",
    job=poll_12345_job,
    cron_schedule=POLL_12345_CRON,
    execution_timezone=TIMEZONE,
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Poll the 12345 work-order API from its cursor (each run picks up where the last one stopped).",
)


def plan_landing_runs(
    files: list[LandedFile], seen: set[str], valid_days: set[str]
) -> tuple[dict[str, list[str]], list[str], list[str]]:
    """Group files not seen before by partition day.

    Returns (day -> new file names, names whose day is no partition, names the spec's patterns cannot date).
    A 110 `_v2` file is a new name, so its day runs again and the connectors replace the day.
    """
    by_day: dict[str, list[str]] = defaultdict(list)
    out_of_range, undated = [], []
    for f in files:
        if f.relative in seen:
            continue
        if f.day is None:
            undated.append(f.relative)
        elif f.day.isoformat() not in valid_days:
            out_of_range.append(f.relative)
        else:
            by_day[f.day.isoformat()].append(f.relative)
    return dict(sorted(by_day.items())), out_of_range, undated


def landing_sensor(channel: str) -> dg.SensorDefinition:
    @dg.sensor(
        name=f"landing_{channel}_sensor",
        job=feed_jobs[channel],
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description=f"New files in landing/{channel}/ start a run of their day (a 110 _v2 re-delivery re-runs it).",
    )
    def _sensor(context: dg.SensorEvaluationContext, gongzhi: GongzhiResource):
        seen = set(json.loads(context.cursor)) if context.cursor else set()
        files = landed_files(gongzhi.settings().landing, file_feeds()[channel])
        valid_days = set(DAILY.get_partition_keys(dynamic_partitions_store=None))
        by_day, out_of_range, undated = plan_landing_runs(files, seen, valid_days)
        for name in out_of_range:
            context.log.warning(f"{name}: its day is outside the partitions (from {DAILY.start:%Y-%m-%d}); not run")
        for name in undated:
            context.log.warning(f"{name}: file name matches no {channel} pattern of the feed spec; not run")
        for day, names in by_day.items():
            digest = hashlib.sha1("\n".join(sorted(names)).encode()).hexdigest()[:12]
            yield dg.RunRequest(
                run_key=f"{channel}:{day}:{digest}",
                partition_key=day,
                tags={"gongzhi/files": ", ".join(sorted(names))[:1000]},
            )
        seen.update(f.relative for f in files)
        context.update_cursor(json.dumps(sorted(seen)))
        if not by_day:
            yield dg.SkipReason(f"no new files in landing/{channel}/")

    return _sensor


SCHEDULES = [daily_schedule, poll_12345_schedule]
SENSORS = [landing_sensor(c) for c in FILE_FEEDS]
