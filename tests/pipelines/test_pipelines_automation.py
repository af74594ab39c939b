"""Sensors, schedules and the pure rules behind the checks, evaluated directly (no daemon)."""
import json
import os
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from pipelines.automation import daily_schedule, plan_landing_runs
from pipelines.checks import feed_lag, merge_rate_outliers
from pipelines.landing import file_feeds, landed_days, landed_files
from pipelines.resources import GongzhiResource


def _touch(path, data=b"x"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


@pytest.fixture
def home(tmp_path):
    landing = tmp_path / "landing"
    _touch(landing / "110" / "fjwjq_20240305.csv")
    _touch(landing / "110" / "fjwjq_20240306.csv")
    _touch(landing / "hotline" / "12319" / "2024-03-05.jsonl")
    _touch(landing / "hotline" / "12369" / "2024-03-05.jsonl.gz")
    _touch(landing / "petition" / "xfdj_20240307.xlsx")
    return tmp_path


@pytest.fixture(scope="module")
def repository():
    from pipelines.definitions import defs

    return defs.get_repository_def()


def _tick(channel, home, repository, cursor=None):
    sensor = repository.get_sensor_def(f"landing_{channel}_sensor")
    with dg.build_sensor_context(
        cursor=cursor, repository_def=repository, resources={"gongzhi": GongzhiResource(home=str(home))}
    ) as ctx:
        result = sensor.evaluate_tick(ctx)
    return result


def test_landed_files_are_dated_by_the_connectors_naming_rules(home):
    feeds = file_feeds()
    assert {"110", "petition", "hotline"} <= set(feeds)
    days = {f.relative: f.day for f in landed_files(home / "landing", feeds["hotline"])}
    assert days == {"hotline/12319/2024-03-05.jsonl": date(2024, 3, 5), "hotline/12369/2024-03-05.jsonl.gz": date(2024, 3, 5)}
    assert landed_days(home / "landing") == [date(2024, 3, 5), date(2024, 3, 6), date(2024, 3, 7)]


def test_sensor_requests_one_run_per_new_day_then_nothing(home, repository):
    first = _tick("110", home, repository)
    assert sorted(r.partition_key for r in first.run_requests) == ["2024-03-05", "2024-03-06"]
    assert len({r.run_key for r in first.run_requests}) == 2
    again = _tick("110", home, repository, cursor=first.cursor)
    assert again.run_requests == []
    assert again.skip_message


def test_hotline_files_of_one_day_make_one_run(home, repository):
    result = _tick("hotline", home, repository)
    assert [r.partition_key for r in result.run_requests] == ["2024-03-05"]
    assert "12319" in result.run_requests[0].tags["gongzhi/files"] and "12369" in result.run_requests[0].tags["gongzhi/files"]


def test_110_v2_redelivery_reruns_its_day(home, repository):
    first = _tick("110", home, repository)
    _touch(home / "landing" / "110" / "fjwjq_20240305_v2.csv", b"corrected")
    second = _tick("110", home, repository, cursor=first.cursor)
    assert [r.partition_key for r in second.run_requests] == ["2024-03-05"]
    assert second.run_requests[0].run_key not in {r.run_key for r in first.run_requests}
    assert "110/fjwjq_20240305_v2.csv" in json.loads(second.cursor)


def test_undated_and_out_of_range_files_are_not_run_but_reported(home):
    _touch(home / "landing" / "110" / "notes.txt")
    _touch(home / "landing" / "110" / "fjwjq_19990101.csv")
    files = landed_files(home / "landing", file_feeds()["110"])
    by_day, out_of_range, undated = plan_landing_runs(files, set(), {"2024-03-05", "2024-03-06"})
    assert by_day == {"2024-03-05": ["110/fjwjq_20240305.csv"], "2024-03-06": ["110/fjwjq_20240306.csv"]}
    assert out_of_range == ["110/fjwjq_19990101.csv"]
    assert undated == ["110/notes.txt"]


def test_daily_schedule_runs_the_previous_day_in_china_time():
    # 06:00 CST on 6 March is 22:00 UTC on 5 March: the partition is 5 March either way.
    tick = datetime(2024, 3, 6, 6, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    with dg.build_schedule_context(scheduled_execution_time=tick) as ctx:
        request = daily_schedule(ctx)
    assert request.partition_key == "2024-03-05"
    tick_utc = datetime(2024, 3, 5, 16, 30, tzinfo=ZoneInfo("UTC"))  # 00:30 CST on 6 March
    with dg.build_schedule_context(scheduled_execution_time=tick_utc) as ctx:
        assert daily_schedule(ctx).partition_key == "2024-03-05"


def test_merge_rate_outside_band_is_flagged():
    start = date(2024, 3, 1)
    rates = [(start + timedelta(days=i), 500, 0.20 + 0.01 * (i % 3)) for i in range(20)]
    rates.append((start + timedelta(days=20), 500, 0.45))  # a day where matching over-merged
    rates.append((start + timedelta(days=21), 10, 0.90))  # too few intakes to judge
    outliers = merge_rate_outliers(rates, window=28, tolerance=0.10, min_intakes=50)
    assert [o.day for o in outliers] == [start + timedelta(days=20)]
    assert outliers[0].low < 0.21 < outliers[0].high
    assert merge_rate_outliers(rates[:20]) == []


def test_feed_lag_compares_each_feed_with_the_newest():
    newest = {"12345": datetime(2024, 3, 30, 23), "110": datetime(2024, 3, 27), "petition": datetime(2024, 3, 25)}
    assert feed_lag(newest, "12345")[0]
    fresh_110, meta = feed_lag(newest, "110")
    assert not fresh_110 and meta["lag_hours"] == pytest.approx(95.0)
    assert feed_lag(newest, "petition")[0]  # weekly export: 6 days behind is normal
    assert feed_lag(newest, "hotline")[0]  # never delivered: not connected yet, not late


def test_a_killed_in_process_run_releases_its_warehouse_slot(tmp_path):
    import socket
    import subprocess
    import sys

    from dagster._core.test_utils import instance_for_test

    from pipelines.cli import release_abandoned_runs

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with instance_for_test(overrides={"concurrency": {"pools": {"default_limit": 1}}}) as instance:
        tags = {"gongzhi/host": socket.gethostname()}
        killed = instance.create_run_for_job(dg.GraphDefinition("g").to_job(), tags={**tags, "gongzhi/pid": str(dead.pid)})
        alive = instance.create_run_for_job(dg.GraphDefinition("h").to_job(), tags={**tags, "gongzhi/pid": str(os.getpid())})
        for run in (killed, alive):
            instance.handle_run_event(run.run_id, dg.DagsterEvent(
                event_type_value="PIPELINE_START", job_name=run.job_name, message="start"))
        instance.event_log_storage.initialize_concurrency_limit_to_default("warehouse")
        instance.event_log_storage.claim_concurrency_slot("warehouse", killed.run_id, "step")
        assert instance.event_log_storage.get_concurrency_info("warehouse").active_slot_count == 1

        assert release_abandoned_runs(instance) == [killed.run_id]
        assert instance.get_run_by_id(killed.run_id).status == dg.DagsterRunStatus.FAILURE
        assert instance.get_run_by_id(alive.run_id).status == dg.DagsterRunStatus.STARTED
        assert instance.event_log_storage.get_concurrency_info("warehouse").active_slot_count == 0
