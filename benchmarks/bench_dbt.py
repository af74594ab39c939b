"""Benchmark: `dbt build` of every model (and, separately, its tests) over N synthetic intakes.

`python -m benchmarks dbt --intakes 1000000 10000000` generates the core tables directly in DuckDB SQL (fast, no
simulator): 80% of intakes lead a case, the rest join a random case; every lead gets received / dispatched /
signed / closed / callback events (some returned, reopened, extended), categories drawn from the mapping seed,
units from the units seed, places from 包河区's streets. Then it times one `dbt build` (seeds, models, data tests
and unit tests in one dbt process), splits it per node from target/run_results.json (seed, model, test seconds, the
rest is dbt's start-up and bookkeeping; the project is parsed beforehand, timed apart), records the load average, and writes benchmarks/results/dbt.json (runs of
other sizes already there are kept). Target (issue 5): 10 M intakes <= 3 minutes.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import shutil
import tempfile
import time
from pathlib import Path

import duckdb

from benchmarks import sql_string
from warehouse.dbt_runner import PROJECT_DIR, run_dbt

RESULTS = Path(__file__).parent / "results" / "dbt.json"


def _seed_list(name: str, column: str, where=lambda r: True) -> list[str]:
    with (PROJECT_DIR / "seeds" / name).open(encoding="utf-8", newline="") as fh:
        return [r[column] for r in csv.DictReader(fh) if where(r)]


def _sql_list(values: list[str]) -> str:
    return "[" + ", ".join(sql_string(v) for v in values) + "]"


def generate_core(db: Path, intakes: int, *, days: int = 365) -> dict[str, int]:
    """Write core.intake, intake_event, quarantine, load_log, case_link, case, case_merge with `intakes` intakes."""
    labels = _seed_list("category_mapping.csv", "source_label", lambda r: r["channel"] == "12345")
    units = _seed_list("units.csv", "unit", lambda r: r["unit_type"] != "platform")
    streets = _seed_list("divisions.csv", "code", lambda r: r["level"] == "street" and r["parent_code"] == "340111")
    cases = max(1, int(intakes * 0.8))
    con = duckdb.connect(str(db))
    con.execute("set preserve_insertion_order = false")
    con.execute("create schema if not exists core")
    con.execute(f"""
        create or replace table core.intake as
        with base as (
            select
                i,
                case when i < {cases} then i else cast(hash(i, 'case') % {cases} as bigint) end as case_no,
                timestamp '2024-01-01' + to_seconds(cast(hash(i, 't') % ({days} * 86400) as bigint)) as t0,
                cast(hash(i, 'r') % 1000 as bigint) as r
            from range({intakes}) as g(i)
        )
        select
            (['12345', '12345', '12345', '110', 'petition', 'hotline'])[1 + i % 6] as channel,
            'S' || i as source_id,
            t0 as version_at,
            t0 as received_at,
            md5('caller' || (hash(i, 'c') % ({intakes} // 3 + 1))) as caller_key,
            (['咨询', '求助', '投诉', '举报', '建议'])[1 + r % 5] as demand_type,
            '标题' as title,
            '市民反映问题，内容已脱敏' as content,
            '某路某号' as address,
            cast(null as varchar) as area_code,
            ({_sql_list(streets)})[1 + cast(hash(case_no, 's') % {len(streets)} as bigint)] as street_code,
            ({_sql_list(streets)})[1 + cast(hash(case_no, 's') % {len(streets)} as bigint)] || lpad(cast(1 + cast(hash(case_no, 'm') % 9 as bigint) as varchar), 3, '0') as community_code,
            117.2 + (cast(hash(case_no, 'x') % 2000 as bigint)) / 10000.0 as lon,
            31.7 + (cast(hash(case_no, 'y') % 1500 as bigint)) / 10000.0 as lat,
            ({_sql_list(labels)})[1 + cast(hash(case_no, 'k') % {len(labels)} as bigint)] as source_category,
            case when r < 900 then '一般' when r < 980 then '紧急' else '特急' end as urgency,
            ({_sql_list(units)})[1 + cast(hash(case_no, 'u') % {len(units)} as bigint)] as unit,
            case when r < 950 then t0 + interval 1 hour end as dispatched_at,
            case when r < 900 then t0 + interval 3 hour end as signed_at,
            case when r < 950 and r % 7 <> 0 then t0 + interval 7 day end as deadline_at,
            case when r < 60 then t0 + interval 14 day end as extended_deadline_at,
            case when r < 800 then t0 + to_hours(cast(cast(hash(i, 'cl') % 300 as bigint) as bigint)) end as closed_at,
            cast(null as varchar) as source_status,
            case when r < 700 then (['满意', '满意', '基本满意', '不满意'])[1 + r % 4] end as rating,
            cast(null as tinyint) as rating_score,
            cast(r % 3 as integer) as urge_count,
            r < 30 as reopened,
            cast(null as varchar) as linked_source_id,
            false as marked_repeat,
            cast(null as varchar) as handed_to,
            cast(null as integer) as people_count,
            cast(null as varchar) as extra,
            'BENCH' as load_id,
            'bench' as delivery,
            i as position,
            case_no
        from base
    """)
    con.execute(f"""
        create or replace table core.case_link as
        select channel, source_id, 'C' || case_no as case_id,
               case when case_no = cast(substr(source_id, 2) as bigint) then 'lead'
                    when cast(hash(source_id) % 5 as bigint) = 0 then 'same_caller' else 'duplicate' end as link_type,
               case_no = cast(substr(source_id, 2) as bigint) as is_lead,
               case when case_no = cast(substr(source_id, 2) as bigint) then null else 0.97 end as match_score,
               cast(null as varchar) as matched_to_channel, cast(null as varchar) as matched_to_source_id
        from core.intake
    """)
    con.execute(f"""
        create or replace table core."case" as
        select 'C' || case_no as case_id, channel as lead_channel, source_id as lead_source_id,
               case when cast(hash(case_no, 'rep') % 20 as bigint) = 0 and case_no > 0
                    then 'C' || cast(hash(case_no, 'rp') % case_no as bigint) end as repeat_of_case_id,
               cast(null as varchar) as merged_into_case_id, received_at as created_at
        from core.intake where case_no = cast(substr(source_id, 2) as bigint)
    """)
    con.execute("alter table core.intake drop column case_no")
    con.execute("""
        create or replace table core.intake_event as
        with leads as (
            select i.* from core.intake i join core.case_link l using (channel, source_id) where l.is_lead
        ),
        events as (
            select channel, source_id, 1 as seq, received_at as event_at, 'received' as event_type,
                   cast(null as varchar) as unit, cast(null as varchar) as note from leads
            union all select channel, source_id, 2, dispatched_at, 'dispatched', unit, null from leads
                where dispatched_at is not null
            union all select channel, source_id, 3, signed_at, 'signed', unit, null from leads where signed_at is not null
            union all select channel, source_id, 4, closed_at, 'closed', unit, null from leads where closed_at is not null
            union all select channel, source_id, 5, closed_at + interval 1 day, 'callback', null, rating from leads
                where closed_at is not null and rating is not null
            union all select channel, source_id, 6, signed_at + interval 1 hour, 'returned', unit, null from leads
                where signed_at is not null and cast(hash(source_id, 'ret') % 25 as bigint) = 0
        )
        select channel, source_id, cast(seq as integer) as seq, event_at, event_type, unit, note from events
    """)
    con.execute("""
        create or replace table core.quarantine as
        select '110' as channel, 'BENCH' as load_id, 'bench' as delivery, cast(i as bigint) as position,
               'bench' as reason, '***' as content_masked,
               timestamp '2024-01-01' + to_days(cast(i % 365 as integer)) as quarantined_at
        from range(1000) as g(i)
    """)
    con.execute("""
        create or replace table core.load_log as
        select 'BENCH' as load_id, '110' as channel, 'bench' as delivery, 'x' as checksum,
               cast(0 as bigint) as rows_in, cast(0 as bigint) as rows_loaded, cast(0 as bigint) as rows_quarantined,
               timestamp '2024-01-01' as loaded_at
    """)
    con.execute("""
        create or replace table core.case_merge as
        select cast(null as varchar) as merged_case_id, cast(null as varchar) as into_case_id,
               cast(null as timestamp) as merged_at, cast(null as varchar) as reason
        where false
    """)
    counts = {t: con.execute(f'select count(*) from core."{t}"').fetchone()[0]
              for t in ("intake", "intake_event", "case_link", "case")}
    con.close()
    return counts


def _node_timings(target: Path) -> dict[str, dict[str, float]]:
    """Execution seconds per node of the last dbt invocation, by resource type (seed, model, test, unit_test)."""
    results = json.loads((target / "run_results.json").read_text(encoding="utf-8"))["results"]
    by_type: dict[str, dict[str, float]] = {}
    for result in results:
        # model.gongzhi.fct_case, test.gongzhi.unique_fct_case_case_id.<hash>: the name is the third part
        resource_type, _, name = result["unique_id"].split(".")[:3]
        by_type.setdefault(resource_type, {})[name] = round(result["execution_time"], 2)
    return by_type


def bench_one(intakes: int, workdir: Path) -> dict:
    """Generate the core tables for `intakes`, then time one `dbt build` (seeds, models, tests in one process)."""
    home = workdir / f"home_{intakes}"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    load_before = os.getloadavg()
    started = time.perf_counter()
    counts = generate_core(home / "warehouse.duckdb", intakes)
    generated = time.perf_counter() - started
    target = home / "dbt-target"
    # the project is parsed first, as the pipeline's is (make setup writes the manifest; dbt then re-parses only
    # what changed): the build below is then seeds + models + tests, and the parse is reported on its own
    started = time.perf_counter()
    parsed = run_dbt("parse", home, target_path=target)
    parse = time.perf_counter() - started
    if not parsed.ok:
        raise RuntimeError(f"dbt parse failed:\n{parsed.output[-3000:]}")
    load_at_build = os.getloadavg()
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = run_dbt("build", home, target_path=target)
    build = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU seconds of the dbt process (DuckDB's threads included): less dependent on other jobs than wall time
    build_cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    if not result.ok:
        raise RuntimeError(f"dbt build failed at {intakes} intakes:\n{result.output[-3000:]}")
    nodes = _node_timings(target)
    phase = {kind: round(sum(nodes.get(kind, {}).values()), 1) for kind in ("seed", "model", "test", "unit_test")}
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        marts = {t: con.execute(f"select count(*) from marts.{t}").fetchone()[0] for t in
                 ("fct_intake", "fct_case", "fct_case_event", "mart_unit_monthly", "mart_area_monthly",
                  "mart_intake_daily", "mart_hotspot_weekly")}
    size = (home / "warehouse.duckdb").stat().st_size
    shutil.rmtree(home, ignore_errors=True)
    return {
        "intakes": intakes,
        "load_average_at_start": [round(x, 2) for x in load_before],
        "load_average_at_build": [round(x, 2) for x in load_at_build],
        "core_rows": counts,
        "generate_seconds": round(generated, 1),
        # one `dbt build` process: build = seed + run (models) + test (data and unit tests) + dbt's own start-up
        "dbt_parse_seconds": round(parse, 1),
        "dbt_build_seconds": round(build, 1),
        "dbt_build_cpu_seconds": round(build_cpu, 1),
        "dbt_seed_seconds": phase["seed"],
        "dbt_run_seconds": phase["model"],
        "dbt_test_seconds": round(phase["test"] + phase["unit_test"], 1),
        # dbt's start-up (imports, reading the parsed project) and per-node bookkeeping
        "dbt_overhead_seconds": round(build - phase["seed"] - phase["model"] - phase["test"] - phase["unit_test"], 1),
        "model_seconds": dict(sorted(nodes.get("model", {}).items(), key=lambda kv: -kv[1])),
        "slowest_tests_seconds": dict(sorted(nodes.get("test", {}).items(), key=lambda kv: -kv[1])[:8]),
        "mart_rows": marts,
        "warehouse_bytes": size,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks dbt", description=__doc__)
    parser.add_argument("--intakes", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--workdir", type=Path, default=None, help="scratch folder (default: a temp dir)")
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench_dbt_"))
    runs = []
    for n in args.intakes:
        run = bench_one(n, workdir)
        runs.append(run)
        print(json.dumps(run, ensure_ascii=False))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    previous = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
    by_size = {r["intakes"]: r for r in previous.get("runs", [])}
    by_size.update({r["intakes"]: r for r in runs})
    RESULTS.write_text(json.dumps({
        **{k: v for k, v in previous.items() if k not in ("runs",)},
        "benchmark": "one `dbt build` (seeds, every model, every data and unit test) over synthetic core tables",
        "command": "python -m benchmarks dbt --intakes 1000000 10000000",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "duckdb": duckdb.__version__},
        "target": "10 M intakes <= 180 s",
        "runs": [by_size[k] for k in sorted(by_size)],
    }, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0
