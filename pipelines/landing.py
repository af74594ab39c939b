"""Which file feeds exist and which day each landing file belongs to (for sensors and `gongzhi run`).

The naming rules are the connectors' (one place): 110 `fjwjq_YYYYMMDD[_vN].csv`, petition `xfdj_YYYYMMDD.xlsx`,
hotline `<code>/YYYY-MM-DD.jsonl[.gz]`, and each declarative feed's `connectors/feeds/<channel>.yaml`. A file
whose name cannot be dated is reported by the sensor; the connectors quarantine it when its day is loaded.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Callable


@dataclass(frozen=True)
class LandedFile:
    channel: str
    path: Path
    relative: str  # path relative to the landing folder, e.g. "110/fjwjq_20240305_v2.csv"
    day: date | None  # None: the name follows no naming rule of the feed
    mtime_ns: int
    size: int


@dataclass(frozen=True)
class FileFeed:
    channel: str
    folder: str  # under landing/
    glob: str  # relative to the folder
    day_of: Callable[[str], date | None]  # file name -> delivery day


def _built_in_feeds() -> list[FileFeed]:
    from connectors import feed110, hotline, petition

    def day_110(name: str) -> date | None:
        found = feed110.delivery_day_version(name)
        return found[0] if found else None

    return [
        FileFeed("110", "110", "*", day_110),
        FileFeed("petition", "petition", "*", petition.export_date),
        FileFeed("hotline", "hotline", "*/*", hotline.delivery_day),
    ]


def file_feeds() -> dict[str, FileFeed]:
    """The built-in file feeds and every declarative feed of connectors/feeds/*.yaml, by channel."""
    from connectors import declarative

    feeds = _built_in_feeds()
    feeds += [FileFeed(s.channel, s.landing_dir, s.file_glob, s.day_of) for s in declarative.all_specs()]
    return {f.channel: f for f in feeds}


def landed_files(landing: Path, feed: FileFeed) -> list[LandedFile]:
    root = landing / feed.folder
    if not root.is_dir():
        return []
    files = []
    for path in sorted(root.glob(feed.glob)):
        if not path.is_file() or path.name.startswith("."):
            continue
        stat = path.stat()
        files.append(
            LandedFile(
                channel=feed.channel,
                path=path,
                relative=path.relative_to(landing).as_posix(),
                day=feed.day_of(path.name),
                mtime_ns=stat.st_mtime_ns,
                size=stat.st_size,
            )
        )
    return files


def landed_days(landing: Path, feeds: list[FileFeed] | None = None) -> list[date]:
    """The sorted distinct days of every dated file of the given feeds (default: all file feeds)."""
    feeds = list(file_feeds().values()) if feeds is None else feeds
    return sorted({f.day for feed in feeds for f in landed_files(landing, feed) if f.day is not None})
