"""`gongzhi export`: export the marts of $GONGZHI_HOME/warehouse.duckdb as parquet under $GONGZHI_HOME/exports."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gongzhi import settings as settings_module
from warehouse.export import ExportError, export_marts, verify_manifest


def export_main(argv: list[str]) -> int:
    settings = settings_module.load()
    parser = argparse.ArgumentParser(prog="gongzhi export", description=__doc__)
    parser.add_argument("--warehouse", type=Path, default=settings.warehouse, help="DuckDB file (default: %(default)s)")
    parser.add_argument("--exports", type=Path, default=settings.exports, help="output folder (default: %(default)s)")
    parser.add_argument("--verify", action="store_true", help="only check the current export against its manifest")
    args = parser.parse_args(argv)
    if args.verify:
        problems = verify_manifest(args.exports)
        for problem in problems:
            print(f"export: {problem}", file=sys.stderr)
        print("export: manifest verified" if not problems else f"export: {len(problems)} problem(s)")
        return 1 if problems else 0
    try:
        manifest = export_marts(args.warehouse, args.exports)
    except ExportError as exc:
        print(f"gongzhi export: {exc}", file=sys.stderr)
        return 1
    for table in manifest.tables:
        print(f"{table.name:<22} {table.rows:>10} rows  {len(table.partitions):>3} file(s)")
    print(f"export {manifest.run_id}: {manifest.total_rows} rows in {manifest.partition_count} files -> {args.exports}")
    return 0
