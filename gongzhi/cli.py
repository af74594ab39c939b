"""`gongzhi` command line: one entry point, each subcommand owned by the package that does the work.

Subcommand modules are imported lazily so that `gongzhi simulate` does not pay for importing Dagster.
"""
from __future__ import annotations

import importlib
import sys

# subcommand -> (module, function taking argv, one-line help)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "simulate": ("simulator.cli", "simulate_main", "write simulated feeds and their ground truth"),
    "serve-12345": ("simulator.server12345", "serve_main", "serve simulated 12345 work orders over HTTP"),
    "load": ("connectors.cli", "load_main", "load landing files and the 12345 API into the warehouse"),
    "match": ("dedupe.cli", "match_main", "merge intakes into cases"),
    "evaluate-matching": ("dedupe.cli", "evaluate_main", "compare cases with the simulator's truth"),
    "export": ("warehouse.cli", "export_main", "export the marts as parquet"),
    "run": ("pipelines.cli", "run_main", "materialise every asset in-process"),
    "demo": ("pipelines.cli", "demo_main", "simulate a month, serve 12345, run everything, summarise"),
}


def usage() -> str:
    lines = ["usage: gongzhi <command> [options]", "", "commands:"]
    lines += [f"  {name:<18} {help_}" for name, (_, _, help_) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"gongzhi: unknown command {name!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module, func, _ = COMMANDS[name]
    return int(getattr(importlib.import_module(module), func)(rest) or 0)


if __name__ == "__main__":
    sys.exit(main())
