"""`gongzhi serve-12345`: the simulated 12345 work-order API, with faults that tests and the CLI can inject.

Serves ``$GONGZHI_HOME/landing/12345/work_orders_*.jsonl`` (written by the simulator: one line per VERSION of a
work order) exactly as ``shared/feeds/README.md`` describes::

    GET /api/v2/work-orders?updated_after=<ISO time>&page_no=1&page_size=200
    Authorization: Bearer <token>
    -> {"code": 0, "msg": "ok", "data": {"total", "page_no", "page_size", "records": [...]}}

What the server guarantees (and what a client may rely on):

* Records are ordered by ``gxsj`` ascending, then ``gdbh``, then by their place in the landing files.
  ``updated_after`` is exclusive; ``total`` counts every record after it that is visible now.
* Every version is served: the store is a change log, equivalent to having polled at each change. A version
  never disappears and new versions only appear with a later ``gxsj`` (the clock ``as_of`` advances), so
  ``page_no`` paging over a fixed ``updated_after`` is stable as long as ``as_of`` does not move between pages.
  A client that polls while the clock moves should page by cursor (``updated_after`` = the last ``gxsj`` seen,
  re-reading ties) — which is what ``connectors.api12345`` does.
* ``as_of`` (optional) hides versions whose ``gxsj`` is later: tests advance it to simulate polls over time.
* Bad token -> HTTP 401; bad parameters -> HTTP 400 with a non-zero ``code``; unknown path -> 404.

Faults (``Faults``) apply to authorised API requests only: ``code`` (HTTP 200 with ``{"code": 5003, "msg":
"系统繁忙", "data": null}``), ``429`` (with ``Retry-After``), ``500``/``502``/``503``, ``drop`` (connection closed
without a response), ``truncate`` (the body cut off half-way), ``slow`` (the answer delayed). Each can be given
as a probability, as "every n-th request", or as a one-off script consumed first.

Order stores (``gongzhi simulate --compact-12345``): a line may be an *order line* (``simulator/store12345.py``):
the order's head and its event plan, with each version's ``gxsj`` in ``@t``. The server indexes one entry per
version from ``@t`` and renders version k when a page needs it (``store12345.version_of_order_line``, the same
function that writes a plain store), so the pages are byte for byte what a plain store of the same run serves.
A store may mix order lines and plain lines.

Large stores: versions are indexed once into sorted numpy arrays (sort key, file, byte offset, length, version
of an order line); a request binary-searches its range and reads only its page's lines from disk.
"""
from __future__ import annotations

import argparse
import json
import random
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np

from simulator.store12345 import ORDER_MARK, version_of_order_line

API_PATH = "/api/v2/work-orders"
MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 200
DEFAULT_PORT = 8345
FILE_GLOB = "work_orders_*.jsonl"
BUSY_CODE, BUSY_MSG = 5003, "系统繁忙"
BAD_PARAM_CODE = 4001
FAULT_KINDS = ("code", "429", "500", "502", "503", "drop", "truncate", "slow")

_CST = timezone(timedelta(hours=8))
_EPOCH = datetime(1970, 1, 1)
_GXSJ_FORMAT = "%Y-%m-%d %H:%M:%S"


# -- time handling ------------------------------------------------------------------------------------------------

def parse_cst(value: object) -> datetime | None:
    """A time as the API and its clients write it -> naive CST; None when it is not a time.

    Accepts ``YYYY-MM-DD HH:MM:SS`` (the records' own form), ISO 8601 with or without offset, and dates."""
    if isinstance(value, datetime):
        return value.astimezone(_CST).replace(tzinfo=None) if value.tzinfo else value
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.astimezone(_CST).replace(tzinfo=None) if parsed.tzinfo else parsed


def _seconds(dt: datetime) -> int:
    return int((dt - _EPOCH).total_seconds())


# -- faults -------------------------------------------------------------------------------------------------------

