"""`gongzhi simulate`: write the four simulated feeds into $GONGZHI_HOME/landing and the truth into .../truth."""
from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date
from pathlib import Path

from gongzhi import settings
from simulator.generator import SimulationConfig, simulate

DEFAULTS = SimulationConfig()


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gongzhi simulate", description=__doc__)
    p.add_argument("--start", type=date.fromisoformat, default=DEFAULTS.start, help="first day, YYYY-MM-DD")
    p.add_argument("--days", type=int, default=DEFAULTS.days, help="number of days")
    p.add_argument("--per-day", type=int, default=DEFAULTS.per_day, help="intakes per day (approximate)")
    p.add_argument("--fault-rate", type=float, default=DEFAULTS.fault_rate, help="share of broken records")
    p.add_argument("--seed", type=int, default=DEFAULTS.seed)
    p.add_argument("--repeat-share", type=float, default=DEFAULTS.repeat_share,
                   help="share of intakes repeating an incident already reported")
    p.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                   help="processes generating in parallel (the output does not depend on it)")
    p.add_argument("--compact-12345", action="store_true",
                   help="write the 12345 store as an order store: each work order once with its event plan "
                        "(about a quarter of the disk, less CPU; gongzhi serve-12345 renders the versions)")
    p.add_argument("--home", type=Path, default=None, help="default: $GONGZHI_HOME")
    return p


def simulate_main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    home = (args.home or settings.load().home).resolve()
    config = SimulationConfig(start=args.start, days=args.days, per_day=args.per_day, fault_rate=args.fault_rate,
                              seed=args.seed, repeat_share=args.repeat_share, compact_12345=args.compact_12345)
    try:
        started = time.perf_counter()
        summary = simulate(config, home / "landing", home / "truth", workers=max(1, args.workers))
    except ValueError as exc:
        print(f"gongzhi simulate: {exc}", file=sys.stderr)
        return 2
    per_channel = ", ".join(f"{c} {n}" for c, n in summary.intakes_by_channel.items())
    print(f"simulated {summary.intakes} intakes ({per_channel}) of {summary.incidents} incidents in "
          f"{time.perf_counter() - started:.1f}s; repeat share {summary.repeat_share:.1%}; "
          f"{summary.malformed} malformed records; {len(summary.files)} files in {home / 'landing'}; "
          f"truth in {home / 'truth'}")
    return 0
