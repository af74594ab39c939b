"""Asset checks that are not part of an asset's own materialisation: feed freshness and the merge-rate band.

The per-delivery balance check (rows in = loaded + quarantined) is computed inside each load asset and is
blocking (pipelines/assets.py); dbt tests become checks through dagster-dbt.
"""

from dataclasses import dataclass
from datetime import date, datetime
from statistics import median

import dagster as dg

from pipelines import queries
from pipelines.resources import GongzhiResource
from pipelines.settings import (
    FEED_MAX_LAG,
    FEED_MAX_LAG_DEFAULT,
    MERGE_RATE_MIN_INTAKES,
    MERGE_RATE_TOLERANCE,
    MERGE_RATE_WINDOW,
)

# Fewer judged days than this before a day: no usual band to compare with yet.
_MIN_HISTORY_DAYS = 7


def raw_key(channel: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", f"{channel}__intake"])


@dataclass(frozen=True)
class MergeRateOutlier:
    day: date
    intakes: int
    merge_rate: float
    low: float
    high: float


def merge_rate_outliers(
    daily_rates: list[tuple[date, int, float]],
    *,
    window: int = MERGE_RATE_WINDOW,
    tolerance: float = MERGE_RATE_TOLERANCE,
    min_intakes: int = MERGE_RATE_MIN_INTAKES,
) -> list[MergeRateOutlier]:
    """Days whose merge rate leaves the band median(previous `window` judged days) +- tolerance."""
    judged = [(d, n, r) for d, n, r in sorted(daily_rates) if n >= min_intakes]
    outliers = []
    for i, (day, n, rate) in enumerate(judged):
        history = [r for _, _, r in judged[max(0, i - window) : i]]
        if len(history) < _MIN_HISTORY_DAYS:
            continue
        centre = median(history)
        low, high = max(0.0, centre - tolerance), min(1.0, centre + tolerance)
        if not low <= rate <= high:
            outliers.append(MergeRateOutlier(day, n, rate, low, high))
    return outliers


def feed_lag(newest: dict[str, datetime], channel: str) -> tuple[bool, dict]:
    """(fresh?, metadata): a feed is stale when its newest record trails the newest of all feeds too far."""
    if channel not in newest:
        # A feed that never delivered is not connected yet rather than late (the sensors log its folder).
        return True, {"reason": f"no {channel} records in core.intake yet"}
    overall = max(newest.values())
    lag = overall - newest[channel]
    allowed = FEED_MAX_LAG.get(channel, FEED_MAX_LAG_DEFAULT)
    return lag <= allowed, {
        "newest_record": newest[channel].isoformat(sep=" "),
        "newest_of_all_feeds": overall.isoformat(sep=" "),
        "lag_hours": round(lag.total_seconds() / 3600, 1),
        "allowed_lag_hours": allowed.total_seconds() / 3600,
    }


def freshness_check(channel: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=raw_key(channel),
        name="freshness",
        description=f"The newest {channel} record trails the newest record of all feeds by at most "
        f"{FEED_MAX_LAG.get(channel, FEED_MAX_LAG_DEFAULT)} (warns).",
        blocking=False,
    )
    def _check(gongzhi: GongzhiResource) -> dg.AssetCheckResult:
        with queries.read_only(gongzhi.settings().warehouse) as con:
            fresh, metadata = feed_lag(queries.newest_record_per_channel(con), channel)
        return dg.AssetCheckResult(passed=fresh, severity=dg.AssetCheckSeverity.WARN, metadata=metadata)

    return _check


@dg.asset_check(
    asset=dg.AssetKey(["core", "case_link"]),
    name="merge_rate_band",
    description=f"Each day's share of intakes merged into an existing case stays within +-{MERGE_RATE_TOLERANCE:.0%} "
    f"of the median of the previous {MERGE_RATE_WINDOW} days (warns).",
    blocking=False,
)
def merge_rate_band(gongzhi: GongzhiResource) -> dg.AssetCheckResult:
    with queries.read_only(gongzhi.settings().warehouse) as con:
        rates = queries.daily_merge_rates(con)
    outliers = merge_rate_outliers(rates)
    return dg.AssetCheckResult(
        passed=not outliers,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "days": len(rates),
            "mean_merge_rate": round(sum(r for _, _, r in rates) / len(rates), 4) if rates else 0.0,
            "days_outside_band": len(outliers),
            "outliers": dg.MetadataValue.json(
                [{"day": o.day.isoformat(), "intakes": o.intakes, "merge_rate": round(o.merge_rate, 4),
                  "band": [round(o.low, 4), round(o.high, 4)]} for o in outliers[:50]]
            ),
        },
    )
