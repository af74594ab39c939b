"""Case-matching benchmark and quality harness: `python -m benchmarks matching <command> [options]`.

Commands:
  quality  --seeds 1 2 3 [--days 30 --per-day 1000]   simulate, load, match, evaluate per seed (the quality bar)
  scale    --intakes 100000 [1000000 ...]             matcher time, candidates, peak memory (+ F1) per size
  splink   --intakes 100000                           Splink 5 (DuckDB) on the same intakes, side by side
  blocking --base DIR                                 blocking recall and candidates per intake on a built month
  diagnose --base DIR                                 where the errors come from, and how separable the truth is
  daily    --seeds 1 2 --built DIR                    a month built earlier matched one day at a time (30 runs)
  (scale/splink build a base month with --base-seed unless --base names one already built)

Results are merged into benchmarks/results/matching.json (each command updates its own section).

Data path: the simulator writes landing files and truth; the file feeds go through the real connectors
(`connectors.load.load_file_feed`); 12345 work orders are read from the simulator's work-order store and mapped
with the real `connectors.api12345.map_work_order` (latest version per gdbh) instead of going over HTTP — a
benchmark shortcut, not a second connector.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import sql_string
from benchmarks.machine import speed_probe_ms

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
    from simulator import SimulationConfig, simulate

    landing, truth, warehouse = home / "landing", home / "truth", home / "warehouse.duckdb"
    started = time.perf_counter()
    config = SimulationConfig(start=date(2024, 3, 1), days=days, per_day=per_day, seed=seed, fault_rate=fault_rate)
    summary = simulate(config, landing, truth, workers=1)
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


def run_quality(seed: int, days: int, per_day: int, keep: Path | None = None, built_dir: Path | None = None) -> dict:
    """built_dir: a folder holding seed_<seed>/ months built earlier (warehouse + truth, nothing matched yet):
    a copy of the month is matched instead of simulating it again (same data, saves the simulate+load time)."""
    from dedupe.evaluate import evaluate_warehouse
    from dedupe.run import match

    home = keep or Path(tempfile.mkdtemp(prefix=f"gz-match-{seed}-"))
    load_average = [round(x, 2) for x in os.getloadavg()]
    probe = speed_probe_ms()
    try:
        source = built_dir / f"seed_{seed}" if built_dir is not None else None
        if source is not None and (source / "warehouse.duckdb").exists():
            shutil.copytree(source / "truth", home / "truth", dirs_exist_ok=True)
            shutil.copy(source / "warehouse.duckdb", home / "warehouse.duckdb")
            built = {"built_earlier": True}
        else:
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
        "match_cpu_seconds": round(sum(report.stage_cpu_seconds.values()), 2),
        "stage_cpu_seconds": report.stage_cpu_seconds,
        "load_average_at_start": load_average,
        "speed_probe_ms_at_start": probe,
        "candidates": report.candidates,
        "review_pairs": report.review_pairs,
        **{k: round(v, 4) if isinstance(v, float) else v for k, v in metrics.items()},
    }


def run_daily(seed: int, built_dir: Path) -> dict:
    """A month built earlier (built_dir/seed_<seed>/) matched as the daily schedule does: one match() per day, each
    day's intakes added to core.intake before its run. Compare with run_quality's one run over the month."""
    import duckdb

    from dedupe.evaluate import evaluate_warehouse
    from dedupe.run import match

    source = built_dir / f"seed_{seed}"
    home = Path(tempfile.mkdtemp(prefix=f"gz-daily-{seed}-"))
    try:
        shutil.copytree(source / "truth", home / "truth")
        warehouse = home / "warehouse.duckdb"
        attach = f"ATTACH {sql_string(source / 'warehouse.duckdb')} AS month (READ_ONLY)"
        con = duckdb.connect(str(warehouse))
        con.execute(attach)
        con.execute("CREATE SCHEMA core")
        con.execute("CREATE TABLE core.intake AS SELECT * FROM month.core.intake WHERE false")
        days = [d for (d,) in con.execute(
            "SELECT DISTINCT CAST(received_at AS DATE) AS d FROM month.core.intake ORDER BY d").fetchall()]
        con.close()
        started, cpu_started = time.perf_counter(), time.process_time()
        for day in days:
            con = duckdb.connect(str(warehouse))
            con.execute(attach)
            con.execute("INSERT INTO core.intake SELECT * FROM month.core.intake WHERE CAST(received_at AS DATE) = ?",
                        [day])
            con.close()
            match(warehouse, home / "review")
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        metrics = evaluate_warehouse(warehouse, home / "truth")
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return {"seed": seed, "runs": len(days), "seconds": round(seconds, 1), "cpu_seconds": round(cpu, 1),
            **{k: round(v, 4) if isinstance(v, float) else v for k, v in metrics.items()}}


SHIFTED_TIMES = ("version_at", "received_at", "dispatched_at", "signed_at", "deadline_at", "extended_deadline_at",
                 "closed_at")


def replicate(base: Path, target: Path, intakes: int, period_days: int) -> int:
    """target/warehouse.duckdb with `intakes` intakes: copies of the base month placed one after another in time
    (ids, callers and incidents suffixed per copy), so the daily density of the base month is kept at any size."""
    import duckdb

    target.mkdir(parents=True, exist_ok=True)
    (target / "truth").mkdir(exist_ok=True)
    con = duckdb.connect(str(target / "warehouse.duckdb"))
    try:
        con.execute(f"ATTACH {sql_string(base / 'warehouse.duckdb')} AS base (READ_ONLY)")
        per_copy = con.execute("SELECT count(*) FROM base.core.intake").fetchall()[0][0]
        copies = -(-intakes // per_copy)
        shift = ", ".join(f"{c} + to_days(CAST({period_days} * k AS INTEGER)) AS {c}" for c in SHIFTED_TIMES)
        con.execute("CREATE SCHEMA IF NOT EXISTS core")
        con.execute(
            f"""CREATE OR REPLACE TABLE core.intake AS
                SELECT * REPLACE (source_id || '~' || k AS source_id, caller_key || '~' || k AS caller_key, {shift})
                FROM base.core.intake, range({copies}) AS r(k)
                ORDER BY received_at, channel, source_id LIMIT {int(intakes)}"""
        )
        con.execute(
            f"""COPY (SELECT * REPLACE (source_id || '~' || k AS source_id, incident_id || '~' || k AS incident_id)
                      FROM read_parquet('{base / 'truth' / 'intakes.parquet'}'), range({copies}) AS r(k))
                TO '{target / 'truth' / 'intakes.parquet'}' (FORMAT parquet)"""
        )
        return con.execute("SELECT count(*) FROM core.intake").fetchall()[0][0]
    finally:
        con.close()


# A child's own peak: gongzhi.processes.peak_rss_mb (VmHWM, not ru_maxrss, which carries the parent's peak).
_PEAK_RSS = """
from gongzhi.processes import peak_rss_mb
"""

_MATCH_CHILD = """
import json, resource, sys, time
from pathlib import Path
from dedupe.run import match
""" + _PEAK_RSS + """
home = Path(sys.argv[1])
started = time.perf_counter()
cpu_started = time.process_time()
report = match(home / "warehouse.duckdb", home / "review")
children = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"seconds": time.perf_counter() - started, "candidates": report.candidates,
                  "new_cases": report.new_cases, "stage_seconds": report.stage_seconds,
                  "stage_cpu_seconds": report.stage_cpu_seconds,
                  # all threads of this process (DuckDB's, rapidfuzz's) plus the prepare workers
                  "cpu_seconds": time.process_time() - cpu_started + children.ru_utime + children.ru_stime,
                  "peak_rss_mb": peak_rss_mb()}))
