"""Simulator speed and memory: `python -m benchmarks simulator --intakes 1000000 [--days 365] [--workers 2]`.

The 10 M run (docs/simulator.md): `python -m benchmarks simulator --intakes 10000000 --days 365 --workers 2
--compact-12345 --pages 0`; the speed yardstick of a session: the same flags with `--intakes 191800 --days 7`.
The same on another interpreter (e.g. Debian's PGO/LTO build): build a venv on it from the lock file,
`UV_PROJECT_ENVIRONMENT=DIR .tools/bin/uv sync --frozen --group bench --python /usr/bin/python3.11`, then
`DIR/bin/python -m benchmarks simulator ...`.

Simulates into a temporary directory (deleted afterwards unless --keep), measures wall time, peak RSS of this
process and its children, output bytes, and writes `benchmarks/results/simulator.json`.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from benchmarks.machine import speed_probe_ms
from gongzhi.compiled import compiled_modules

RESULTS = Path(__file__).parent / "results" / "simulator.json"


def _peak_rss_mb() -> dict[str, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"self": round(own, 1), "children_max": round(children, 1)}


def _cpu_seconds() -> float:
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def _python_build() -> str:
    """Whether the interpreter runs from a shared libpython (as pyenv builds it by default, without PGO or LTO) or a
    static one (e.g. Debian's /usr/bin/python3.11, built with PGO and LTO, which its sysconfig does not show): the
    same simulation measured 7-10 % fewer CPU seconds with 2 workers on the latter (docs/simulator.md, eighth
    session)."""
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return "unknown"
    return "shared libpython" if "libpython" in maps else "static libpython"


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              cwd=Path(__file__).parent, check=False).stdout.strip()
    except OSError:
        return ""


def same_kind_nearby_share(incidents: list[dict], radius_m: float = 150.0, hours: float = 72.0,
                           skip_repeat_chains: bool = False) -> float:
    """Share of truth incidents with another incident of the same kind within `radius_m` (true points) whose first
    reports are at most `hours` apart: the pairs no report could tell apart (docs/dedupe.md's diagnosis)."""
    from simulator.geography import M_PER_DEG_LAT, M_PER_DEG_LON

    parent = {r["incident_id"]: r["repeat_of_incident_id"] for r in incidents}

    def chain(i: str) -> str:
        while parent.get(i):
            i = parent[i]
        return i

    cell_lon, cell_lat = radius_m / M_PER_DEG_LON, radius_m / M_PER_DEG_LAT
    grid: dict[tuple, list] = {}
    for r in incidents:
        key = (r["kind_code"], int(r["lon"] // cell_lon), int(r["lat"] // cell_lat))
        grid.setdefault(key, []).append(r)
    window = hours * 3600
    hit = 0
    for r in incidents:
        kind, cx, cy = r["kind_code"], int(r["lon"] // cell_lon), int(r["lat"] // cell_lat)
        mine = chain(r["incident_id"]) if skip_repeat_chains else None
        found = False
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                for o in grid.get((kind, cx + dx, cy + dy), ()):
                    if o is r or abs((o["first_received_at"] - r["first_received_at"]).total_seconds()) > window:
                        continue
                    if skip_repeat_chains and chain(o["incident_id"]) == mine:
                        continue
                    ex, ey = (o["lon"] - r["lon"]) * M_PER_DEG_LON, (o["lat"] - r["lat"]) * M_PER_DEG_LAT
                    if ex * ex + ey * ey <= radius_m * radius_m:
                        found = True
                        break
                if found:
                    break
            if found:
                break
        hit += found
    return hit / len(incidents) if incidents else 0.0


def truth_figures(truth_dir: Path) -> dict:
    """Repeat share and the same-kind-nearby shares of one simulated truth."""
    import pyarrow.parquet as pq

    incidents = pq.read_table(truth_dir / "incidents.parquet").to_pylist()
    intakes = pq.read_table(truth_dir / "intakes.parquet", columns=["is_lead", "link_type"]).to_pylist()
    non_lead = sum(1 for i in intakes if not i["is_lead"] or i["link_type"] == "repeat")
    return {
        "incidents": len(incidents), "intakes": len(intakes), "repeat_share": round(non_lead / len(intakes), 4),
        "same_kind_within_150m_72h": round(same_kind_nearby_share(incidents, 150, 72), 4),
        "same_kind_within_150m_72h_outside_repeat_chains": round(
            same_kind_nearby_share(incidents, 150, 72, skip_repeat_chains=True), 4),
        "same_kind_within_150m_7d": round(same_kind_nearby_share(incidents, 150, 168), 4),
        "same_kind_within_300m_72h": round(same_kind_nearby_share(incidents, 300, 72), 4),
    }


def _truth_main(argv: list[str]) -> int:
    """`python -m benchmarks simulator truth [--truth DIR --label L]`: the placement figures of a month (30 days x
    1000/day, seed 20240301) into the `placement` section of the results; --truth measures an existing truth dir."""
    from simulator import SimulationConfig, simulate

    p = argparse.ArgumentParser(prog="python -m benchmarks simulator truth")
    p.add_argument("--truth", type=Path, default=None)
    p.add_argument("--label", default="current")
    args = p.parse_args(argv)
    figures: dict = {"label": args.label, "commit": _commit()}
    if args.truth:
        figures.update(truth_figures(args.truth))
    else:
        out = Path(tempfile.mkdtemp(prefix="gongzhi-sim-"))
        try:
            summary = simulate(SimulationConfig(start=date(2024, 3, 1), days=30, per_day=1000, seed=20240301),
                               out / "landing", out / "truth", workers=2)
            figures.update(truth_figures(out / "truth"))
            figures["placement"] = summary.placement
        finally:
            shutil.rmtree(out, ignore_errors=True)
    runs = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"runs": []}
    runs.setdefault("placement", {})[args.label] = figures
    RESULTS.write_text(json.dumps(runs, ensure_ascii=False, indent=1) + "\n")
    print(json.dumps(figures, ensure_ascii=False, indent=1))
    return 0


def _page_cost(store_dir: Path, pages: int) -> dict:
    """What the 12345 server pays: indexing the store once, then reading pages of 500 records (spread evenly over
    the store; delta lines expanded) — the part of a request that depends on the store."""
    import random

    from simulator.server12345 import VersionStore

    t0 = time.perf_counter()
    store = VersionStore(store_dir)
    index_s = time.perf_counter() - t0
    rnd = random.Random(1)
    starts = sorted(rnd.randrange(max(1, len(store) - 500)) for _ in range(pages))
    t0 = time.perf_counter()
    served = sum(len(b"".join(store.read(s, s + 500))) for s in starts)
    per_page = (time.perf_counter() - t0) / max(1, pages)
    return {"versions": len(store), "index_seconds": round(index_s, 2), "pages_read": pages,
            "ms_per_page_of_500": round(per_page * 1000, 2), "bytes_per_page": served // max(1, pages)}


def main(argv: list[str]) -> int:
    from simulator import SimulationConfig, simulate

    if argv[:1] == ["truth"]:
        return _truth_main(argv[1:])
    p = argparse.ArgumentParser(prog="python -m benchmarks simulator")
    p.add_argument("--intakes", type=int, default=1_000_000)
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    p.add_argument("--dir", type=Path, default=None, help="parent of the temporary output directory")
    p.add_argument("--keep", action="store_true")
    p.add_argument("--note", default="")
    p.add_argument("--compact-12345", action="store_true", help="write the 12345 order store (each order once)")
    p.add_argument("--pages", type=int, default=20,
                   help="pages of 500 records read from the store afterwards (0: do not index the store)")
    args = p.parse_args(argv)
    per_day = max(1, round(args.intakes / args.days))
    out = Path(tempfile.mkdtemp(prefix="gongzhi-sim-", dir=args.dir))
    load, commit = os.getloadavg(), _commit()  # the code that runs, read before a long run
    probe_before = speed_probe_ms()
    cpu0, t0 = _cpu_seconds(), time.perf_counter()
    try:
        summary = simulate(SimulationConfig(start=date(2024, 1, 1), days=args.days, per_day=per_day,
                                            compact_12345=args.compact_12345),
                           out / "landing", out / "truth", workers=args.workers)
        wall = time.perf_counter() - t0
        cpu = _cpu_seconds() - cpu0
        rss_after_simulate = _peak_rss_mb()
        serving = _page_cost(out / "landing" / "12345", args.pages) if args.pages else None
        sizes = {}
        for sub in ("landing/12345", "landing/110", "landing/petition", "landing/hotline", "truth"):
            sizes[sub] = sum(f.stat().st_size for f in (out / sub).rglob("*") if f.is_file())
    finally:
        if not args.keep:
            shutil.rmtree(out, ignore_errors=True)
    result = {
        "intakes_requested": args.intakes, "intakes": summary.intakes, "days": args.days, "per_day": per_day,
        "workers": args.workers, "incidents": summary.incidents, "repeat_share": round(summary.repeat_share, 4),
        "malformed": summary.malformed, "wall_seconds": round(wall, 1), "cpu_seconds": round(cpu, 1),
        "cpu_ms_per_intake": round(cpu / max(1, summary.intakes) * 1000, 3),
        "phase_wall_seconds": summary.seconds, "strand_cpu_seconds": summary.strand_cpu_seconds,
        "intakes_per_second": round(summary.intakes / wall), "peak_rss_mb": rss_after_simulate,
        "peak_vmhwm_mb": summary.peak_rss_mb,
        "compact_12345": args.compact_12345, "placement": summary.placement,
        "crowded_share": round(summary.placement.get("crowded", 0) / max(1, summary.incidents), 4),
        "serving_12345": serving,
        "output_bytes": sizes, "output_bytes_total": sum(sizes.values()), "loadavg_before": load,
        "loadavg_after": os.getloadavg(), "speed_probe_ms": [probe_before, speed_probe_ms()],
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "python_executable": sys.executable,
                    "python_build": _python_build(),
                    # the modules that ran as compiled extensions (gongzhi/compiled.py; none: plain Python)
                    "compiled": compiled_modules("simulator")}, "commit": commit,
        "note": args.note or "machine shared with other helpers' processes: wall time includes CPU contention",
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    runs = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    runs = runs if isinstance(runs, dict) and "runs" in runs else {"runs": []}
    runs["runs"].append(result)
    RESULTS.write_text(json.dumps(runs, ensure_ascii=False, indent=1) + "\n")
    print(json.dumps(result, ensure_ascii=False, indent=1))
    return 0
