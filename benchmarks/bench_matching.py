"""Case-matching benchmark and quality harness: `python -m benchmarks matching <command> [options]`.

Commands:
  quality  --seeds 1 2 3 [--days 30 --per-day 1000]   simulate, load, match, evaluate per seed (the quality bar)
  scale    --intakes 100000 [1000000 ...]             matcher time, candidates, peak memory (+ F1) per size
  splink   --intakes 100000                           Splink 5 (DuckDB) on the same intakes, side by side
  all                                                 quality on three seeds, scale at 100 k and 1 M, Splink 100 k

Results are merged into benchmarks/results/matching.json (each command updates its own section).

Data path: the simulator writes landing files and truth; the file feeds go through the real connectors
(`connectors.load.load_file_feed`); 12345 work orders are read from the simulator's work-order store and mapped
with the real `connectors.api12345.map_work_order` (latest version per gdbh) instead of going over HTTP — a
benchmark shortcut, not a second connector.
"""
from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "matching.json"
TUNING_SEED = 20240301  # the only seed thresholds and levels were tuned on; evaluation seeds differ


def build_warehouse(home: Path, *, days: int, per_day: int, seed: int, fault_rate: float = 0.01) -> dict:
    """Simulate into home/, load every feed into home/warehouse.duckdb. Returns timings and counts."""
    from datetime import date

    import duckdb
    import pyarrow as pa

    from connectors import load as load_mod
    from connectors.api12345 import map_work_order
    from connectors.pii import PiiHasher
    from connectors.schema import INTAKE_SCHEMA
    from gongzhi.settings import DEV_PII_KEY
    from simulator.generator import Simulation, SimulationConfig

    landing, truth, warehouse = home / "landing", home / "truth", home / "warehouse.duckdb"
    started = time.perf_counter()
    config = SimulationConfig(start=date(2024, 3, 1), days=days, per_day=per_day, seed=seed, fault_rate=fault_rate)
    summary = Simulation(config, landing, truth).run()
    simulated = time.perf_counter()
    pii = PiiHasher(DEV_PII_KEY)
    for channel in load_mod.FILE_CHANNELS:
        load_mod.load_file_feed(warehouse, landing, channel, pii=pii)
    latest: dict[str, tuple] = {}
    for path in sorted((landing / "12345").glob("work_orders_*.jsonl")):
        for position, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            try:
                record = json.loads(line)
                row, _ = map_work_order(record, pii, delivery=path.name, position=position, load_id="bench")
            except Exception:  # malformed records are the connectors' business (quarantine), not matching's
                continue
            previous = latest.get(row["source_id"])
            if previous is None or row["version_at"] >= previous["version_at"]:
                latest[row["source_id"]] = row
    rows = list(latest.values())
    table = pa.table({f.name: [r.get(f.name) for r in rows] for f in INTAKE_SCHEMA}, schema=INTAKE_SCHEMA)
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("CREATE SCHEMA IF NOT EXISTS core")
        con.register("work_orders", table)
        if con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema='core' AND table_name='intake'"
        ).fetchall()[0][0]:
            con.execute("DELETE FROM core.intake WHERE channel = '12345'")
            con.execute("INSERT INTO core.intake BY NAME SELECT * FROM work_orders")
        else:
            con.execute("CREATE TABLE core.intake AS SELECT * FROM work_orders")
        intakes = con.execute("SELECT count(*) FROM core.intake").fetchall()[0][0]
    finally:
        con.close()
    return {
        "simulated_intakes": summary.intakes,
        "loaded_intakes": intakes,
        "simulate_seconds": round(simulated - started, 1),
        "load_seconds": round(time.perf_counter() - simulated, 1),
    }


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_quality(seed: int, days: int, per_day: int, keep: Path | None = None) -> dict:
    from dedupe.evaluate import evaluate_warehouse
    from dedupe.run import match

    home = keep or Path(tempfile.mkdtemp(prefix=f"gz-match-{seed}-"))
    try:
        built = build_warehouse(home, days=days, per_day=per_day, seed=seed)
        report = match(home / "warehouse.duckdb", home / "review")
        metrics = evaluate_warehouse(home / "warehouse.duckdb", home / "truth")
    finally:
        if keep is None:
            shutil.rmtree(home, ignore_errors=True)
    return {
        "seed": seed,
        "tuned_on": seed == TUNING_SEED,
        "days": days,
        "per_day": per_day,
        **built,
        "match_seconds": report.seconds,
        "candidates": report.candidates,
        "review_pairs": report.review_pairs,
        **{k: round(v, 4) if isinstance(v, float) else v for k, v in metrics.items()},
    }


def _update_results(section: str, value) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results[section] = value
    RESULTS.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks matching")
    sub = parser.add_subparsers(dest="command", required=True)
    quality = sub.add_parser("quality")
    quality.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    quality.add_argument("--days", type=int, default=30)
    quality.add_argument("--per-day", type=int, default=1000)
    quality.add_argument("--keep", type=Path, help="keep the data of a single seed in this folder")
    quality.add_argument("--no-save", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "quality":
        rows = []
        for seed in args.seeds:
            row = run_quality(seed, args.days, args.per_day, args.keep)
            rows.append(row)
            print(json.dumps(row, ensure_ascii=False))
        if not args.no_save:
            _update_results("quality", rows)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