"""


def _commit() -> str:
    import subprocess

    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              cwd=Path(__file__).resolve().parent.parent).stdout.strip()
    except OSError:
        return ""


def _match_in_child(home: Path) -> dict:
    import subprocess

    out = subprocess.run([sys.executable, "-c", _MATCH_CHILD, str(home)], check=True, capture_output=True,
                         text=True, cwd=Path(__file__).resolve().parent.parent)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _match_in_batches(home: Path, batches: int) -> dict:
    """Match the replica's intakes as `batches` incremental runs in time order (each a new match() over the intakes
    not matched yet, against the cases before them), as a daily schedule does; the figures are summed, the peak
    memory is the largest run's. One run over 10 M intakes would need ~10x the memory of 1 M."""
    import duckdb

    with duckdb.connect(str(home / "warehouse.duckdb")) as con:
        con.execute("CREATE TABLE all_intake AS SELECT *, row_number() OVER (ORDER BY received_at, channel, source_id)"
                    " AS bench_rank FROM core.intake")
        con.execute("DELETE FROM core.intake")
        total = con.execute("SELECT count(*) FROM all_intake").fetchall()[0][0]
    runs = []
    for b in range(batches):
        low, high = total * b // batches, total * (b + 1) // batches
        with duckdb.connect(str(home / "warehouse.duckdb")) as con:
            con.execute("INSERT INTO core.intake SELECT * EXCLUDE (bench_rank) FROM all_intake "
                        "WHERE bench_rank > ? AND bench_rank <= ?", [low, high])
        run = _match_in_child(home)
        runs.append({"intakes": high - low, **{k: run[k] for k in ("seconds", "cpu_seconds", "candidates",
                                                                      "peak_rss_mb")}})
        print(json.dumps({"batch": b + 1, **runs[-1]}), flush=True)
    with duckdb.connect(str(home / "warehouse.duckdb")) as con:
        con.execute("DROP TABLE all_intake")
    return {"seconds": sum(r["seconds"] for r in runs), "cpu_seconds": sum(r["cpu_seconds"] for r in runs),
            "candidates": sum(r["candidates"] for r in runs), "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
            "batches": [{k: round(v, 1) if isinstance(v, float) else v for k, v in r.items()} for r in runs]}