@dataclass
class Faults:
    """What goes wrong, and how often. ``rates``: kind -> probability per request; ``every``: kind -> n (every
    n-th request gets it); ``script``: kinds applied to the next requests in order (``"ok"`` for none)."""

    rates: dict[str, float] = field(default_factory=dict)
    every: dict[str, int] = field(default_factory=dict)
    script: list[str] = field(default_factory=list)
    retry_after: int = 1  # seconds, sent with 429
    slow_seconds: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        for kind in [*self.rates, *self.every, *(k for k in self.script if k != "ok")]:
            if kind not in FAULT_KINDS:
                raise ValueError(f"unknown fault {kind!r}; expected one of {', '.join(FAULT_KINDS)}")
        for kind, n in self.every.items():
            if n < 1:
                raise ValueError(f"fault every {n} for {kind!r}: n must be >= 1")
        self._random = random.Random(self.seed)
        self._script = list(self.script)

    def next_fault(self, request_no: int) -> str | None:
        """The fault for the request numbered ``request_no`` (1-based), or None. Call under the server's lock."""
        if self._script:
            kind = self._script.pop(0)
            return None if kind == "ok" else kind
        for kind, n in self.every.items():
            if request_no % n == 0:
                return kind
        for kind, p in self.rates.items():
            if self._random.random() < p:
                return kind
        return None



# -- the version store --------------------------------------------------------------------------------------------

