"""Public loading API (the orchestration calls exactly these):

* ``load_file_feed(warehouse, landing, channel, *, day=None, pii)`` — every not-yet-loaded delivery of a file feed
  (110, petition, hotline, or a declarative feed from ``connectors/feeds/<channel>.yaml``).
* ``load_12345(warehouse, base_url, token, cursor_store, *, pii)`` — the work-order API from the stored cursor.
* ``load_all(settings)`` — all of them.

A delivery whose bytes (sha256) were loaded before is skipped, so re-running a day changes nothing.
"""
from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Callable

import orjson

from connectors import declarative, feed110, hotline, petition
from connectors.common import WHOLE_DELIVERY, ParsedDelivery, checksum, new_load_id
from connectors.store import DeliveryResult, Warehouse

FILE_CHANNELS = ("110", "petition", "hotline")

# Parsed rows held before they are written in one transaction. Each transaction pays a fixed cost (a dozen
# statements and a join of the batch against the whole current layer), so bigger is faster; this bounds memory
# (a parsed row is roughly 2-3 kB of Python objects).
BATCH_ROWS = 50_000
# 12345 pages are held as fetched (Python objects, ~5 kB a record) until this many records, then mapped to
# Arrow (~1 kB a row); the mapped pages are written in one transaction once BATCH_ROWS_12345 rows wait.
# Fewer, larger transactions: each one's current-layer merge scans the whole current layer.
MAP_ROWS_12345 = 50_000
BATCH_ROWS_12345 = 250_000


@dataclass
class LoadReport:
    """What one load did, for the command line and the orchestration UI."""

    channel: str
    deliveries_found: int = 0
    deliveries_loaded: int = 0
    deliveries_skipped: int = 0  # already loaded (same checksum)
    deliveries_failed: int = 0  # rejected as a whole (see failures)
    rows_in: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_current: int = 0  # rows that became the current version of their intake
    failures: list[str] = field(default_factory=list)
    # Seconds per stage, where a loader measures them (12345: fetch = waiting for and parsing pages, checksum,
    # map = column-wise mapping, write = DuckDB transactions): wall time under the stage's name, CPU time of
    # the thread that ran it under ``<stage>_cpu`` (stages overlap: 12345 writes run on a second thread; DuckDB's
    # own worker threads are in no stage, only in the process total). For benchmarks; not in the summary.
    seconds: dict[str, float] = field(default_factory=dict)

    def timed(self, stage: str, started: tuple[float, float]) -> None:
        wall, cpu = started
        self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - wall
        self.seconds[f"{stage}_cpu"] = self.seconds.get(f"{stage}_cpu", 0.0) + time.thread_time() - cpu

    @property
    def ok(self) -> bool:
        return not self.failures

    def add(self, result: DeliveryResult) -> None:
        self.deliveries_loaded += result.failure is None
        self.deliveries_failed += result.failure is not None
        self.rows_in += result.rows_in
        self.rows_loaded += result.rows_loaded
        self.rows_quarantined += result.rows_quarantined
        self.rows_current += result.became_current
        if result.failure:
            self.failures.append(f"{result.delivery}: {result.failure}")

    def summary(self) -> str:
        return (f"{self.channel:<9} deliveries {self.deliveries_found} (loaded {self.deliveries_loaded}, "
                f"already loaded {self.deliveries_skipped}, failed {self.deliveries_failed}); rows in "
                f"{self.rows_in}, loaded {self.rows_loaded}, quarantined {self.rows_quarantined}, "
                f"now current {self.rows_current}")


