"""`gongzhi load [--channel CH ...] [--day YYYY-MM-DD]`: load landing files and the 12345 API, print a summary.

Exit status 1 when any delivery failed (rejected as a whole) or a source could not be reached.
"""
from __future__ import annotations

import argparse
import sys
from datetime import date

from gongzhi import settings as settings_mod


def load_main(argv: list[str]) -> int:
    from connectors import declarative, load

    known = list(load.FILE_CHANNELS) + [s.channel for s in declarative.all_specs()] + ["12345"]
    parser = argparse.ArgumentParser(prog="gongzhi load", description=__doc__.splitlines()[0])
    parser.add_argument("--channel", action="append", choices=known,
                        help="load only this channel (repeatable); default: every file feed and 12345")
    parser.add_argument("--day", type=date.fromisoformat,
                        help="only deliveries of this day (petitions: the export date); not for 12345")
    args = parser.parse_args(argv)

    settings = settings_mod.load()
    settings_mod.warn_if_dev_key(settings)
    from connectors.pii import PiiHasher

    pii = PiiHasher(settings.pii_key)
    # Default: every file feed (declarative ones when their landing folder exists), then 12345 unless --day
    # was given (the API loads from its cursor, not by day).
    channels = args.channel or [c for c in known if c != "12345" and (
        c in load.FILE_CHANNELS or (settings.landing / declarative.load_spec(c).landing_dir).is_dir())] + (
        [] if args.day else ["12345"])
    reports, exit_code = [], 0
    for channel in channels:
        try:
            if channel == "12345":
                if args.day is not None:
                    print("gongzhi load: --day does not apply to 12345 (it loads from its cursor)", file=sys.stderr)
                from connectors.api12345 import CursorStore

                report = load.load_12345(settings.warehouse, settings.api_12345_url, settings.api_12345_token,
                                         CursorStore(settings.cursor_12345), pii=pii)
            else:
                report = load.load_file_feed(settings.warehouse, settings.landing, channel, day=args.day, pii=pii)
        except Exception as err:  # a source down must not hide what the other channels did
            print(f"{channel:<9} FAILED: {type(err).__name__}: {err}", file=sys.stderr)
            exit_code = 1
            continue
        reports.append(report)
        print(report.summary())
        for failure in report.failures:
            print(f"  FAILED delivery {failure}", file=sys.stderr)
        if not report.ok:
            exit_code = 1
    return exit_code
