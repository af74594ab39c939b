"""Which day each landing file belongs to, so sensors and `gongzhi run` know which partitions to run.

File names follow ../shared/feeds/README.md: 110/fjwjq_YYYYMMDD[_vN].csv, petition/xfdj_YYYYMMDD.xlsx,
hotline/<code>/YYYY-MM-DD.jsonl[.gz]. Files that match no pattern are reported, never silently skipped:
the connectors quarantine what they cannot read, but a file the orchestrator cannot date would never be run.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from pipelines.settings import FILE_FEEDS

_PATTERNS: dict[str, tuple[re.Pattern[str], str]] = {
    "110": (re.compile(r"^fjwjq_(\d{8})(?:_v\d+)?\.csv$", re.IGNORECASE), "%Y%m%d"),
    "petition": (re.compile(r"^xfdj_(\d{8})\.xlsx$", re.IGNORECASE), "%Y%m%d"),
    "hotline": (re.compile(r"^(\d{4}-\d{2}-\d{2})\.jsonl(?:\.gz)?$", re.IGNORECASE), "%Y-%m-%d"),
}


@dataclass(frozen=True)
class LandedFile:
    channel: str
    path: Path
    relative: str  # path relative to the landing folder, e.g. "110/fjwjq_20240305_v2.csv"
    day: date | None  # None: the name matches no pattern of the spec
    mtime_ns: int
    size: int


def file_day(channel: str, name: str) -> date | None:
    pattern, fmt = _PATTERNS[channel]
    match = pattern.match(name)
    if not match:
        return None
    try:
        return datetime.strptime(match.group(1), fmt).date()
    except ValueError:  # e.g. fjwjq_20240231.csv
        return None


def landed_files(landing: Path, channel: str) -> list[LandedFile]:
    """Every regular file under landing/<channel>/ (recursively: hotline has one folder per code), sorted."""
    if channel not in _PATTERNS:
        raise ValueError(f"unknown file feed {channel!r}; known: {', '.join(FILE_FEEDS)}")
    root = landing / channel
    if not root.is_dir():
        return []
    files = []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        stat = path.stat()
        files.append(
            LandedFile(
                channel=channel,
                path=path,
                relative=path.relative_to(landing).as_posix(),
                day=file_day(channel, path.name),
                mtime_ns=stat.st_mtime_ns,
                size=stat.st_size,
            )
        )
    return files


def landed_days(landing: Path, channels: tuple[str, ...] = FILE_FEEDS) -> list[date]:
    """The sorted distinct days of every dated file of the given feeds."""
    return sorted({f.day for ch in channels for f in landed_files(landing, ch) if f.day is not None})
