"""Run a benchmark on demand: `python -m benchmarks <area> [options]` (or `make bench BENCH="<area> ..."`).

Each area is a module `benchmarks/bench_<area>.py` with `main(argv) -> int`; results are written as JSON
under `benchmarks/results/<area>.json`. Benchmarks never run as part of `make test`.
"""
from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def available() -> list[str]:
    here = Path(__file__).parent
    return sorted(m.name[len("bench_"):] for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in available():
        print("usage: python -m benchmarks <area> [options]\nareas: " + ", ".join(available()))
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    module = importlib.import_module(f"benchmarks.bench_{argv[0]}")
    return int(module.main(argv[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
