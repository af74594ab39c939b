"""Assets, layer by layer: raw (one per feed) -> core (current intakes, cases) -> dbt -> out (exports).

The connectors write a delivery's raw rows and its effect on core.intake / intake_event / quarantine /
load_log in one transaction, so the per-feed assets are the writers and `core_current` is the step that
publishes (and describes) the current layer once every feed of a run has loaded. Every step that opens the
warehouse is in the WAREHOUSE_POOL op pool: one writer per DuckDB file, whatever launched the run.
"""

import dataclasses
import time
from datetime import date
from pathlib import Path
from typing import Any

import dagster as dg

from pipelines import queries
from pipelines.checks import raw_key
from pipelines.landing import file_feeds
from pipelines.partitions import DAILY
from pipelines.resources import GongzhiResource
from pipelines.settings import API_FEED, WAREHOUSE_POOL

# What kept a part of the graph from loading: `gongzhi run` refuses to report success while this is not empty.
DEFINITION_PROBLEMS: list[str] = []


def _file_channels() -> tuple[str, ...]:
    try:
        return tuple(file_feeds())
    except Exception as exc:  # a broken mapping file must not take the whole code location down
        DEFINITION_PROBLEMS.append(f"declarative feeds left out of the graph: {exc}")
        return ("110", "petition", "hotline")


FILE_FEEDS = _file_channels()

CORE_CURRENT_KEYS = [dg.AssetKey(["core", t]) for t in ("intake", "intake_event", "quarantine", "load_log")]
CASE_KEYS = [dg.AssetKey(["core", t]) for t in ("case_link", "case", "case_merge", "match_review")]
EXPORTS_KEY = dg.AssetKey(["out", "exports"])
ROWS_BALANCE = "rows_balance"
DELIVERIES_ACCEPTED = "deliveries_accepted"
# The 12345 fetch already retries pages (connectors.api12345); this retries the whole step on top of that.
FETCH_RETRY = dg.RetryPolicy(max_retries=3, delay=10, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)


def report_metadata(report: Any) -> dict[str, Any]:
    """The scalar fields of a report dataclass (counts, seconds) as UI metadata."""
    if report is None:
        return {}
    if dataclasses.is_dataclass(report):
        items = {f.name: getattr(report, f.name) for f in dataclasses.fields(report)}
    else:
        items = dict(vars(report))
    out: dict[str, Any] = {}
    for name, value in items.items():
        if isinstance(value, bool) or isinstance(value, (int, float, str)):
            out[name] = value
        elif isinstance(value, (list, tuple)) and all(isinstance(v, (int, float, str)) for v in value):
            out[name] = dg.MetadataValue.json(list(value)[:200])
    return out


def sum_reports(reports: list[Any]) -> dict[str, Any]:
    """Numeric fields added up across several reports (one per partition day)."""
    total: dict[str, Any] = {}
    for report in reports:
        for name, value in report_metadata(report).items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                total[name] = total.get(name, 0) + value
    return total


def rows_balance_result(warehouse: Path, channel: str) -> dg.AssetCheckResult:
    """Blocking: every delivery of the channel balances (see queries.delivery_imbalances)."""
    with queries.read_only(warehouse) as con:
        checked, bad = queries.delivery_imbalances(con, channel)
    return dg.AssetCheckResult(
        check_name=ROWS_BALANCE,
        asset_key=raw_key(channel),
        passed=not bad,
        metadata={
            "deliveries_checked": checked,
            "deliveries_unbalanced": len(bad),
            "unbalanced": dg.MetadataValue.json([dataclasses.asdict(b) for b in bad[:50]]),
        },
    )


def _load_check_specs(channel: str) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            ROWS_BALANCE,
            asset=raw_key(channel),
            blocking=True,
            description="Per delivery: rows in = loaded + quarantined, and the raw layer holds the loaded rows.",
        ),
        dg.AssetCheckSpec(
            DELIVERIES_ACCEPTED,
            asset=raw_key(channel),
            description="No delivery of this run was rejected as a whole (e.g. a 110 file with a wrong trailer); "
            "rejected deliveries are in core.quarantine with position -1 (warns).",
        ),
    ]