def run_scale(base: Path, sizes: list[int], period_days: int, on_row=None, note: str = "",
              batches: int = 1) -> list[dict]:
    from dedupe.evaluate import evaluate_warehouse

    rows = []
    for size in sizes:
        home = Path(tempfile.mkdtemp(prefix=f"gz-scale-{size}-"))
        try:
            intakes = replicate(base, home, size, period_days)
            load_at_start = [round(x, 2) for x in os.getloadavg()]
            probe_at_start = speed_probe_ms()
            measured = _match_in_child(home) if batches == 1 else _match_in_batches(home, batches)
            probe_at_end = speed_probe_ms()
            metrics = evaluate_warehouse(home / "warehouse.duckdb", home / "truth")
        finally:
            shutil.rmtree(home, ignore_errors=True)
        row = {
            "intakes": intakes,
            **({"incremental_batches": measured["batches"]} if batches > 1 else {}),
            "seconds": round(measured["seconds"], 1),
            "cpu_seconds": round(measured["cpu_seconds"], 1),
            "candidates": measured["candidates"],
            "candidates_per_intake": round(measured["candidates"] / intakes, 2),
            "peak_rss_mb": round(measured["peak_rss_mb"]),
            "stage_seconds": measured.get("stage_seconds"),
            "stage_cpu_seconds": measured.get("stage_cpu_seconds"),
            "load_average_at_start": load_at_start,
            "speed_probe_ms": [probe_at_start, probe_at_end],
            "pairwise_f1": round(metrics["pairwise_f1"], 4),
            "bcubed_f1": round(metrics["bcubed_f1"], 4),
            "over_merge_rate": round(metrics["over_merge_rate"], 4),
            "commit": _commit(),
            **({"note": note} if note else {}),
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
        if on_row is not None:
            on_row(rows)  # saved after each size: a long run interrupted keeps what it measured
    return rows


_SPLINK_CHILD = _PEAK_RSS + r"""
import json, resource, sys, time
from pathlib import Path
import duckdb, numpy as np, pyarrow as pa
home = Path(sys.argv[1])
started = time.perf_counter()
from splink import DuckDBAPI, Linker, SettingsCreator, block_on
import splink.comparison_library as cl
import splink.comparison_level_library as cll
from dedupe import records as R

con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
tab = con.sql("SELECT " + ", ".join(R.MATCH_COLUMNS) + " FROM core.intake").to_arrow_table()
con.close()
# the same normalisation our matcher uses (boilerplate, t2s, place words removed): only the model differs
rec = R.prepare(tab)
n = len(rec)
def nullable(values):
    return [v or None for v in values]
table = pa.table({
    "unique_id": np.arange(n, dtype=np.int64),
    "t": rec.t,
    "lat": [None if np.isnan(v) else float(v) for v in rec.lat],
    "lon": [None if np.isnan(v) else float(v) for v in rec.lon],
    "caller_key": nullable(rec.caller),
    "bigrams": [sorted({p[k:k + 2] for k in range(len(p) - 1)}) or None for p in rec.problem],
    "topic": nullable(rec.block_topic),
    "area": nullable(rec.area),
    "estate": nullable(rec.estate),
    "cell": [f"{x}_{y}" if p else None for x, y, p in zip(rec.cell_x.tolist(), rec.cell_y.tolist(), rec.has_point.tolist())],
    "day": (rec.t // 86400).astype(np.int64),
})
jaccard = ("len(list_intersect(bigrams_l, bigrams_r)) * 1.0 / "
           "greatest(len(list_distinct(list_concat(bigrams_l, bigrams_r))), 1)")
text = cl.CustomComparison(
    output_column_name="text",
    comparison_levels=[
        cll.NullLevel("bigrams"),
        {"sql_condition": f"{jaccard} >= 0.5", "label_for_charts": "bigram jaccard >= 0.5"},
        {"sql_condition": f"{jaccard} >= 0.3", "label_for_charts": "bigram jaccard >= 0.3"},
        {"sql_condition": f"{jaccard} >= 0.15", "label_for_charts": "bigram jaccard >= 0.15"},
        cll.ElseLevel(),
    ],
)
gap = "abs(t_l - t_r)"
time_gap = cl.CustomComparison(
    output_column_name="t",
    comparison_levels=[
        cll.NullLevel("t"),
        {"sql_condition": f"{gap} <= 7200", "label_for_charts": "<= 2 h"},
        {"sql_condition": f"{gap} <= 86400", "label_for_charts": "<= 1 day"},
        {"sql_condition": f"{gap} <= 1209600", "label_for_charts": "<= 14 days"},
        cll.ElseLevel(),
    ],
)
settings = SettingsCreator(
    link_type="dedupe_only",
    unique_id_column_name="unique_id",
    comparisons=[
        text,
        cl.DistanceInKMAtThresholds("lat", "lon", [0.15, 0.4, 1.5]),
        time_gap,
        cl.ExactMatch("caller_key"),
        cl.ExactMatch("topic"),
        cl.ExactMatch("estate"),
        cl.ExactMatch("area"),
    ],
    blocking_rules_to_generate_predictions=[
        "l.caller_key = r.caller_key and abs(l.t - r.t) <= 3888000",
        "l.cell = r.cell and l.topic = r.topic and abs(l.t - r.t) <= 1209600",
        "l.estate = r.estate and abs(l.t - r.t) <= 1209600",
        block_on("topic", "area", "day"),
    ],
    retain_intermediate_calculation_columns=False,
)
db_api = DuckDBAPI()
df = db_api.register(table, dataset_display_name="intakes")
linker = Linker(df, settings, log_level=None)
linker.training.estimate_probability_two_random_records_match(
    ["l.caller_key = r.caller_key and l.topic = r.topic and abs(l.t - r.t) <= 86400"], recall=0.3)
linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
linker.training.estimate_parameters_using_expectation_maximisation(block_on("caller_key"))
linker.training.estimate_parameters_using_expectation_maximisation("l.estate = r.estate and l.topic = r.topic")
predictions = linker.inference.predict(threshold_match_probability=0.3)
con = db_api._con
candidates = con.sql(f"SELECT count(*) FROM {predictions.physical_name}").fetchall()[0][0]
results = {}
for threshold in (0.5, 0.9, 0.99):
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, threshold)
    ids = con.sql(f"SELECT unique_id, cluster_id FROM {clusters.physical_name} ORDER BY unique_id").fetchall()
    results[str(threshold)] = {str(u): str(c) for u, c in ids}
seconds = time.perf_counter() - started
keys = [[rec.channel[k], rec.source_id[k]] for k in range(n)]
json.dump({"seconds": seconds, "pairs_above_0_3": candidates, "clusters": results, "keys": keys,
           "peak_rss_mb": peak_rss_mb()},
          open(home / "splink.json", "w"))
print("ok")
"""


def _splink_metrics(home: Path) -> dict:
    import pyarrow.parquet as pq

    from dedupe.evaluate import clustering_metrics

    out = json.loads((home / "splink.json").read_text())
    truth_table = pq.read_table(home / "truth" / "intakes.parquet", columns=["channel", "source_id", "incident_id"])
    truth = dict(zip(zip(truth_table.column("channel").to_pylist(), truth_table.column("source_id").to_pylist()),
                     truth_table.column("incident_id").to_pylist()))
    keys = [tuple(k) for k in out["keys"]]
    best = None
    for threshold, clusters in out["clusters"].items():
        labelled = [(clusters[str(i)], truth[key]) for i, key in enumerate(keys) if key in truth]
        metrics = clustering_metrics([a for a, _ in labelled], [b for _, b in labelled])
        metrics["threshold"] = float(threshold)
        if best is None or metrics["pairwise_f1"] > best["pairwise_f1"]:
            best = metrics
    return {"seconds": round(out["seconds"], 1), "peak_rss_mb": round(out["peak_rss_mb"]),
            "pairs_scored_above_0_3": out["pairs_above_0_3"], "best_threshold": best["threshold"],
            "pairwise_f1": round(best["pairwise_f1"], 4), "bcubed_f1": round(best["bcubed_f1"], 4),
            "over_merge_rate": round(best["over_merge_rate"], 4)}


def run_splink_side_by_side(base: Path, sizes: list[int], period_days: int, on_row=None) -> list[dict]:
    """Both tools on the same intakes; Splink gets its best pairwise F1 over three clustering thresholds."""
    import subprocess

    from dedupe.evaluate import evaluate_warehouse

    rows = []
    repo = Path(__file__).resolve().parent.parent
    for size in sizes:
        home = Path(tempfile.mkdtemp(prefix=f"gz-splink-{size}-"))
        try:
            intakes = replicate(base, home, size, period_days)
            load_at_start = [round(x, 2) for x in os.getloadavg()]
            probe_at_start = speed_probe_ms()
            ours = subprocess.run([sys.executable, "-c", _MATCH_CHILD, str(home)], check=True, capture_output=True,
                                  text=True, cwd=repo)
            measured = json.loads(ours.stdout.strip().splitlines()[-1])
            metrics = evaluate_warehouse(home / "warehouse.duckdb", home / "truth")
            splink = subprocess.run([sys.executable, "-c", _SPLINK_CHILD, str(home)], capture_output=True, text=True,
                                    cwd=repo)
            if splink.returncode != 0:
                raise RuntimeError("splink run failed (is the bench group installed? `make bench`):\n"
                                   + splink.stderr[-3000:])
            theirs = _splink_metrics(home)
            probe_at_end = speed_probe_ms()
        finally:
            shutil.rmtree(home, ignore_errors=True)
        row = {
            "intakes": intakes,
            "load_average_at_start": load_at_start,
            "speed_probe_ms": [probe_at_start, probe_at_end],
            "gongzhi": {"seconds": round(measured["seconds"], 1), "peak_rss_mb": round(measured["peak_rss_mb"]),
                        "candidates": measured["candidates"], "pairwise_f1": round(metrics["pairwise_f1"], 4),
                        "bcubed_f1": round(metrics["bcubed_f1"], 4),
                        "over_merge_rate": round(metrics["over_merge_rate"], 4)},
            "splink": theirs,
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
        if on_row is not None:
            on_row(rows)  # saved after each size
    return rows


def run_blocking(home: Path) -> dict:
    """Blocking recall (share of true pairs that become candidates) and candidates per intake, rule by rule."""
    import duckdb
    import numpy as np

    from dedupe import blocking, records as records_mod

    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    table = con.sql("SELECT " + ", ".join(records_mod.MATCH_COLUMNS) + " FROM core.intake").to_arrow_table()
    truth = dict(
        ((c, s), i) for c, s, i in con.execute(
            f"SELECT channel, source_id, incident_id FROM read_parquet('{home / 'truth' / 'intakes.parquet'}')"
        ).fetchall()
    )
    con.close()
    records = records_mod.prepare(table)
    started = time.perf_counter()
    pairs_i, pairs_j = blocking.candidate_pairs(records, np.ones(len(records), bool))
    seconds = time.perf_counter() - started
    stats = blocking.blocking_recall(records, pairs_i, pairs_j, [truth.get(records.key(k)) for k in range(len(records))])
    return {"intakes": len(records), "blocking_seconds": round(seconds, 2),
            **{k: round(v, 4) if isinstance(v, float) else v for k, v in stats.items()}}


def run_diagnosis(home: Path) -> dict:
    """Where the errors come from, on a built month (docs/dedupe.md "Where the errors come from"): missed true pairs
    by failure stage and incident size, false pairs made by how they were made, and how separable the truth is at
    all (the simulator's incidents grouped by domain.md's rule on their true points, scored against the truth)."""
    from collections import Counter, defaultdict

    import duckdb
    import numpy as np

    from dedupe import blocking, cluster, records as records_mod, scoring
    from dedupe.evaluate import clustering_metrics
    from simulator.catalog import GAP_PROFILES, KINDS

    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    table = con.sql("SELECT " + ", ".join(records_mod.MATCH_COLUMNS) + " FROM core.intake").to_arrow_table()
    truth_file = (home / "truth" / "intakes.parquet").as_posix()
    truth = {(c, s): i for c, s, i in con.execute(
        f"SELECT channel, CAST(source_id AS VARCHAR), incident_id FROM read_parquet('{truth_file}')").fetchall()}
    incidents = con.execute(
        "SELECT incident_id, kind_code, lon, lat, epoch(first_received_at), epoch(closed_at) FROM read_parquet("
        f"'{(home / 'truth' / 'incidents.parquet').as_posix()}')").fetchall()
    truth_rows = [r[0] for r in con.execute(f"SELECT incident_id FROM read_parquet('{truth_file}')").fetchall()]
    con.close()
    # the matcher's own stages, on a fresh run (every intake new)
    records = records_mod.prepare(table, workers=2)
    n = len(records)
    is_new = np.ones(n, bool)
    pi, pj = blocking.candidate_pairs(records, is_new, threads=2)
    patterns = scoring.score_patterns(records, pi, pj, workers=2)
    model = scoring.fit_patterns(np.bincount(patterns.astype(np.int64), minlength=scoring.PATTERNS), estimate_m=False)
    prob = scoring.pair_probabilities(model, records, pi, pj, patterns, prior=scoring.REFERENCE_PRIOR)
    keep = prob >= cluster.NEGLIGIBLE
    result = cluster.assign(records, is_new, pi[keep], pj[keep], prob[keep], [None] * n, {}, patterns[keep],
                            cluster.CaseEvidence.from_model(model, prior=scoring.REFERENCE_PRIOR))
    case = [result.resolve(int(c)) for c in result.case]
    incident = [truth.get(records.key(k)) or f"unknown-{k}" for k in range(n)]
    candidate = {(int(a), int(b)): float(p) for a, b, p in zip(pi, pj, prob)}
    members, case_members = defaultdict(list), defaultdict(list)
    for k in range(n):
        members[incident[k]].append(k)
        case_members[case[k]].append(k)

    def size_class(size: int) -> str:
        return "2" if size == 2 else "3-5" if size <= 5 else "6-10" if size <= 10 else "11-20" if size <= 20 else ">20"

    evidence = records_mod.place_evidence(records)
    true_by_size, missed_by_stage, missed_by_size = Counter(), Counter(), Counter()
    true_by_evidence, missed_by_evidence = Counter(), Counter()
    for group in members.values():
        for x in range(len(group)):
            for y in range(x + 1, len(group)):
                a, b = sorted((group[x], group[y]))
                true_by_size[size_class(len(group))] += 1
                evidence_pair = "/".join(sorted((evidence[a], evidence[b])))
                true_by_evidence[evidence_pair] += 1
                if case[a] == case[b]:
                    continue
                missed_by_evidence[evidence_pair] += 1
                p = candidate.get((a, b))
                stage = ("not a candidate" if p is None else "scored below AUTO_MATCH" if p < cluster.AUTO_MATCH
                         else "split by clustering")
                missed_by_stage[stage] += 1
                missed_by_size[size_class(len(group))] += 1
    false_by_how = Counter()
    for group in case_members.values():
        for x in range(len(group)):
            for y in range(x + 1, len(group)):
                a, b = sorted((group[x], group[y]))
                if incident[a] != incident[b]:
                    p = candidate.get((a, b))
                    false_by_how["direct pair >= AUTO_MATCH" if p is not None and p >= cluster.AUTO_MATCH
                                 else "through other members"] += 1
    # separability of the truth: domain.md's rule applied to the incidents' TRUE points and kinds. Two incidents
    # of one kind are grouped when the later's first report falls within the kind's report-gap window after the
    # earlier's and within the radius, unless the earlier was closed before it (with closure: a report after the
    # closure is a repeat, another case, domain.md) - the matcher sees closures (scoring.closed_before_later).
    window = {k.code: GAP_PROFILES[k.gap]["max_gap_min"] * 60 for k in KINDS}
    by_kind = defaultdict(list)
    for iid, kind, lon, lat, t, closed in incidents:
        by_kind[kind].append((t, iid, lon, lat, closed))
    separability = {}
    for closure in (True, False):
        for radius in (50, 100, 150):
            parent = {row[0]: row[0] for row in incidents}

            def find(x):
                while parent[x] != x:
                    parent[x] = parent[parent[x]]
                    x = parent[x]
                return x

            for kind, rows in by_kind.items():
                rows.sort(key=lambda row: (row[0], row[1]))
                for a in range(len(rows)):
                    for b in range(a + 1, len(rows)):
                        if rows[b][0] - rows[a][0] > window[kind]:
                            break
                        if closure and rows[a][4] is not None and rows[a][4] < rows[b][0]:
                            continue
                        dx = (rows[a][2] - rows[b][2]) * scoring.METRES_PER_DEG_LON
                        dy = (rows[a][3] - rows[b][3]) * scoring.METRES_PER_DEG_LAT
                        if dx * dx + dy * dy <= radius * radius:
                            parent[find(rows[a][1])] = find(rows[b][1])
            metrics = clustering_metrics([find(i) for i in truth_rows], truth_rows)
            label = f"{radius}m" if closure else f"{radius}m_ignoring_closure"
            separability[label] = {k: round(metrics[k], 4) for k in (
                "pairwise_precision", "pairwise_recall", "pairwise_f1", "bcubed_f1", "over_merge_rate")}
    matched = clustering_metrics(case, incident)
    return {
        "intakes_without_own_point": _pointless_places(records, evidence, incident, incidents),
        "true_pairs_by_place_evidence": {
            pair: {"true": count, "missed": missed_by_evidence[pair], "missed_share": round(missed_by_evidence[pair] / count, 3)}
            for pair, count in true_by_evidence.most_common()},
        "intakes": n,
        "true_pairs": sum(true_by_size.values()),
        "true_pairs_by_incident_size": dict(true_by_size),
        "missed_pairs_by_stage": dict(missed_by_stage),
        "missed_pairs_by_incident_size": dict(missed_by_size),
        "false_pairs_made": dict(false_by_how),
        "matcher": {k: round(matched[k], 4) for k in (
            "pairwise_precision", "pairwise_recall", "pairwise_f1", "bcubed_f1", "over_merge_rate")},
        "truth_grouped_by_domain_rule_on_true_points": separability,
    }


def _pointless_places(records, evidence: list[str], incident: list[str], incidents: list[tuple]) -> dict:
    """Per place evidence (records.PLACE_EVIDENCE) and channel of the intakes without a point of their own: how many,
    how many borrowed a named place's point, and how far that point is from the incident's true point."""
    import numpy as np

    from dedupe import normalize

    true_point = {row[0]: (row[2], row[3]) for row in incidents}
    rows: dict = {}
    for k, label in enumerate(evidence):
        if label == "own_point":
            continue
        row = rows.setdefault(label, {}).setdefault(records.channel[k], {"intakes": 0, "errors": []})
        row["intakes"] += 1
        if records.approximate[k] and incident[k] in true_point and true_point[incident[k]][0] is not None:
            lon, lat = true_point[incident[k]]
            row["errors"].append(normalize.distance_m(float(records.lon[k]), float(records.lat[k]), lon, lat))
    out = {}
    for label, by_channel in rows.items():
        for channel, row in sorted(by_channel.items()):
            errors = np.asarray(row.pop("errors"))
            row["borrowed_point"] = int(len(errors))
            if len(errors):
                row["borrowed_error_m_median"] = round(float(np.median(errors)), 1)
                row["borrowed_error_m_p90"] = round(float(np.percentile(errors, 90)), 1)
            out.setdefault(label, {})[channel] = row
    return out


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
    quality.add_argument("--built", type=Path, help="match copies of months built earlier in DIR/seed_<seed>/")
    daily = sub.add_parser("daily")
    daily.add_argument("--seeds", type=int, nargs="+", default=[TUNING_SEED])
    daily.add_argument("--built", type=Path, required=True, help="months built earlier in DIR/seed_<seed>/")
    scale = sub.add_parser("scale")
    scale.add_argument("--intakes", type=int, nargs="+", default=[100_000, 1_000_000])
    scale.add_argument("--base-seed", type=int, default=404)
    scale.add_argument("--base", type=Path, help="an already built base month (folder with warehouse + truth)")
    scale.add_argument("--note", default="", help="saved with each row (e.g. which machine, what ran alongside)")
    scale.add_argument("--batches", type=int, default=1,
                       help="match in this many incremental runs in time order (10 M: one run would not fit memory)")
    block = sub.add_parser("blocking")
    block.add_argument("--base", type=Path, required=True, help="a folder with warehouse.duckdb and truth/")
    diagnose = sub.add_parser("diagnose")
    diagnose.add_argument("--base", type=Path, required=True, help="a folder with warehouse.duckdb and truth/")
    splink = sub.add_parser("splink")
    splink.add_argument("--intakes", type=int, nargs="+", default=[100_000])
    splink.add_argument("--base-seed", type=int, default=404)
    splink.add_argument("--base", type=Path)
    for p in (scale, splink):
        p.add_argument("--days", type=int, default=30)
        p.add_argument("--per-day", type=int, default=1000)
    args = parser.parse_args(argv)
    if args.command == "blocking":
        row = run_blocking(args.base)
        print(json.dumps(row))
        _update_results("blocking", row)
        return 0
    if args.command == "diagnose":
        row = run_diagnosis(args.base)
        print(json.dumps(row, ensure_ascii=False, indent=1))
        _update_results("diagnosis", {"base": str(args.base), **row})
        return 0
    if args.command in ("scale", "splink"):
        base = args.base
        if base is None or not (base / "warehouse.duckdb").exists():
            base = base or Path(tempfile.mkdtemp(prefix="gz-base-"))
            print(json.dumps(build_warehouse(base, days=args.days, per_day=args.per_day, seed=args.base_seed)))
        if args.command == "scale":
            # earlier rows are kept (newest first) under "history": a re-run adds figures, it does not erase them
            earlier = json.loads(RESULTS.read_text()).get("scale", {}) if RESULTS.exists() else {}
            history = earlier.get("rows", []) + earlier.get("history", [])

            def save(rows):
                _update_results("scale", {"base_seed": args.base_seed, "base_days": args.days,
                                          "base_per_day": args.per_day, "rows": rows, "history": history})

            run_scale(base, args.intakes, args.days, on_row=save, note=args.note, batches=args.batches)
        else:
            # earlier rows are kept under "history", as for scale
            earlier = json.loads(RESULTS.read_text()).get("splink", {}) if RESULTS.exists() else {}
            history = earlier.get("rows", []) + earlier.get("history", [])
            run_splink_side_by_side(base, args.intakes, args.days, on_row=lambda rows: _update_results(
                "splink", {"base_seed": args.base_seed, "rows": rows, "history": history}))
        return 0
    if args.command == "daily":
        rows = [run_daily(seed, args.built) for seed in args.seeds]
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
        _update_results("daily", rows)
        return 0
    if args.command == "quality":
        rows = []
        for seed in args.seeds:
            row = run_quality(seed, args.days, args.per_day, args.keep, args.built)
            rows.append(row)
            print(json.dumps(row, ensure_ascii=False))
        if not args.no_save:
            _update_results("quality", rows)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