class VersionStore:
    """Every work-order version in the landing folder, sorted by (gxsj, gdbh, file order), read lazily.

    Lines that are not JSON objects are counted in ``unservable_lines`` and not served: an API cannot put
    invalid JSON inside its JSON answer. ``refresh()`` indexes files added since the last call.
    """

    def __init__(self, landing_dir: Path):
        self.landing_dir = Path(landing_dir)
        self._files: list[Path] = []
        self._indexed: dict[str, int] = {}  # file name -> bytes indexed
        self.unservable_lines = 0
        self._keys = np.empty(0, dtype=np.int64)  # gxsj as seconds since 1970 (CST)
        self._file_no = np.empty(0, dtype=np.int32)
        self._offset = np.empty(0, dtype=np.int64)
        self._length = np.empty(0, dtype=np.int32)
        self._gdbh = np.empty(0, dtype=np.bytes_)  # tie-break key, kept to merge files added later
        self._version = np.empty(0, dtype=np.int16)  # k of an order line's version k; -1: the line is a version
        self._dir_mtime: int | None = None
        self.refresh()

    def __len__(self) -> int:
        return len(self._keys)

    def refresh(self) -> bool:
        """Index new files; True when anything changed. Cheap when the folder has not changed."""
        try:
            mtime = self.landing_dir.stat().st_mtime_ns
        except FileNotFoundError:
            return False
        if mtime == self._dir_mtime:
            return False
        self._dir_mtime = mtime
        new = [p for p in sorted(self.landing_dir.glob(FILE_GLOB)) if p.name not in self._indexed]
        if not new:
            return False
        # Per-file numpy columns, concatenated once: Python lists for millions of versions would cost GBs.
        columns = [[self._keys], [self._gdbh], [self._file_no], [self._offset], [self._length], [self._version]]
        previous_key = int(self._keys[-1]) if len(self._keys) else 0
        for path in new:
            file_no = len(self._files)
            self._files.append(path)
            size, file_columns, previous_key = self._index_file(path, file_no, previous_key)
            self._indexed[path.name] = size
            for column, part in zip(columns, file_columns):
                column.append(part)
        keys, gdbhs, file_nos, offsets, lengths, versions = (np.concatenate(c) for c in columns)
        # np.lexsort sorts by the LAST key first: gxsj, then gdbh, then file and line order, then version.
        order = np.lexsort((versions, offsets, file_nos, gdbhs, keys))
        self._keys, self._gdbh, self._file_no = keys[order], gdbhs[order], file_nos[order]
        self._offset, self._length, self._version = offsets[order], lengths[order], versions[order]
        return True

    def _index_file(self, path: Path, file_no: int, previous_key: int):
        """Index one file: the fast columnar path when every line is a well-formed version, else line by line."""
        fast = _index_file_columnar(path, file_no, previous_key)
        if fast is not None:
            return fast
        return self._index_file_by_line(path, file_no, previous_key)

    def _index_file_by_line(self, path: Path, file_no: int, previous_key: int):
        keys, gdbhs, offsets, lengths = [], [], [], []
        order_entries = []  # (gdbh, offset, length, version times) of order lines
        offset = 0
        with open(path, "rb") as f:
            for line in f:
                body = line.rstrip(b"\r\n")
                record = None
                if body.strip():
                    try:
                        record = json.loads(body)
                    except ValueError:
                        record = None
                    if not isinstance(record, dict):
                        self.unservable_lines += 1
                        record = None
                if record is not None and ORDER_MARK in record:
                    times = record[ORDER_MARK]
                    if isinstance(times, list) and all(type(t) is int for t in times):
                        order_entries.append((str(record.get("gdbh") or "").encode("utf-8"), offset, len(body),
                                              times))
                    else:
                        self.unservable_lines += 1
                elif record is not None:
                    when = parse_cst(record.get("gxsj"))
                    keys.append(_seconds(when) if when else np.nan)
                    gdbhs.append(str(record.get("gdbh") or "").encode("utf-8"))
                    offsets.append(offset)
                    lengths.append(len(body))
                offset += len(line)
        filled = _place_unparsed(np.asarray(keys, dtype=np.float64), previous_key)
        versions = [-1] * len(keys)
        order_keys = []
        for gdbh, at, length, times in order_entries:
            for k, t in enumerate(times):
                order_keys.append(t)
                gdbhs.append(gdbh)
                offsets.append(at)
                lengths.append(length)
                versions.append(k)
        filled = np.concatenate((filled, np.asarray(order_keys, dtype=np.int64)))
        file_columns = (
            filled,
            np.asarray(gdbhs, dtype=np.bytes_) if gdbhs else np.empty(0, dtype=np.bytes_),
            np.full(len(filled), file_no, dtype=np.int32),
            np.asarray(offsets, dtype=np.int64),
            np.asarray(lengths, dtype=np.int32),
            np.asarray(versions, dtype=np.int16),
        )
        return offset, file_columns, int(filled.max()) if len(filled) else previous_key

    def range(self, after: datetime | None, as_of: datetime | None) -> tuple[int, int]:
        """Index range [lo, hi) of the versions with after < gxsj <= as_of."""
        lo = 0 if after is None else int(np.searchsorted(self._keys, _seconds(after), side="right"))
        hi = len(self._keys) if as_of is None else int(np.searchsorted(self._keys, _seconds(as_of), side="right"))
        return lo, max(lo, hi)

    def read(self, start: int, stop: int) -> list[bytes]:
        """The JSON of versions [start, stop) in order (an order line's version rendered as its full record)."""
        out: list[bytes] = []
        handles: dict[int, object] = {}

        def line(i: int) -> bytes:
            file_no = int(self._file_no[i])
            handle = handles.get(file_no)
            if handle is None:
                handle = handles[file_no] = open(self._files[file_no], "rb")
            handle.seek(int(self._offset[i]))
            return handle.read(int(self._length[i]))

        try:
            for i in range(start, stop):
                body = line(i)
                k = int(self._version[i])
                if k >= 0:
                    try:
                        body = version_of_order_line(body, k)
                    except (ValueError, KeyError, IndexError, TypeError):
                        pass  # an order line broken by hand: served as it is (the client quarantines it)
                out.append(body)
        finally:
            for handle in handles.values():
                handle.close()
        return out