def load_check_results(warehouse: Path, channel: str, failures: list[str]) -> list[dg.AssetCheckResult]:
    return [
        rows_balance_result(warehouse, channel),
        dg.AssetCheckResult(
            check_name=DELIVERIES_ACCEPTED,
            asset_key=raw_key(channel),
            passed=not failures,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"rejected": len(failures), "reasons": dg.MetadataValue.json(failures[:50])},
        ),
    ]


def _nothing_loaded(channel: str) -> list[dg.AssetCheckResult]:
    return [
        dg.AssetCheckResult(check_name=name, asset_key=raw_key(channel), passed=True,
                            metadata={"deliveries_checked": 0})
        for name in (ROWS_BALANCE, DELIVERIES_ACCEPTED)
    ]


def file_feed_asset(channel: str) -> dg.AssetsDefinition:
    @dg.asset(
        key=raw_key(channel),
        group_name="raw",
        partitions_def=DAILY,
        # A month's backfill is one run that loads its days in order, not thirty runs queueing for the warehouse.
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=WAREHOUSE_POOL,
        kinds={"python", "duckdb"},
        check_specs=_load_check_specs(channel),
        description=f"Every delivered version of the {channel} feed's intakes (raw.{channel}__intake), loaded "
        f"per delivery day from landing/{channel}/; also updates the current layer and the quarantine.",
    )
    def _load(context: dg.AssetExecutionContext, gongzhi: GongzhiResource) -> dg.MaterializeResult:
        from connectors.load import load_file_feed

        settings = gongzhi.settings()
        pii = gongzhi.pii()
        started = time.monotonic()
        reports, failures = [], []
        for key in context.partition_keys:
            day = date.fromisoformat(key)
            report = load_file_feed(settings.warehouse, settings.landing, channel, day=day, pii=pii)
            if report.deliveries_found:
                context.log.info(f"{day}: {report.summary()}")
            for failure in report.failures:
                context.log.warning(f"{day}: delivery rejected: {failure}")
            failures += report.failures
            reports.append(report)
        metadata = sum_reports(reports)
        metadata["days"] = len(reports)
        metadata["seconds"] = round(time.monotonic() - started, 3)
        if not settings.warehouse.exists():  # nothing delivered for these days, nothing ever loaded
            return dg.MaterializeResult(metadata=metadata, check_results=_nothing_loaded(channel))
        return dg.MaterializeResult(
            metadata=metadata, check_results=load_check_results(settings.warehouse, channel, failures)
        )

    return _load


@dg.asset(
    key=raw_key(API_FEED),
    group_name="raw",
    pool=WAREHOUSE_POOL,
    retry_policy=FETCH_RETRY,
    kinds={"python", "duckdb"},
    check_specs=_load_check_specs(API_FEED),
    description="Every delivered version of the 12345 work orders (raw.12345__intake), polled from the 12345 "
    "API at GONGZHI_12345_URL from the stored cursor; also updates the current layer and the quarantine.",
)
def raw_12345(context: dg.AssetExecutionContext, gongzhi: GongzhiResource) -> dg.MaterializeResult:
    from connectors.api12345 import CursorStore
    from connectors.load import load_12345

    settings = gongzhi.settings()
    started = time.monotonic()
    cursor_store = CursorStore(settings.cursor_12345)
    context.log.info(f"polling {settings.api_12345_url} from cursor {cursor_store.get(API_FEED)!r}")
    report = load_12345(
        settings.warehouse, settings.api_12345_url, settings.api_12345_token, cursor_store, pii=gongzhi.pii()
    )
    context.log.info(report.summary())
    metadata = report_metadata(report)
    metadata["cursor"] = str(cursor_store.get(API_FEED))
    metadata["seconds"] = round(time.monotonic() - started, 3)
    return dg.MaterializeResult(
        metadata=metadata, check_results=load_check_results(settings.warehouse, API_FEED, report.failures)
    )


