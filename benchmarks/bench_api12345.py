"""Benchmark of the 12345 side: index the simulator's work-order versions, serve them over HTTP, fetch them all
by cursor, map them to intake rows. `python -m benchmarks api12345 [--days N --per-day N | --landing DIR]`.

Client and server run in one process (the server in a thread), as in the tests: figures are for both together
on this machine's 2 shared cores.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "api12345.json"
TOKEN = "bench-token"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks api12345")
    parser.add_argument("--landing", type=Path, help="an existing landing/12345 folder (else simulate one)")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--per-day", type=int, default=3000)
    parser.add_argument("--page-size", type=int, default=500)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    from connectors.api12345 import fetch_work_orders, map_pages
    from connectors.pii import PiiHasher
    from simulator.server12345 import start_server

    # The machine is shared: the load average says how much of it this run had.
    result: dict = {"machine": platform.platform(), "cpus": os.cpu_count(), "page_size": args.page_size,
                    "load_average_at_start": round(os.getloadavg()[0], 2)}
    landing = args.landing
    if landing is None:
        from simulator.cli import simulate_main

        home = Path(tempfile.mkdtemp(prefix="bench_api12345_"))
        t0 = time.perf_counter()
        simulate_main(["--days", str(args.days), "--per-day", str(args.per_day), "--home", str(home)])
        result.update(simulated_days=args.days, simulated_per_day=args.per_day,
                      simulate_seconds=round(time.perf_counter() - t0, 2))
        landing = home / "landing" / "12345"
    result["landing"] = str(landing)
    result["landing_bytes"] = sum(p.stat().st_size for p in landing.glob("work_orders_*.jsonl"))

    t0 = time.perf_counter()
    server = start_server(landing, token=TOKEN)
    result["index_seconds"] = round(time.perf_counter() - t0, 2)
    result["versions"] = len(server.store)
    try:
        t0 = time.perf_counter()
        pages = 0
        fetched = 0
        for page in fetch_work_orders(server.url, TOKEN, None, page_size=args.page_size):
            pages += 1
            fetched += len(page.records)
        fetch_seconds = time.perf_counter() - t0
        result.update(fetched=fetched, requests=server.requests, fetch_seconds=round(fetch_seconds, 2),
                      fetch_versions_per_second=round(fetched / fetch_seconds))

        pii = PiiHasher("bench-key")
        t0 = time.perf_counter()
        mapped = quarantined = 0
        waiting: list = []

        def map_waiting() -> tuple[int, int]:
            parsed = map_pages(waiting, pii)  # column-wise, as load_12345 does (100 pages at a time)
            waiting.clear()
            return sum(p.row_table.num_rows for p in parsed), sum(len(p.quarantine) for p in parsed)

        for page in fetch_work_orders(server.url, TOKEN, None, page_size=args.page_size):
            waiting.append((page.records, page.delivery, "bench"))
            if len(waiting) >= 100:
                m, q = map_waiting()
                mapped, quarantined = mapped + m, quarantined + q
        m, q = map_waiting()
        mapped, quarantined = mapped + m, quarantined + q
        total_seconds = time.perf_counter() - t0
        result.update(mapped=mapped, quarantined=quarantined, fetch_and_map_seconds=round(total_seconds, 2),
                      fetch_and_map_versions_per_second=round((mapped + quarantined) / total_seconds))
    finally:
        server.stop()
    result["load_average_at_end"] = round(os.getloadavg()[0], 2)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0