def _index_file_columnar(path: Path, file_no: int, previous_key: int):
    """pyarrow parses the whole file in C; line offsets come from the newline positions. Returns None (use the
    line-by-line path) when a line is not JSON, a key has an unexpected type, or the counts disagree."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.json as pa_json

    data = path.read_bytes()
    if not data.strip():
        return len(data), _empty_columns(), previous_key
    raw = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(raw == 0x0A)
    if len(ends) == 0 or ends[-1] != len(data) - 1:
        ends = np.append(ends, len(data))
    starts = np.concatenate(([0], ends[:-1] + 1))
    lengths = ends - starts
    if data.find(b"\r") >= 0:  # CRLF lines: leave the CR out of the served body
        has_cr = (lengths > 0) & (raw[np.maximum(ends - 1, 0)] == 0x0D)
        lengths = lengths - has_cr
    keep = lengths > 0
    if np.any(raw[starts[keep]] != 0x7B):  # every line must open an object ({)
        return None
    schema = pa.schema([("gdbh", pa.string()), ("gxsj", pa.string()), (ORDER_MARK, pa.list_(pa.int64()))])
    try:
        table = pa_json.read_json(pa.py_buffer(data), parse_options=pa_json.ParseOptions(
            explicit_schema=schema, unexpected_field_behavior="ignore", newlines_in_values=False))
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    starts, lengths = starts[keep], lengths[keep]
    if table.num_rows != len(starts):
        return None
    times = table[ORDER_MARK].combine_chunks()
    is_order = times.is_valid().to_numpy(zero_copy_only=False)
    order_times = times.flatten()
    if order_times.null_count:
        return None
    plain = np.flatnonzero(~is_order)
    keys = np.zeros(len(is_order), dtype=np.int64)
    if len(plain):
        gxsj = table["gxsj"].take(pa.array(plain))
        when = pc.strptime(gxsj, format=_GXSJ_FORMAT, unit="s", error_is_null=True)
        plain_keys = when.cast(pa.int64()).to_numpy(zero_copy_only=False).astype(np.float64)
        missing = np.flatnonzero(np.isnan(plain_keys))
        if len(missing):  # other shapes parse_cst accepts (ISO with offsets...)
            texts = gxsj.to_pylist()
            for i in missing:
                parsed = parse_cst(texts[i])
                plain_keys[i] = _seconds(parsed) if parsed else np.nan
        keys[plain] = _place_unparsed(plain_keys, previous_key)
    # one entry per version: a plain line is one, an order line one per time in its @t
    counts = np.where(is_order, np.diff(times.offsets.to_numpy(zero_copy_only=False)), 1)
    rows = np.repeat(np.arange(len(counts)), counts)
    order_entry = is_order[rows]
    keys = keys[rows]
    keys[order_entry] = order_times.to_numpy(zero_copy_only=False)
    first_entry = np.cumsum(counts) - counts
    versions = np.where(order_entry, np.arange(len(rows)) - first_entry[rows], -1).astype(np.int16)
    gdbh = np.asarray([g.encode("utf-8") if g else b"" for g in table["gdbh"].to_pylist()], dtype=np.bytes_)
    if len(gdbh) == 0:
        gdbh = np.empty(0, dtype=np.bytes_)
    columns = (keys, gdbh[rows], np.full(len(rows), file_no, dtype=np.int32), starts.astype(np.int64)[rows],
               lengths.astype(np.int32)[rows], versions)
    return len(data), columns, int(keys.max()) if len(keys) else previous_key


def _place_unparsed(keys: np.ndarray, previous_key: int) -> np.ndarray:
    """Sort keys for one file, NaN where gxsj could not be read. Such a version is still served (the connector
    must quarantine it), at the key of the next readable line of its file (files are written in change order;
    the next line's time is the latest the change can have, so a client polling from a cursor cannot have passed
    it), else the line before, else the latest key already indexed."""
    keys = keys.copy()
    nan = np.isnan(keys)
    if nan.any():
        idx = np.where(~nan, np.arange(len(keys)), len(keys))
        next_idx = np.minimum.accumulate(idx[::-1])[::-1]  # index of the next readable line (len = none)
        has_next = next_idx < len(keys)
        keys[nan & has_next] = keys[next_idx[nan & has_next]]
        nan = np.isnan(keys)
        if nan.any():  # a tail of unreadable lines: the line before, else what came before this file
            idx = np.where(~nan, np.arange(len(keys)), -1)
            prev_idx = np.maximum.accumulate(idx)
            keys[nan] = np.where(prev_idx[nan] >= 0, keys[np.maximum(prev_idx[nan], 0)], previous_key)
    return keys.astype(np.int64)


def _empty_columns():
    return (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.bytes_), np.empty(0, dtype=np.int32),
            np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int32), np.empty(0, dtype=np.int16))


# -- HTTP ---------------------------------------------------------------------------------------------------------

class _State:
    """Mutable server state shared by the handler threads."""

    def __init__(self, store: VersionStore, token: str, faults: Faults, as_of: datetime | None):
        self.store = store
        self.token = token
        self.faults = faults
        self.as_of = as_of
        self.lock = threading.Lock()
        self.requests = 0
        self.faults_injected: dict[str, int] = {}


def _json_bytes(obj: object) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode("utf-8")


class _Handler(BaseHTTPRequestHandler):
    server_version = "gongzhi-12345-sim/1"
    protocol_version = "HTTP/1.1"
    state: _State  # set on the subclass made per server

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes: without NODELAY, Nagle + delayed ACK stall each answer ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args) -> None:  # quiet: tests start many servers
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status: int, code: int, msg: str, headers: dict[str, str] | None = None) -> None:
        self._send(status, _json_bytes({"code": code, "msg": msg, "data": None}), headers)

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        state = self.state
        url = urlsplit(self.path)
        if url.path.rstrip("/") != API_PATH:
            self._error(404, 404, "not found")
            return
        if self.headers.get("Authorization", "") != f"Bearer {state.token}":
            self._error(401, 401, "unauthorised")
            return
        with state.lock:
            state.requests += 1
            fault = state.faults.next_fault(state.requests)
            if fault:
                state.faults_injected[fault] = state.faults_injected.get(fault, 0) + 1
            faults, as_of = state.faults, state.as_of
        if fault == "drop":
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if fault == "slow":
            time.sleep(faults.slow_seconds)
        if fault == "code":
            self._error(200, BUSY_CODE, BUSY_MSG)
            return
        if fault == "429":
            self._error(429, 429, "too many requests", {"Retry-After": str(faults.retry_after)})
            return
        if fault in ("500", "502", "503"):
            self._error(int(fault), int(fault), "server error")
            return

        query = parse_qs(url.query)
        try:
            after, page_no, page_size = _parse_params(query)
        except ValueError as exc:
            self._error(400, BAD_PARAM_CODE, str(exc))
            return
        with state.lock:
            state.store.refresh()
            lo, hi = state.store.range(after, as_of)
            start = min(hi, lo + (page_no - 1) * page_size)
            stop = min(hi, start + page_size)
            lines = state.store.read(start, stop)
        head = _json_bytes({"total": hi - lo, "page_no": page_no, "page_size": page_size})[:-1]
        body = b'{"code":0,"msg":"ok","data":' + head + b',"records":[' + b",".join(lines) + b"]}}"
        if fault == "truncate":
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._send(200, body)


def _parse_params(query: dict[str, list[str]]) -> tuple[datetime | None, int, int]:
    raw_after = query.get("updated_after", [""])[0]
    after = None
    if raw_after:
        after = parse_cst(raw_after)
        if after is None:
            raise ValueError(f"updated_after {raw_after!r} is not a time")
    try:
        page_no = int(query.get("page_no", ["1"])[0])
        page_size = int(query.get("page_size", [str(DEFAULT_PAGE_SIZE)])[0])
    except ValueError:
        raise ValueError("page_no and page_size must be integers") from None
    if page_no < 1:
        raise ValueError("page_no must be >= 1")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
    return after, page_no, page_size


class RunningServer:
    """A server running in a background thread. Change ``faults`` / ``as_of`` at run time with the setters."""

    def __init__(self, httpd: ThreadingHTTPServer, state: _State, thread: threading.Thread):
        self._httpd, self._state, self._thread = httpd, state, thread
        host, port = httpd.server_address[:2]
        self.url = f"http://{host}:{port}"

    @property
    def requests(self) -> int:
        return self._state.requests

    @property
    def faults_injected(self) -> dict[str, int]:
        with self._state.lock:
            return dict(self._state.faults_injected)

    @property
    def store(self) -> VersionStore:
        return self._state.store

    def set_faults(self, faults: Faults | None) -> None:
        with self._state.lock:
            self._state.faults = faults or Faults()

    def set_as_of(self, as_of: datetime | str | None) -> None:
        value = _as_of_value(as_of)
        with self._state.lock:
            self._state.as_of = value

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> "RunningServer":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _as_of_value(as_of: datetime | str | None) -> datetime | None:
    if as_of is None:
        return None
    value = parse_cst(as_of)
    if value is None:
        raise ValueError(f"as_of {as_of!r} is not a time")
    return value


def make_server(landing_dir: Path, *, port: int = 0, token: str, faults: Faults | None = None,
                as_of: datetime | str | None = None, host: str = "127.0.0.1") -> tuple[ThreadingHTTPServer, _State]:
    if not token:
        raise ValueError("the 12345 server needs a token")
    state = _State(VersionStore(Path(landing_dir)), token, faults or Faults(), _as_of_value(as_of))
    handler = type("Handler12345", (_Handler,), {"state": state})
    httpd = ThreadingHTTPServer((host, port), handler)
    httpd.daemon_threads = True
    return httpd, state


def start_server(landing_dir: Path, *, port: int = 0, token: str, faults: Faults | None = None,
                 as_of: datetime | str | None = None) -> RunningServer:
    """Start serving ``landing_dir`` (the folder holding ``work_orders_*.jsonl``) in a background thread."""
    httpd, state = make_server(landing_dir, port=port, token=token, faults=faults, as_of=as_of)
    thread = threading.Thread(target=httpd.serve_forever, name="server12345", daemon=True)
    thread.start()
    return RunningServer(httpd, state, thread)


# -- fixtures from the spec sample --------------------------------------------------------------------------------

def write_sample_landing(landing_dir: Path, sample_page: Path) -> Path:
    """Write the spec's sample page as a landing file (one version per line), for tests and demos without a
    simulator run. Returns the file written."""
    records = json.loads(Path(sample_page).read_text(encoding="utf-8"))["data"]["records"]
    landing_dir = Path(landing_dir)
    landing_dir.mkdir(parents=True, exist_ok=True)
    first = min(parse_cst(r["gxsj"]) for r in records)
    path = landing_dir / f"work_orders_{first:%Y%m%d}.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


# -- CLI ----------------------------------------------------------------------------------------------------------

def _kind_value(text: str, cast):
    kind, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected KIND=VALUE, got {text!r}")
    return kind, cast(value)


def serve_main(argv: list[str]) -> int:
    from gongzhi import settings as settings_module

    settings = settings_module.load()
    parser = argparse.ArgumentParser(prog="gongzhi serve-12345", description=__doc__.split("\n\n")[0])
    parser.add_argument("--landing", type=Path, default=settings.landing / "12345",
                        help="folder with work_orders_*.jsonl (default $GONGZHI_HOME/landing/12345)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="0 = any free port")
    parser.add_argument("--as-of", help="hide versions with gxsj later than this time (CST)")
    parser.add_argument("--fault-rate", action="append", default=[], metavar="KIND=P",
                        type=lambda t: _kind_value(t, float), help=f"probability per request; KIND in {FAULT_KINDS}")
    parser.add_argument("--fault-every", action="append", default=[], metavar="KIND=N",
                        type=lambda t: _kind_value(t, int), help="inject KIND on every N-th request")
    parser.add_argument("--retry-after", type=int, default=1, help="seconds sent with 429")
    parser.add_argument("--slow-seconds", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        faults = Faults(rates=dict(args.fault_rate), every=dict(args.fault_every), retry_after=args.retry_after,
                        slow_seconds=args.slow_seconds, seed=args.seed)
    except ValueError as exc:
        parser.error(str(exc))
    if not args.landing.is_dir():
        print(f"serve-12345: {args.landing} does not exist (run `gongzhi simulate` first)", file=sys.stderr)
        return 2
    # The token comes from the environment (GONGZHI_12345_TOKEN); it is never printed.
    httpd, state = make_server(args.landing, port=args.port, token=settings.api_12345_token, faults=faults,
                               as_of=args.as_of)
    host, port = httpd.server_address[:2]
    print(f"serving {len(state.store)} work-order versions from {args.landing}", flush=True)
    if state.store.unservable_lines:
        print(f"warning: {state.store.unservable_lines} lines are not JSON objects and are not served",
              file=sys.stderr)
    print(f"12345 API at http://{host}:{port}{API_PATH}", flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
    return 0
