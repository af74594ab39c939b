"""`gongzhi match` and `gongzhi evaluate-matching`."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from gongzhi import settings as settings_mod


def match_main(argv: list[str]) -> int:
    from dedupe.run import match

    settings = settings_mod.load()
    parser = argparse.ArgumentParser(prog="gongzhi match", description="merge intakes into cases")
    parser.add_argument("--warehouse", type=Path, default=settings.warehouse)
    parser.add_argument("--review-dir", type=Path, default=settings.review)
    parser.add_argument("--json", type=Path, help="also write the run report as JSON here")
    args = parser.parse_args(argv)
    report = match(args.warehouse, args.review_dir)
    summary = report.as_dict()
    summary.pop("model")
    for key, value in summary.items():
        print(f"{key:<22} {value}")
    for line, reason in report.decisions_rejected:
        print(f"decisions.csv line {line} not applied: {reason}", file=sys.stderr)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    return 0


def evaluate_main(argv: list[str]) -> int:
    from dedupe.evaluate import evaluate_warehouse, format_metrics

    settings = settings_mod.load()
    parser = argparse.ArgumentParser(prog="gongzhi evaluate-matching", description="compare cases with the truth")
    parser.add_argument("--warehouse", type=Path, default=settings.warehouse)
    parser.add_argument("--truth", type=Path, default=settings.truth)
    parser.add_argument("--json", type=Path, help="write the metrics as JSON here")
    args = parser.parse_args(argv)
    metrics = evaluate_warehouse(args.warehouse, args.truth)
    print(format_metrics(metrics))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(metrics, ensure_ascii=False, indent=2))
    return 0
