"""`gongzhi run` and `gongzhi demo`: the whole graph, in-process, with visible progress.

`gongzhi run` materialises every asset for the landing data under $GONGZHI_HOME/landing (all delivered days in
one run, the file feeds' partitions as one range) and the 12345 server at GONGZHI_12345_URL. The run is recorded
in the Dagster instance under $GONGZHI_HOME/dagster, so `make ui` shows it afterwards.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from gongzhi import settings as gongzhi_settings

_DEMO_OUTPUTS = ("landing", "truth", "warehouse.duckdb", "warehouse.duckdb.wal", "state", "exports", "review")


@dataclass
class RunOutcome:
    success: bool
    run_id: str | None = None
    days: tuple[str, str] | None = None
    materialized: dict[str, dict] = field(default_factory=dict)  # asset key -> metadata (scalars only)
    failed_steps: list[str] = field(default_factory=list)
    failed_checks: list[str] = field(default_factory=list)  # blocking (ERROR) checks that failed
    warned_checks: list[str] = field(default_factory=list)  # WARN checks that failed
    problems: list[str] = field(default_factory=list)  # parts of the graph that could not load
    seconds: float = 0.0


def _absolute_home(settings: gongzhi_settings.Settings) -> None:
    # Subprocesses (dbt) and later imports see the same absolute home as this process.
    os.environ["GONGZHI_HOME"] = str(settings.home)


# Runs started by `gongzhi run` carry the process that executes them, so a later run can tell a live one from one
# whose process was killed (and still holds the warehouse pool slot).
_PID_TAG = "gongzhi/pid"
_HOST_TAG = "gongzhi/host"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def release_abandoned_runs(instance) -> list[str]:
    """Mark in-process runs of this host whose process is gone as failed and free their pool slots.

    Without this a `gongzhi run` killed with SIGKILL would hold the `warehouse` slot forever and every later run
    would wait for it. Runs launched by the Dagster daemon are left to Dagster's own run monitoring.
    """
    import socket

    import dagster as dg

    released = []
    in_progress = [dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING]
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=in_progress, tags={_HOST_TAG: socket.gethostname()})):
        pid = int(run.tags.get(_PID_TAG, "0") or 0)
        if pid and not _process_alive(pid):
            instance.report_run_failed(run)
            instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
            released.append(run.run_id)
    return released


def run_everything(settings: gongzhi_settings.Settings, *, instance=None, log_level: str = "INFO") -> RunOutcome:
    """Materialise every asset (all landed days of the file feeds, 12345, cases, dbt, exports) in-process."""
    import dagster as dg

    from pipelines.instance import prepare_dagster_home
    from pipelines.landing import landed_days
    from pipelines.partitions import DAILY

    _absolute_home(settings)
    if instance is None:
        prepare_dagster_home(settings)
        instance = dg.DagsterInstance.get()
    for run_id in release_abandoned_runs(instance):
        print(f"gongzhi run: run {run_id} lost its process; marked failed, its warehouse slot freed", file=sys.stderr)
    from pipelines import definitions  # after GONGZHI_HOME / DAGSTER_HOME are set

    defs = definitions.defs
    started = time.monotonic()
    outcome = RunOutcome(success=False, problems=list(definitions.DEFINITION_PROBLEMS))
    days = landed_days(settings.landing)
    valid = set(DAILY.get_partition_keys())
    outside = [d.isoformat() for d in days if d.isoformat() not in valid]
    if outside:
        outcome.problems.append(
            f"{len(outside)} landed day(s) outside the daily partitions ({outside[0]} ...): set GONGZHI_FIRST_DAY "
            f"to a day on or before the first delivery (now {DAILY.start:%Y-%m-%d})"
        )
        days = [d for d in days if d.isoformat() in valid]
    if days:
        job = defs.resolve_job_def("everything")
        outcome.days = (days[0].isoformat(), days[-1].isoformat())
        tags = {"dagster/asset_partition_range_start": outcome.days[0],
                "dagster/asset_partition_range_end": outcome.days[1]}
        print(f"gongzhi run: file feeds {outcome.days[0]} .. {outcome.days[1]}, 12345 at {settings.api_12345_url}",
              file=sys.stderr)
    else:
        job = defs.resolve_job_def("poll_12345")
        tags = {}
        print(f"gongzhi run: no file deliveries under {settings.landing}; 12345 at {settings.api_12345_url} only",
              file=sys.stderr)
    import socket

    result = job.execute_in_process(
        instance=instance,
        tags={**tags, _PID_TAG: str(os.getpid()), _HOST_TAG: socket.gethostname()},
        raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
    )
    outcome.run_id = result.run_id
    for event in result.all_events:
        if event.is_step_failure:
            outcome.failed_steps.append(event.step_key or "?")
        elif event.event_type_value == "ASSET_MATERIALIZATION":
            mat = event.event_specific_data.materialization
            key = mat.asset_key.to_user_string()
            if key not in outcome.materialized:
                outcome.materialized[key] = {
                    k: v.value for k, v in mat.metadata.items() if isinstance(v.value, (int, float, str))
                }
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            ev = event.event_specific_data
            if not ev.passed:
                name = f"{ev.asset_key.to_user_string()}:{ev.check_name}"
                if ev.severity == dg.AssetCheckSeverity.ERROR:
                    outcome.failed_checks.append(name)
                else:
                    outcome.warned_checks.append(name)
    outcome.seconds = round(time.monotonic() - started, 1)
    outcome.success = (
        result.success and not outcome.failed_steps and not outcome.failed_checks and not outcome.problems
    )
    return outcome


def print_outcome(outcome: RunOutcome) -> None:
    print(f"\nrun {outcome.run_id}: {'SUCCESS' if outcome.success else 'FAILED'} in {outcome.seconds} s")
    dbt_keys = [k for k in outcome.materialized if k.startswith("dbt/")]
    for key, meta in sorted(outcome.materialized.items()):
        if key in dbt_keys:
            continue
        shown = {k: v for k, v in meta.items() if k in _SHOWN_METADATA}
        print(f"  materialised {key:<28} {shown if shown else ''}")
    if dbt_keys:
        print(f"  materialised {len(dbt_keys)} dbt models and seeds "
              f"({sum(k.startswith('dbt/marts/') for k in dbt_keys)} marts)")
    for name in outcome.failed_steps:
        print(f"  FAILED step   {name}")
    for name in outcome.failed_checks:
        print(f"  FAILED check  {name} (blocking)")
    for name in outcome.warned_checks:
        print(f"  warning check {name}")
    for problem in outcome.problems:
        print(f"  PROBLEM       {problem}")


_SHOWN_METADATA = {
    "rows_in", "rows_loaded", "rows_quarantined", "days", "seconds", "dagster/row_count", "intakes_matched",
    "new_cases", "merged_into_existing", "repeats", "review_pairs", "table_count", "total_rows",
}


def run_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="gongzhi run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quiet", action="store_true", help="only warnings from Dagster, then the summary")
    args = parser.parse_args(argv)
    settings = gongzhi_settings.load()
    gongzhi_settings.warn_if_dev_key(settings)
    outcome = run_everything(settings, log_level="WARNING" if args.quiet else "INFO")
    print_outcome(outcome)
    return 0 if outcome.success else 1


def demo_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="gongzhi demo",
        description="Simulate a month of feeds, serve 12345 on a free port, run everything, summarise.",
    )
    parser.add_argument("--days", type=int, help="days to simulate (simulator default: 30)")
    parser.add_argument("--per-day", type=int, help="intakes per day (simulator default)")
    parser.add_argument("--seed", type=int, help="simulation seed (simulator default)")
    parser.add_argument("--start", help="first simulated day YYYY-MM-DD (simulator default)")
    parser.add_argument("--fresh", action="store_true",
                        help="delete the previous demo's landing, truth, warehouse, state and exports first")
    parser.add_argument("--quiet", action="store_true", help="only warnings from Dagster, then the summary")
    args = parser.parse_args(argv)

    settings = gongzhi_settings.load()
    _absolute_home(settings)
    gongzhi_settings.warn_if_dev_key(settings)
    if args.fresh:
        for name in _DEMO_OUTPUTS:
            path = settings.home / name
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()

    from datetime import date

    from simulator import SimulationConfig, simulate

    options = {"days": args.days, "per_day": args.per_day, "seed": args.seed,
               "start": date.fromisoformat(args.start) if args.start else None}
    config = SimulationConfig(**{k: v for k, v in options.items() if v is not None})
    started = time.monotonic()
    print(f"gongzhi demo: simulating {config} into {settings.landing}", file=sys.stderr)
    summary = simulate(config, settings.landing, settings.truth)
    print(f"gongzhi demo: simulated in {time.monotonic() - started:.1f} s: {_short(summary)}", file=sys.stderr)

    from simulator.server12345 import start_server

    server = start_server(settings.landing / "12345", port=0, token=settings.api_12345_token)
    try:
        os.environ["GONGZHI_12345_URL"] = server.url
        settings = gongzhi_settings.load()
        print(f"gongzhi demo: 12345 server at {server.url}", file=sys.stderr)
        outcome = run_everything(settings, log_level="WARNING" if args.quiet else "INFO")
    finally:
        server.stop()
    print_outcome(outcome)
    print_demo_summary(settings)
    return 0 if outcome.success else 1


def _short(summary) -> str:
    channels = ", ".join(f"{ch}={n}" for ch, n in sorted(summary.intakes_by_channel.items()))
    return (f"{summary.intakes} intakes ({channels}), {summary.incidents} incidents, repeat share "
            f"{summary.repeat_share:.1%}, {summary.malformed} malformed records, {len(summary.files)} files")


def print_demo_summary(settings: gongzhi_settings.Settings) -> None:
    from pipelines.instance import ui_command
    from pipelines.queries import layer_counts

    print("\nwarehouse", settings.warehouse)
    try:
        counts = layer_counts(settings.warehouse)
    except Exception as exc:  # the summary must not hide the run's own result
        print(f"  (could not read it: {exc})")
        counts = {}
    for schema, tables in counts.items():
        total = sum(tables.values())
        listed = ", ".join(f"{t}={n}" for t, n in tables.items())
        print(f"  {schema:<12} {total:>9} rows  ({listed})")
    print("exports  ", settings.exports, "" if settings.exports.exists() else "(not written)")
    print("Dagster  ", ui_command(settings))
    print("query    ", f".venv/bin/python -c \"import duckdb; print(duckdb.connect('{settings.warehouse}', "
          "read_only=True).sql('select * from marts.mart_unit_monthly limit 5'))\"")