ALL_RAW_KEYS = [raw_key(c) for c in (API_FEED, *FILE_FEEDS)]


@dg.multi_asset(
    specs=[dg.AssetSpec(key, deps=ALL_RAW_KEYS, group_name="core", kinds={"duckdb"}) for key in CORE_CURRENT_KEYS],
    name="core_current",
    pool=WAREHOUSE_POOL,
    description="The current layer after every feed of the run has loaded: the latest version of each intake, "
    "its events, the quarantine and the load log (written by the loads; published and described here).",
)
def core_current(context: dg.AssetExecutionContext, gongzhi: GongzhiResource):
    settings = gongzhi.settings()
    with queries.read_only(settings.warehouse) as con:
        for key in CORE_CURRENT_KEYS:
            table = key.path[-1]
            metadata: dict[str, Any] = {"dagster/row_count": queries.row_count(con, "core", table) or 0}
            if table in ("intake", "quarantine", "load_log") and queries.table_exists(con, "core", table):
                per_channel = con.execute(f"select channel, count(*) from core.{table} group by 1 order by 1").fetchall()
                metadata["per_channel"] = dg.MetadataValue.json(dict(per_channel))
            if table == "load_log" and queries.table_exists(con, "core", table):
                rows_in, loaded, quarantined = con.execute(
                    "select coalesce(sum(rows_in),0), coalesce(sum(rows_loaded),0), coalesce(sum(rows_quarantined),0) "
                    "from core.load_log"
                ).fetchone()
                metadata.update(rows_in=int(rows_in), rows_loaded=int(loaded), rows_quarantined=int(quarantined))
            yield dg.MaterializeResult(asset_key=key, metadata=metadata)


@dg.multi_asset(
    specs=[
        dg.AssetSpec(key, deps=[CORE_CURRENT_KEYS[0], CORE_CURRENT_KEYS[1]], group_name="core", kinds={"python", "duckdb"})
        for key in CASE_KEYS
    ],
    name="cases",
    pool=WAREHOUSE_POOL,
    description="Case matching (并单): new intakes joined to existing cases or opening new ones; links, cases, "
    "merges of cases and the review list (dedupe.run.match). Reviewers' decisions are read from review/.",
)
def cases(context: dg.AssetExecutionContext, gongzhi: GongzhiResource):
    from dedupe.run import match

    settings = gongzhi.settings()
    started = time.monotonic()
    report = match(settings.warehouse, settings.review)
    seconds = round(time.monotonic() - started, 3)
    summary = report_metadata(report)
    context.log.info(f"matching: {summary}")
    with queries.read_only(settings.warehouse) as con:
        for key in CASE_KEYS:
            metadata = {"dagster/row_count": queries.row_count(con, "core", key.path[-1]) or 0}
            if key.path[-1] == "case_link":
                metadata.update(summary)
                metadata["seconds"] = seconds
            yield dg.MaterializeResult(asset_key=key, metadata=metadata)


def exports_asset(upstream: list[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(
        key=EXPORTS_KEY,
        deps=upstream,
        group_name="out",
        pool=WAREHOUSE_POOL,
        kinds={"parquet"},
        description="Every mart as parquet under $GONGZHI_HOME/exports (partitioned by month, written atomically, "
        "with a _manifest.json), plus the Open311 export of cases (warehouse.export.export_marts).",
    )
    def _export(context: dg.AssetExecutionContext, gongzhi: GongzhiResource) -> dg.MaterializeResult:
        from warehouse.export import export_marts

        settings = gongzhi.settings()
        started = time.monotonic()
        manifest = export_marts(settings.warehouse, settings.exports, run_id=context.run_id)
        metadata = report_metadata(manifest)
        metadata["tables"] = dg.MetadataValue.json(
            [{k: v for k, v in dataclasses.asdict(t).items() if not isinstance(v, (list, dict))}
             for t in manifest.tables]
        )
        metadata["path"] = dg.MetadataValue.path(str(settings.exports))
        metadata["seconds"] = round(time.monotonic() - started, 3)
        return dg.MaterializeResult(metadata=metadata)

    return _export