@contextlib.contextmanager
def _cyclic_gc_paused():
    """Python's cyclic garbage collector off for the duration of a load, with one full collection after each
    committed batch instead. A load creates millions of short-lived, acyclic objects (parsed records, row
    dicts) that reference counting frees; the collector's passes over them cost more CPU than fetching
    (12345 fetch stage on 171 k versions: 4.9 -> 3.4 CPU s). What little cyclic garbage a load makes (HTTP client objects,
    exceptions) is collected at each batch (``_collect_garbage``), so memory stays bounded. The previous state
    is restored on exit (a load started while the collector is off leaves it off)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _collect_garbage() -> None:
    """After a batch: collect cyclic garbage while few objects are alive (the batch's records are freed)."""
    if not gc.isenabled():
        gc.collect()


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.thread_time()


@dataclass(frozen=True)
class Delivery:
    name: str  # as recorded in the warehouse (`delivery` column)
    path: Path
    day: date | None  # the day the delivery belongs to (file date; petitions: export date); None: unrecognised
    sort_key: tuple


Parser = Callable[[bytes, str, object, str], ParsedDelivery]  # (data, name, pii, load_id)


# ---- finding deliveries ----------------------------------------------------------------------------------

def _deliveries_110(landing: Path) -> list[Delivery]:
    out = []
    for path in sorted((landing / "110").glob("*")):
        if path.is_file():
            dv = feed110.delivery_day_version(path.name)
            day, version = dv if dv else (None, 0)
            out.append(Delivery(path.name, path, day, (day or date.min, version, path.name)))
    return out


def _deliveries_petition(landing: Path) -> list[Delivery]:
    out = []
    for path in sorted((landing / "petition").glob("*")):
        if path.is_file():
            day = petition.export_date(path.name)
            out.append(Delivery(path.name, path, day, (day or date.min, path.name)))
    return out


def _deliveries_hotline(landing: Path) -> list[Delivery]:
    out = []
    for path in sorted((landing / "hotline").glob("*/*")):
        if path.is_file():
            day = hotline.delivery_day(path.name)
            name = f"{path.parent.name}/{path.name}"
            out.append(Delivery(name, path, day, (day or date.min, name)))
    return out


def _find(landing: Path, channel: str) -> tuple[list[Delivery], Parser]:
    if channel == "110":
        return _deliveries_110(landing), lambda data, name, pii, load_id: feed110.parse_110(
            data, name, pii, load_id=load_id)
    if channel == "petition":
        return _deliveries_petition(landing), lambda data, name, pii, load_id: petition.parse_petition(
            data, name, pii, load_id=load_id)
    if channel == "hotline":
        def parse(data, name, pii, load_id):
            return hotline.parse_hotline(data, name, pii, load_id=load_id, expected_hotline=name.split("/")[0])
        return _deliveries_hotline(landing), parse
    spec = declarative.load_spec(channel)  # raises ValueError for an unknown channel
    found = []
    for path in sorted((landing / spec.landing_dir).glob(spec.file_glob)):
        if path.is_file():
            day = spec.day_of(path.name)
            found.append(Delivery(path.name, path, day, (day or date.min, path.name)))
    return found, functools.partial(_parse_declarative, spec)


def _parse_declarative(spec, data, name, pii, load_id):
    return declarative.parse(spec, data, name, pii, load_id=load_id)


# ---- 110 replacement bookkeeping --------------------------------------------------------------------------

def _ok_deliveries(wh: Warehouse, channel: str) -> set[str]:
    """Deliveries loaded and not rejected as a whole."""
    rows = wh.con.execute(
        """
        SELECT l.delivery FROM core.load_log l
        WHERE l.channel = ? AND NOT EXISTS (
            SELECT 1 FROM core.quarantine q
            WHERE q.load_id = l.load_id AND q.position = ?)
        """,
        [channel, WHOLE_DELIVERY],
    ).fetchall()
    return {r[0] for r in rows}


def _replaced_110(names: set[str]) -> set[str]:
    """Of these 110 files, those for whose day a higher version is among them."""
    latest: dict[date, int] = {}
    parsed = {n: feed110.delivery_day_version(n) for n in names}
    for dv in parsed.values():
        if dv:
            latest[dv[0]] = max(latest.get(dv[0], 0), dv[1])
    return {n for n, dv in parsed.items() if dv and dv[1] < latest[dv[0]]}


def _days_110(wh: Warehouse) -> set[date]:
    """Days for which some 110 file has been loaded (whether or not it was rejected)."""
    dvs = (feed110.delivery_day_version(name) for name in wh.loaded_deliveries("110"))
    return {dv[0] for dv in dvs if dv}


def _write_110(wh: Warehouse, delivery: Delivery, data: bytes, cs: str, pii) -> DeliveryResult:
    ok = _ok_deliveries(wh, "110")
    dv = feed110.delivery_day_version(delivery.name)
    earlier, newer_loaded = (), False
    if dv:
        same_day = {n: feed110.delivery_day_version(n) for n in ok}
        earlier = tuple(sorted(n for n, v in same_day.items() if v and v[0] == dv[0] and v[1] < dv[1]))
        newer_loaded = any(v and v[0] == dv[0] and v[1] > dv[1] for v in same_day.values())
    parsed = feed110.parse_110(data, delivery.name, pii, load_id=new_load_id(), earlier_versions=earlier)
    if parsed.failure:  # a rejected correction replaces nothing
        parsed.superseded_deliveries = ()
    return wh.write_delivery(parsed, cs, excluded_deliveries=frozenset(_replaced_110(ok)),
                             to_current=not newer_loaded)


def _unrecognised(channel: str, delivery: Delivery) -> ParsedDelivery:
    parsed = ParsedDelivery(channel, delivery.name, new_load_id())
    parsed.reject("file name does not follow the feed's naming (no day in it); not loaded")
    return parsed


# ---- public API --------------------------------------------------------------------------------------------

def load_file_feed(warehouse: Path, landing: Path, channel: str, *, day: date | None = None, pii) -> LoadReport:
    """Load every not-yet-loaded delivery of ``channel`` from ``landing`` (only ``day``'s when given)."""
    found, parse = _find(Path(landing), channel)
    if day is not None:
        found = [d for d in found if d.day == day]
    found.sort(key=lambda d: d.sort_key)
    report = LoadReport(channel, deliveries_found=len(found))
    if not found:
        return report
    with _cyclic_gc_paused(), Warehouse(warehouse) as wh:
        done = wh.loaded_checksums(channel)
        batch = _Batch(wh, report)
        days_110 = _days_110(wh) if channel == "110" else set()
        try:
            for delivery in found:
                data = delivery.path.read_bytes()
                cs = checksum(data)
                if cs in done:
                    report.deliveries_skipped += 1
                    continue
                if delivery.day is None:
                    batch.add(_unrecognised(channel, delivery), cs)
                elif channel == "110":
                    if feed110.delivery_day_version(delivery.name)[1] > 1 or delivery.day in days_110:
                        # It may replace or be replaced by another file of its day: on its own, after what came
                        # before has committed (it reads which files of its day are loaded).
                        batch.flush()
                        batch.writer.wait()
                        report.add(_write_110(wh, delivery, data, cs, pii))
                    else:  # the first file of its day: nothing to replace, so it goes with the others
                        batch.add(feed110.parse_110(data, delivery.name, pii, load_id=new_load_id()), cs)
                    days_110.add(delivery.day)
                else:
                    batch.add(parse(data, delivery.name, pii, new_load_id()), cs)
                done.add(cs)
                if batch.full:
                    batch.flush()
            batch.flush()
        finally:
            batch.writer.wait()  # never leave the connection to a running writer (re-raises its error)
    return report


class _Batch:
    """Parsed deliveries waiting to be written together (``Warehouse.write_deliveries``), in load order; each
    batch is written on the background writer while the next files are parsed."""

    def __init__(self, wh: Warehouse, report: LoadReport):
        self.wh, self.report = wh, report
        self.items: list[tuple[ParsedDelivery, str]] = []
        self.rows = 0
        self.writer = _BackgroundWriter()

    def add(self, parsed: ParsedDelivery, cs: str) -> None:
        self.items.append((parsed, cs))
        self.rows += parsed.rows_in

    @property
    def full(self) -> bool:
        return self.rows >= BATCH_ROWS

    def flush(self) -> None:
        if self.items:
            items, wh, report = self.items, self.wh, self.report

            def write() -> None:
                for result in wh.write_deliveries(items):
                    report.add(result)

            self.writer.submit(write)
            self.items, self.rows = [], 0
            _collect_garbage()


def _page_checksum(records: list) -> str:
    """Identity of a page's records (not of the HTTP body, whose total and page_no change between polls): the
    SHA-256 of the records written by orjson in their delivered key order (a server serves the same record with
    the same bytes; sorting the keys cost 3.5 of the 7 CPU us per record this took, BLAKE2b another 1 over
    SHA-256)."""
    try:
        data = orjson.dumps(records)
    except (TypeError, orjson.JSONEncodeError):  # a value orjson cannot write (an integer beyond 64 bits)
        data = json.dumps(records, ensure_ascii=False, default=str).encode()
    return hashlib.sha256(data).hexdigest()


class _BackgroundWriter:
    """Runs write tasks one at a time on a second thread, so that DuckDB (which releases the GIL) writes one
    batch while the main thread fetches and maps the next: the 12345 load uses both cores. At most one task runs
    and none waits: ``submit`` first waits for the running one, so memory stays bounded by two batches, tasks run
    in submission order, and a task's failure is raised in the main thread at the next ``submit`` or ``wait``
    (after which no further task runs). Used by the file feeds' batches too."""

    def __init__(self):
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def _run(self, task: Callable[[], None]) -> None:
        try:
            task()
        except BaseException as exc:  # handed to the main thread
            self._error = exc

    def wait(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def submit(self, task: Callable[[], None]) -> None:
        self.wait()
        self._thread = threading.Thread(target=self._run, args=(task,), name="gongzhi-load-writer")
        self._thread.start()


class _PageBatch:
    """Fetched 12345 pages: mapped column-wise ``MAP_ROWS_12345`` records at a time, written in one transaction
    ``BATCH_ROWS_12345`` rows at a time on the background writer (``commit``); the cursor is stored by the same
    task right after its transaction commits."""

    def __init__(self, wh: Warehouse, report: LoadReport, pii, cursor_store):
        self.wh, self.report, self.pii, self.cursor_store = wh, report, pii, cursor_store
        self.pages: list[tuple[list, str, str]] = []  # fetched, not yet mapped
        self.checksums: list[str] = []
        self.rows = 0
        self.mapped: list[tuple[ParsedDelivery, str]] = []
        self.mapped_rows = 0
        self.writer = _BackgroundWriter()

    def add(self, records: list, delivery: str, cs: str) -> None:
        self.pages.append((records, delivery, new_load_id()))
        self.checksums.append(cs)
        self.rows += len(records)
        if self.rows >= min(MAP_ROWS_12345, BATCH_ROWS_12345):
            self._map()

    def _map(self) -> None:
        if self.pages:
            from connectors import api12345

            started = _clock()
            parsed = api12345.map_pages(self.pages, self.pii)
            self.report.timed("map", started)
            self.mapped.extend(zip(parsed, self.checksums))
            self.mapped_rows += self.rows
            self.pages, self.checksums, self.rows = [], [], 0

    @property
    def full(self) -> bool:
        return self.mapped_rows + self.rows >= BATCH_ROWS_12345

    def commit(self, cursor_after) -> None:
        """Map what waits, then write it and store ``cursor_after`` (when not None) on the writer thread."""
        self._map()
        mapped, self.mapped, self.mapped_rows = self.mapped, [], 0
        wh, report, cursor_store = self.wh, self.report, self.cursor_store

        def write() -> None:
            if mapped:
                started = _clock()
                results = wh.write_deliveries(mapped)
                report.timed("write", started)
                for result in results:
                    report.add(result)
            if cursor_after is not None:
                cursor_store.set(cursor_after)

        self.writer.submit(write)
        _collect_garbage()  # the mapped pages just handed over were the bulk of what is alive


def load_12345(warehouse: Path, base_url: str, token: str, cursor_store, *, pii) -> LoadReport:
    """Fetch work orders changed since the stored cursor, page by page: each page is one delivery. Pages are
    mapped and committed together, ``BATCH_ROWS_12345`` rows at a time, and only then does the cursor advance past
    them (a crash in between re-fetches those pages; their checksums skip them). A batch is written on a second
    thread while the next one is fetched and mapped."""
    from connectors import api12345  # the HTTP client: imported here so file loads never need it

    report = LoadReport("12345")
    with _cyclic_gc_paused(), Warehouse(warehouse) as wh:
        done = wh.loaded_checksums("12345")
        batch = _PageBatch(wh, report, pii, cursor_store)
        cursor_after = None  # of the last page seen: stored only once every page up to it is committed
        try:
            pages = api12345.fetch_work_orders(base_url, token, cursor_store.get())
            while True:
                started = _clock()
                try:
                    page = next(pages)
                except StopIteration:
                    break
                except BaseException:  # the API gave up: the pages fetched so far are good, keep them
                    batch.commit(cursor_after)
                    batch.writer.wait()
                    raise
                finally:
                    report.timed("fetch", started)
                report.deliveries_found += 1
                started = _clock()
                cs = _page_checksum(page.records)
                report.timed("checksum", started)
                if cs in done:
                    report.deliveries_skipped += 1
                else:
                    batch.add(page.records, page.delivery, cs)
                    done.add(cs)
                if page.cursor_after is not None:
                    cursor_after = page.cursor_after
                if batch.full:
                    batch.commit(cursor_after)
            batch.commit(cursor_after)
        finally:
            batch.writer.wait()  # never leave the connection to a running writer (re-raises its error)
    return report


def load_all(settings) -> list[LoadReport]:
    """Every file feed (and every declarative feed whose landing folder exists), then the 12345 API."""
    from connectors.api12345 import CursorStore
    from connectors.pii import PiiHasher

    pii = PiiHasher(settings.pii_key)
    reports = [load_file_feed(settings.warehouse, settings.landing, ch, pii=pii) for ch in FILE_CHANNELS]
    for spec in declarative.all_specs():
        if (settings.landing / spec.landing_dir).is_dir():
            reports.append(load_file_feed(settings.warehouse, settings.landing, spec.channel, pii=pii))
    cursor = CursorStore(settings.cursor_12345)
    reports.append(load_12345(settings.warehouse, settings.api_12345_url, settings.api_12345_token, cursor,
                              pii=pii))
    return reports
