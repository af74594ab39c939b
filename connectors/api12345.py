"""The 12345 work-order connector: fetch pages over HTTP, keep a durable cursor, map records to the intake schema.

Three parts, each usable alone:

* ``fetch_work_orders`` pages through ``GET /api/v2/work-orders`` by cursor, retrying what can be retried and
  failing loudly on what cannot. It yields ``Page`` objects; the caller commits a page, then stores
  ``page.cursor_after`` in a ``CursorStore``. A crash between the two re-fetches the page: at-least-once delivery,
  made exactly-once by the store's idempotence.
* ``CursorStore`` — a small JSON file under ``$GONGZHI_HOME/state/``, replaced atomically.
* ``map_work_order`` turns one API record into one canonical intake row and its lifecycle events, or raises
  ``RecordError`` for the quarantine. ``map_pages`` does the same for many pages at once, column-wise, and gives
  exactly the same rows, events and quarantine reasons (it hands every unusual record to ``map_work_order``).

Paging by cursor, not by page number: ``updated_after`` is exclusive and many versions can share one ``gxsj``
second. After a full page whose last ``gxsj`` is T, the next request asks for ``updated_after = T - 1 s``: it
re-reads the versions at T (dropped again by their ``(gdbh, gxsj)``) and so cannot lose the ties cut by the page
boundary. Only when a whole page lies in that one second does the connector fall back to ``page_no + 1``.
The token is sent in the Authorization header only: it is never logged and never appears in an error message.
"""
from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import time
from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx
import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import tenacity

from connectors import columnar, geo
from connectors.common import ParsedDelivery, QuarantinedRow
from connectors.errors import RecordError
from connectors.geo import gcj02_to_wgs84
from connectors.pii import PiiHasher, mask_text
from connectors.schema import DEMAND_TYPES, EVENT_SCHEMA, INTAKE_SCHEMA, RATINGS, URGENCIES

log = logging.getLogger(__name__)

CHANNEL = "12345"
API_PATH = "/api/v2/work-orders"
MAX_PAGE_SIZE = 500
# The records' time resolution: re-reading from (last gxsj - this) catches every tie at the last gxsj.
GXSJ_RESOLUTION = timedelta(seconds=1)
RETRY_AFTER_CAP_SECONDS = 600.0  # never sleep longer than this on a server's Retry-After

_CST = timezone(timedelta(hours=8))
_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_TIME_SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\Z")

# lc actions (流转记录 dz) -> the domain's event vocabulary (connectors.schema.EVENT_TYPES).
LC_ACTIONS = {
    "受理": "received",
    "直接答复": "answered_directly",
    "派单": "dispatched",
    "签收": "signed",
    "退单": "returned",
    "改派": "redispatched",
    "延期申请": "extension_requested",
    "延期批准": "extension_approved",
    "延期驳回": "extension_rejected",
    "催办": "urged",
    "办结": "closed",
    "回访": "callback",
    "重办": "reopened",
    "并单": "merged",
}

# Record fields the mapping reads; any other key goes to `extra` (masked). ldhm and sqrxm are personal data:
# the number only as caller_key, the name never.
KNOWN_FIELDS = frozenset(
    "gdbh slsj ldhm sqrxm sfbm sqlx sqbt sqnr sfdz xzqh jd zbx zby fl1 fl2 fl3 jjcd cbdw pdsj qssj blsx yqsx "
    "bjsj gdzt hfmyd cbcs cbbz glgdbh gxsj lc".split()
)
_INTAKE_FIELDS = tuple(INTAKE_SCHEMA.names)

# Each work order is delivered once per change with mostly the same text and point: remember the last results.
_CACHE_SIZE = 1 << 16
_mask_cached = lru_cache(maxsize=_CACHE_SIZE)(mask_text)
_gcj02_to_wgs84_cached = lru_cache(maxsize=_CACHE_SIZE)(gcj02_to_wgs84)
_HASHABLE_COORD = (int, float, str, type(None))


@lru_cache(maxsize=_CACHE_SIZE)
def _caller_key_cached(pii: PiiHasher, raw: str | int) -> str | None:
    return pii.caller_key(raw)


def _mask(text: str | None) -> str | None:
    return None if text is None else _mask_cached(text)


def _wgs84(lon: Any, lat: Any) -> tuple[float | None, float | None]:
    if isinstance(lon, _HASHABLE_COORD) and isinstance(lat, _HASHABLE_COORD):
        return _gcj02_to_wgs84_cached(lon, lat)
    return gcj02_to_wgs84(lon, lat)


# -- errors -------------------------------------------------------------------------------------------------------

class Api12345Error(RuntimeError):
    """The API could not be read completely (retries exhausted, or an error that retrying cannot fix)."""


class Api12345AuthError(Api12345Error):
    """HTTP 401/403: the token is missing, wrong or expired."""


class _Retryable(Exception):
    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


# -- times --------------------------------------------------------------------------------------------------------

def parse_time(value: Any) -> datetime | None:
    """A record's time: exactly ``YYYY-MM-DD HH:MM:SS`` (CST), as the spec says; None for null/empty.

    Anything else raises ValueError: a record time in another shape (``20240305``, ``昨天下午``) is a fault of
    the upstream system and goes to quarantine rather than being guessed."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"not a time: {type(value).__name__}")
    text = value.strip()
    if not _TIME_SHAPE.match(text):
        raise ValueError(f"not a time in the form {_TIME_FORMAT}")
    return datetime.fromisoformat(text)  # the shape is checked; this C parser is ~20x faster than strptime


def _cursor_value(value: datetime | str | None) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.astimezone(_CST).replace(tzinfo=None) if value.tzinfo else value
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"cursor {value!r} is not an ISO time") from None
    return parsed.astimezone(_CST).replace(tzinfo=None) if parsed.tzinfo else parsed


def _iso_cst(dt: datetime) -> str:
    return dt.replace(tzinfo=_CST).isoformat()


# -- the cursor ---------------------------------------------------------------------------------------------------

_UNSET = object()


class CursorStore:
    """Durable cursors, one per feed, in one JSON file; every write replaces the file atomically.

    ``get(feed)`` / ``set(feed, value)``; the feed defaults to ``"12345"``, so ``set(value)`` works too.
    Values are stored as ISO strings (datetimes are written with their CST offset)."""

    def __init__(self, path: Path | str):
        self.path = Path(path)

    def _read(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        if not isinstance(data, dict):
            raise ValueError(f"cursor file {self.path} does not hold a JSON object")
        return data

    def get(self, feed: str = CHANNEL) -> str | None:
        return self._read().get(feed)

    def set(self, feed_or_value: Any, value: Any = _UNSET) -> None:
        feed, value = (CHANNEL, feed_or_value) if value is _UNSET else (feed_or_value, value)
        if isinstance(value, datetime):
            value = _iso_cst(_cursor_value(value))
        data = self._read()
        data[feed] = value
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f, ensure_ascii=False, indent=1, sort_keys=True)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


# -- fetching -----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Page:
    """One API page as delivered (minus versions already yielded in this run)."""

    records: list[dict]
    page_no: int  # the page_no sent with this request
    delivery: str  # names the request: 12345:updated_after=<ISO>:page=<n>
    cursor_after: datetime | None  # every version with gxsj <= this has been yielded once this page is committed
    total: int  # the server's total for this request's updated_after


def _version_key(record: Any) -> tuple:
    """Identity of a version for de-duplication: (gdbh, gxsj); the whole record when those are not strings,
    so that malformed records are never merged into each other."""
    if isinstance(record, dict) and isinstance(record.get("gdbh"), str) and isinstance(record.get("gxsj"), str):
        return ("v", record["gdbh"], record["gxsj"])
    return ("raw", json.dumps(record, ensure_ascii=False, sort_keys=True, default=str))


def _record_time(record: Any) -> datetime | None:
    if not isinstance(record, dict):
        return None
    try:
        return parse_time(record.get("gxsj"))
    except ValueError:
        return None


def _parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # an HTTP-date form; fall back to our own backoff
    return min(max(seconds, 0.0), RETRY_AFTER_CAP_SECONDS)


def _total(value: Any) -> int:
    """The server's total, informative only (paging never relies on it)."""
    try:
        return max(int(value), 0)
    except (TypeError, ValueError, OverflowError):
        return 0


def _get_page(client: httpx.Client, url: str, token: str, params: dict[str, Any]) -> dict:
    """One request; returns ``data``. Raises _Retryable for what a retry may fix, Api12345Error otherwise."""
    try:
        response = client.get(url, params=params, headers={"Authorization": f"Bearer {token}"})
    except httpx.TimeoutException as exc:
        raise _Retryable(f"timeout ({type(exc).__name__})") from None
    except httpx.TransportError as exc:
        raise _Retryable(f"connection error ({type(exc).__name__})") from None
    status = response.status_code
    if status == 429:
        raise _Retryable("HTTP 429 rate limited", _parse_retry_after(response.headers.get("Retry-After")))
    if status >= 500:
        raise _Retryable(f"HTTP {status}")
    if status in (401, 403):
        raise Api12345AuthError(f"HTTP {status}: the 12345 API refused the token (check GONGZHI_12345_TOKEN)")
    if status != 200:
        # the body is the server's; scrub the token anyway so that no message can ever carry it
        raise Api12345Error(f"HTTP {status} from the 12345 API: {response.text[:200].replace(token, '***')}")
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        try:  # orjson refuses what the standard library accepts at the edges (NaN, integers beyond 64 bits)
            body = json.loads(response.content)
        except ValueError:
            raise _Retryable("response body is not JSON") from None
    if not isinstance(body, dict):
        raise _Retryable("response body is not a JSON object")
    if body.get("code") != 0:
        raise _Retryable(f"API code {body.get('code')!r}: {str(body.get('msg'))[:100]}")
    data = body.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("records"), list):
        raise _Retryable("response has no data.records list")
    return data


def fetch_work_orders(
    base_url: str,
    token: str,
    updated_after: datetime | str | None,
    *,
    page_size: int = MAX_PAGE_SIZE,
    client: httpx.Client | None = None,
    max_retries: int = 6,
    backoff_initial: float = 0.5,
    backoff_max: float = 30.0,
    timeout: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Page]:
    """Every work-order version changed after ``updated_after`` (exclusive; None = from the beginning), page by page.

    Each version is yielded once per run even though tie re-reads and retried pages may deliver it again.
    Timeouts, connection errors, HTTP 5xx, 429 (waiting ``Retry-After``) and ``code != 0`` are retried up to
    ``max_retries`` times with exponential backoff; then ``Api12345Error`` is raised — pages already yielded
    stay valid, and the stored cursor says where to resume.
    """
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
    if not token:
        raise Api12345AuthError("no 12345 API token configured (GONGZHI_12345_TOKEN)")
    url = base_url.rstrip("/") + API_PATH
    owns_client = client is None
    if client is None:
        client = httpx.Client(timeout=timeout)
    exponential = tenacity.wait_exponential(multiplier=backoff_initial, max=backoff_max)

    def wait(retry_state: tenacity.RetryCallState) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(exc, _Retryable) and exc.retry_after is not None:
            return exc.retry_after
        return exponential(retry_state)

    def before_sleep(retry_state: tenacity.RetryCallState) -> None:
        exc = retry_state.outcome.exception()
        log.warning("12345 API: %s; retry %d of %d", getattr(exc, "reason", exc), retry_state.attempt_number,
                    max_retries)

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(max_retries + 1),
        wait=wait,
        retry=tenacity.retry_if_exception_type(_Retryable),
        before_sleep=before_sleep,
        sleep=sleep,
        reraise=True,
    )

    def request(after: datetime | None, page_no: int) -> dict:
        params: dict[str, Any] = {"page_no": page_no, "page_size": page_size}
        if after is not None:
            params["updated_after"] = _iso_cst(after)
        try:
            return retrying(_get_page, client, url, token, params)
        except _Retryable as exc:
            raise Api12345Error(
                f"12345 API: gave up after {max_retries + 1} attempts at updated_after="
                f"{params.get('updated_after')} page {page_no}: {exc.reason}"
            ) from None

    after = _cursor_value(updated_after)
    page_no = 1
    # Versions already yielded that a later request may deliver again (those after the current cursor).
    yielded: dict[tuple, datetime | None] = {}
    try:
        while True:
            data = request(after, page_no)
            records = data["records"]
            fresh = []
            last = None
            for record in records:
                gdbh = record.get("gdbh") if type(record) is dict else None
                gxsj = record["gxsj"] if gdbh is not None and type(record.get("gxsj")) is str else None
                if type(gdbh) is str and gxsj is not None:  # the common case of _record_time and _version_key
                    try:
                        when = parse_time(gxsj)
                    except ValueError:
                        when = None
                    key = ("v", gdbh, gxsj)
                else:
                    when, key = _record_time(record), _version_key(record)
                if when is not None and (last is None or when > last):
                    last = when
                if key not in yielded:
                    yielded[key] = when
                    fresh.append(record)
            full_page = len(records) >= page_size
            if not full_page:
                cursor = max(after, last) if (after and last) else (last or after)
                next_after, next_page_no = None, None
            else:
                boundary = last - GXSJ_RESOLUTION if last else None
                if boundary is not None and (after is None or boundary > after):
                    next_after, next_page_no = boundary, 1
                else:  # the whole page is within one second: step through that second by page number
                    next_after, next_page_no = after, page_no + 1
                cursor = next_after
            delivery = f"{CHANNEL}:updated_after={_iso_cst(after) if after else ''}:page={page_no}"
            if fresh or cursor != after:
                yield Page(fresh, page_no, delivery, cursor, _total(data.get("total")))
            if next_page_no is None:
                return
            if next_after != after:
                yielded = {k: t for k, t in yielded.items() if t is None or t > next_after}
            after, page_no = next_after, next_page_no
    finally:
        if owns_client:
            client.close()


# -- mapping ------------------------------------------------------------------------------------------------------

def _safe(value: Any, limit: int = 40) -> str:
    """A value for an error message: masked and short."""
    return mask_text(repr(value)[:limit]) or ""


def _time_field(record: dict, name: str, *, required: bool = False) -> datetime | None:
    value = record.get(name)
    try:
        parsed = parse_time(value)
    except ValueError:
        raise RecordError(f"unparseable {name}: {_safe(value)}") from None
    if parsed is None and required:
        raise RecordError(f"missing {name}")
    return parsed


def _text(value: Any) -> str | None:
    if type(value) is str:  # the common case first: this runs ~25 times per record
        return value.strip() or None
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        raise TypeError
    text = str(value).strip()
    return text or None


def _text_field(record: dict, name: str) -> str | None:
    value = record.get(name)
    if type(value) is str:  # _text's common case, inlined: this runs ~16 times per record
        return value.strip() or None
    try:
        return _text(value)
    except TypeError:
        raise RecordError(f"{name} is not text: {type(record.get(name)).__name__}") from None


def _codes(xzqh: str | None) -> tuple[str | None, str | None, str | None]:
    """(area_code, street_code, community_code) from a 6/9/12-digit division code; Nones when it is not one."""
    if xzqh and xzqh.isascii() and xzqh.isdigit() and len(xzqh) in (6, 9, 12):
        return xzqh, (xzqh[:9] if len(xzqh) >= 9 else None), (xzqh if len(xzqh) == 12 else None)
    return None, None, None


def _flag(value: Any) -> bool | None:
    if value in (1, "1", True):
        return True
    if value in (0, "0", False):
        return False
    return None


def _count(value: Any) -> int | None:
    if isinstance(value, bool) or value is None or value == "":
        return None
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: float('inf')
        return None
    return number if 0 <= number < 2**31 else None


def map_work_order(record: dict, pii: PiiHasher, *, delivery: str, position: int, load_id: str
                   ) -> tuple[dict, list[dict]]:
    """One API record -> (intake row with INTAKE_SCHEMA keys, events with EVENT_SCHEMA keys + ``position``).

    Free text (title, content, address, event notes, unknown fields) is stored masked; the caller number only
    as ``caller_key``; the caller name never. Values outside the spec's vocabularies (demand type, urgency,
    rating, lc action, division code) become null and are kept, masked, in ``extra`` under ``unmapped``.
    Raises RecordError when the record cannot be an intake: no gdbh, missing or unparseable slsj / gxsj,
    unparseable dates, malformed lc.
    """
    if not isinstance(record, dict):
        raise RecordError(f"record is not a JSON object but {type(record).__name__}")
    gdbh = _text_field(record, "gdbh")
    if gdbh is None:
        raise RecordError("missing gdbh")
    received_at = _time_field(record, "slsj", required=True)
    version_at = _time_field(record, "gxsj", required=True)
    unmapped: dict[str, Any] = {}

    def vocabulary(name: str, allowed: tuple[str, ...]) -> str | None:
        value = _text_field(record, name)
        if value is not None and value not in allowed:
            unmapped[name] = value
            return None
        return value

    xzqh = _text_field(record, "xzqh")
    area_code, street_code, community_code = _codes(xzqh)
    if xzqh and area_code is None:
        unmapped["xzqh"] = xzqh
    lon, lat = _wgs84(record.get("zbx"), record.get("zby"))
    categories = [c for c in (_text_field(record, f) for f in ("fl1", "fl2", "fl3")) if c]
    urge_count = _count(record.get("cbcs"))
    if record.get("cbcs") not in (None, "") and urge_count is None:
        unmapped["cbcs"] = record.get("cbcs")
    reopened = _flag(record.get("cbbz"))
    if record.get("cbbz") not in (None, "") and reopened is None:
        unmapped["cbbz"] = record.get("cbbz")
    ldhm = record.get("ldhm")
    caller_key = _caller_key_cached(pii, ldhm) if isinstance(ldhm, (str, int)) else None

    row = dict.fromkeys(_INTAKE_FIELDS)
    row.update(
        channel=CHANNEL,
        source_id=gdbh,
        version_at=version_at,
        received_at=received_at,
        caller_key=caller_key,
        demand_type=vocabulary("sqlx", DEMAND_TYPES),
        title=_mask(_text_field(record, "sqbt")),
        content=_mask(_text_field(record, "sqnr")),
        address=_mask(_text_field(record, "sfdz")),
        area_code=area_code,
        street_code=street_code,
        community_code=community_code,
        lon=lon,
        lat=lat,
        source_category="/".join(categories) or None,
        urgency=vocabulary("jjcd", URGENCIES),
        unit=_text_field(record, "cbdw"),
        dispatched_at=_time_field(record, "pdsj"),
        signed_at=_time_field(record, "qssj"),
        deadline_at=_time_field(record, "blsx"),
        extended_deadline_at=_time_field(record, "yqsx"),
        closed_at=_time_field(record, "bjsj"),
        source_status=_text_field(record, "gdzt"),
        rating=vocabulary("hfmyd", RATINGS),
        urge_count=urge_count,
        reopened=reopened,
        linked_source_id=_text_field(record, "glgdbh"),
        load_id=load_id,
        delivery=delivery,
        position=position,
    )
    events = _map_events(record.get("lc"), gdbh, position, unmapped)

    extra: dict[str, Any] = {k: v for k, v in record.items() if k not in KNOWN_FIELDS}
    for name in ("jd", "sfbm"):  # known, no column of their own, useful downstream (street name, confidential)
        value = _text_field(record, name)
        if value is not None:
            extra[name] = value
    if unmapped:
        extra["unmapped"] = unmapped
    # cached: a work order's extra (street, confidentiality flag) is usually the same in each of its versions
    row["extra"] = _mask(json.dumps(extra, ensure_ascii=False, sort_keys=True, default=str)) if extra else None
    return row, events


def _map_events(lc: Any, gdbh: str, position: int, unmapped: dict[str, Any]) -> list[dict]:
    if lc is None:
        return []
    if not isinstance(lc, list):
        raise RecordError(f"lc is not a list but {type(lc).__name__}")
    events: list[dict] = []
    for i, step in enumerate(lc):
        if not isinstance(step, dict):
            raise RecordError(f"lc[{i}] is not an object")
        fields = (step.get("dz"), step.get("sj"), step.get("dw"), step.get("yj"))
        try:
            # A version's lc repeats the previous version's steps: remember them (only plain text is cacheable).
            if all(type(f) is str or f is None for f in fields):
                event_type, at, unit, note = _lc_step_cached(*fields)
            else:
                event_type, at, unit, note = _lc_step(*fields)
        except RecordError as err:
            raise RecordError(f"lc[{i}] {err.reason}") from None
        if event_type is None:
            unmapped.setdefault("lc", []).append({"dz": _text(fields[0]), "sj": fields[1]})
            continue
        events.append({
            "channel": CHANNEL,
            "source_id": gdbh,
            "seq": len(events) + 1,
            "event_at": at,
            "event_type": event_type,
            "unit": unit,
            "note": note,
            "position": position,
        })
    return events


def _lc_step(dz: Any, sj: Any, dw: Any, yj: Any) -> tuple[str | None, datetime, str | None, str | None]:
    """(event type or None when the action is unknown, time, unit, masked note) of one lc step."""
    try:
        action, unit, note = _text(dz), _text(dw), _text(yj)
    except TypeError:
        raise RecordError("has a non-text field") from None
    try:
        at = parse_time(sj)
    except ValueError:
        raise RecordError(f"unparseable sj: {_safe(sj)}") from None
    if at is None:
        raise RecordError("missing sj")
    event_type = LC_ACTIONS.get(action or "")
    if event_type == "callback":
        note = note if note in RATINGS else None  # the callback's note is its rating word
    return event_type, at, unit, _mask(note)


_lc_step_cached = lru_cache(maxsize=_CACHE_SIZE)(_lc_step)


# -- mapping a whole page column-wise -------------------------------------------------------------------------------

_TEXT_COLUMNS = ("gdbh", "sfbm", "sqlx", "sqbt", "sqnr", "sfdz", "xzqh", "jd", "fl1", "fl2", "fl3", "jjcd", "cbdw",
                 "gdzt", "hfmyd", "glgdbh")
_TIME_COLUMNS = ("slsj", "gxsj", "pdsj", "qssj", "blsx", "yqsx", "bjsj")
_VOCABULARIES = {"sqlx": DEMAND_TYPES, "jjcd": URGENCIES, "hfmyd": RATINGS}
_DIVISION_CODE = r"^(?:[0-9]{6}|[0-9]{9}|[0-9]{12})$"
_ROW_EVENT_SCHEMA = pa.schema(list(EVENT_SCHEMA) + [pa.field("position", pa.int64(), nullable=False)])
_LC_STEP_FIELDS = ("dz", "sj", "dw", "yj")
# The text fields and lc of a record as one Arrow type: a page whose records all fit it is converted by pyarrow in
# C in one call (``_text_struct``), instead of field by field in Python. The conversion refuses a value of any
# other type (a number or object where text is expected, an lc that is not a list of objects), so such a page
# takes the field-by-field path, which finds the odd records. Numbers (zbx, zby, cbcs, cbbz) are not in it:
# pyarrow would take true for 1.0 and 3.0 for 3, where map_work_order does not.
_TEXT_STRUCT = pa.struct([(name, pa.string()) for name in _TEXT_COLUMNS + _TIME_COLUMNS + ("ldhm",)]
                         + [("lc", pa.list_(pa.struct([(name, pa.string()) for name in _LC_STEP_FIELDS])))])


def _regular_count(value: Any) -> bool:
    return value is None or (type(value) is int and 0 <= value < 2**31)


def _regular_flag(value: Any) -> bool:
    return value is None or (type(value) is int and value in (0, 1)) or value in ("0", "1")


def map_page(records: list, pii: PiiHasher, *, delivery: str, load_id: str) -> ParsedDelivery:
    """One page of API records -> a ``ParsedDelivery`` (see ``map_pages``)."""
    return map_pages([(records, delivery, load_id)], pii)[0]


def map_pages(pages: list[tuple[list, str, str]], pii: PiiHasher) -> list[ParsedDelivery]:
    """Pages of API records, ``(records, delivery, load_id)`` each -> one ``ParsedDelivery`` per page whose rows
    and events are Arrow tables (``row_table``; ``event_table``: EVENT_SCHEMA + position), equal to what
    ``map_work_order`` gives record by record, and whose quarantine holds the records it refuses.

    The well-formed records of all pages are mapped together, column-wise (the fixed cost of each column
    operation is paid once for many pages); any record that is unusual in any way (a value of an unexpected
    type or shape, a value outside a vocabulary, unknown keys, an unknown lc action, a value with surrounding
    blanks) goes through ``map_work_order``, which stays the one definition of those cases and of the
    quarantine reasons."""
    records = [r for page, _, _ in pages for r in page]
    page_of = np.repeat(np.arange(len(pages), dtype=np.int64), [len(page) for page, _, _ in pages])
    starts = np.cumsum([0] + [len(page) for page, _, _ in pages])
    position_of = np.arange(len(records), dtype=np.int64) - starts[:-1][page_of]
    deliveries = pa.array([d for _, d, _ in pages], pa.string())
    load_ids = pa.array([lid for _, _, lid in pages], pa.string())
    n = len(records)
    is_dict = np.fromiter((type(r) is dict for r in records), bool, n)
    irregular = ~is_dict
    if not is_dict.all():
        dicts = [r if type(r) is dict else {} for r in records]
    else:
        dicts = records
    irregular |= np.fromiter((not (r.keys() <= KNOWN_FIELDS) for r in dicts), bool, n)

    structs = _text_structs(pages)

    def string_column(name: str) -> tuple[pa.Array, np.ndarray]:
        """A text field of every record (null where absent), and the records where it is not text."""
        arrays, bad = [], []
        for (page, _, _), struct, start in zip(pages, structs, starts):
            if struct is not None:
                arrays.append(struct.field(name))
                bad.append(np.zeros(len(page), dtype=bool))
            else:
                array, wrong = columnar.string_array(columnar.column(dicts[start:start + len(page)], name))
                arrays.append(array)
                bad.append(wrong)
        if not arrays:
            return pa.array([], pa.string()), np.zeros(0, dtype=bool)
        return pa.concat_arrays(arrays), np.concatenate(bad)

    text: dict[str, pa.Array] = {}
    for name in _TEXT_COLUMNS:
        array, bad = string_column(name)
        array, bad_blank = columnar.text(array)
        text[name] = array
        irregular |= bad | bad_blank
    irregular |= ~columnar.mask_of(pc.is_valid(text["gdbh"]))
    for name, allowed in _VOCABULARIES.items():
        irregular |= columnar.mask_of(pc.is_valid(text[name])) & ~columnar.is_in(text[name], allowed)
    xzqh = text["xzqh"]
    irregular |= columnar.mask_of(pc.is_valid(xzqh)) & ~columnar.mask_of(pc.match_substring_regex(xzqh, _DIVISION_CODE))
    times: dict[str, pa.Array] = {}
    time_texts = []
    for name in _TIME_COLUMNS:
        array, bad = string_column(name)
        time_texts.append(array)
        irregular |= bad
    # all time columns parsed together: they share most of their distinct values (slsj is the first pdsj ...)
    for name, (array, bad_time) in zip(_TIME_COLUMNS, columnar.times_of(time_texts)):
        times[name] = array
        irregular |= bad_time
    irregular |= ~columnar.mask_of(pc.is_valid(times["slsj"])) | ~columnar.mask_of(pc.is_valid(times["gxsj"]))
    ldhm, bad = string_column("ldhm")
    irregular |= bad
    zbx, bad_x = columnar.float_array(columnar.column(dicts, "zbx"))
    zby, bad_y = columnar.float_array(columnar.column(dicts, "zby"))
    irregular |= bad_x | bad_y
    cbcs = columnar.column(dicts, "cbcs")
    cbbz = columnar.column(dicts, "cbbz")
    irregular |= np.fromiter((not (_regular_count(c) and _regular_flag(b)) for c, b in zip(cbcs, cbbz)), bool, n)

    events, bad_events = _page_events(pages, structs, starts, dicts, irregular, text["gdbh"])
    irregular |= bad_events

    regular = pa.array(~irregular)
    if n and not irregular.all():
        lon, lat = geo.gcj02_to_wgs84_arrays(zbx, zby)
        length = pc.utf8_length(xzqh)
        area = xzqh
        street = pc.if_else(pc.greater_equal(length, 9), pc.utf8_slice_codeunits(xzqh, 0, 9), pa.scalar(None, pa.string()))
        community = pc.if_else(pc.equal(length, 12), xzqh, pa.scalar(None, pa.string()))
        # (not pc.binary_join_element_wise: with null_handling="skip" it drops rows that are null in every input)
        category = pa.array(["/".join(c for c in levels if c) or None for levels in zip(
            text["fl1"].to_pylist(), text["fl2"].to_pylist(), text["fl3"].to_pylist())], pa.string())
        extra_cache: dict[tuple, str | None] = {}

        def extra_of(jd: str | None, sfbm: str | None) -> str | None:
            key = (jd, sfbm)
            if key not in extra_cache:
                extra = {k: v for k, v in (("jd", jd), ("sfbm", sfbm)) if v is not None}
                extra_cache[key] = _mask(json.dumps(extra, ensure_ascii=False, sort_keys=True)) if extra else None
            return extra_cache[key]

        columns = {
            "channel": pa.array([CHANNEL] * n, pa.string()),
            "source_id": text["gdbh"],
            "version_at": times["gxsj"],
            "received_at": times["slsj"],
            "caller_key": columnar.map_unique(ldhm, lambda v: _caller_key_cached(pii, v), pa.string()),
            "demand_type": text["sqlx"],
            "title": columnar.masked_text(text["sqbt"], _mask_cached),
            "content": columnar.masked_text(text["sqnr"], _mask_cached),
            "address": columnar.masked_text(text["sfdz"], _mask_cached),
            "area_code": area,
            "street_code": street,
            "community_code": community,
            "lon": pa.array(lon, pa.float64(), from_pandas=True),
            "lat": pa.array(lat, pa.float64(), from_pandas=True),
            "source_category": category,
            "urgency": text["jjcd"],
            "unit": text["cbdw"],
            "dispatched_at": times["pdsj"],
            "signed_at": times["qssj"],
            "deadline_at": times["blsx"],
            "extended_deadline_at": times["yqsx"],
            "closed_at": times["bjsj"],
            "source_status": text["gdzt"],
            "rating": text["hfmyd"],
            "urge_count": pa.array([None if bad else c for c, bad in zip(cbcs, irregular)], pa.int32()),
            "reopened": pa.array([None if (bad or b is None) else b in (1, "1") for b, bad in zip(cbbz, irregular)],
                                 pa.bool_()),
            "linked_source_id": text["glgdbh"],
            "extra": pa.array([extra_of(j, s) for j, s in zip(text["jd"].to_pylist(), text["sfbm"].to_pylist())],
                              pa.string()),
            "load_id": pc.take(load_ids, pa.array(page_of)),
            "delivery": pc.take(deliveries, pa.array(page_of)),
            "position": pa.array(position_of),
            "_index": pa.array(np.arange(n, dtype=np.int64)),
        }
        empty = pa.nulls(n)
        fields = list(INTAKE_SCHEMA) + [pa.field("_index", pa.int64())]
        row_table = pa.Table.from_arrays(
            [columns[f.name].cast(f.type) if f.name in columns else empty.cast(f.type) for f in fields],
            names=[f.name for f in fields]).filter(regular).cast(pa.schema(fields))
    else:
        row_table = INTAKE_SCHEMA.append(pa.field("_index", pa.int64())).empty_table()
    event_table = events.append_column("_index", pc.take(pa.array(np.arange(n, dtype=np.int64)),
                                                           events.column("position")))
    event_table = event_table.set_column(event_table.schema.get_field_index("position"), "position",
                                         pc.take(pa.array(position_of), event_table.column("position")))

    parsed = [ParsedDelivery(CHANNEL, d, lid) for _, d, lid in pages]
    slow_rows, slow_events = [], []
    for index in np.flatnonzero(irregular).tolist():
        record, page_no, position = records[index], int(page_of[index]), int(position_of[index])
        delivery, load_id = parsed[page_no].delivery, parsed[page_no].load_id
        try:
            row, row_events = map_work_order(record, pii, delivery=delivery, position=position, load_id=load_id)
        except (RecordError, ValueError, TypeError) as err:  # RecordError is the expected one; never crash the page
            reason = err.reason if isinstance(err, RecordError) else f"unexpected value ({type(err).__name__})"
            content = {k: v for k, v in record.items() if k not in ("ldhm", "sqrxm")} \
                if isinstance(record, dict) else record
            parsed[page_no].quarantine.append(QuarantinedRow(
                position, reason, mask_text(json.dumps(content, ensure_ascii=False, default=str))))
            continue
        slow_rows.append(dict(row, _index=index))
        slow_events.extend(dict(e, _index=index) for e in row_events)
    if slow_rows:
        row_table = pa.concat_tables([row_table, pa.Table.from_pylist(slow_rows, schema=row_table.schema)])
        row_table = row_table.sort_by("_index")
    if slow_events:
        event_table = pa.concat_tables([event_table,
                                        pa.Table.from_pylist(slow_events, schema=event_table.schema)])
        event_table = event_table.sort_by([("_index", "ascending"), ("seq", "ascending")])
    # Rows and events are in record order, so each page's are one slice.
    row_bounds = np.searchsorted(row_table.column("_index").to_numpy(), starts)
    event_bounds = np.searchsorted(event_table.column("_index").to_numpy(), starts)
    row_table, event_table = row_table.drop_columns(["_index"]), event_table.drop_columns(["_index"])
    for page_no, delivery in enumerate(parsed):
        delivery.row_table = row_table.slice(row_bounds[page_no], row_bounds[page_no + 1] - row_bounds[page_no])
        delivery.event_table = event_table.slice(event_bounds[page_no],
                                                 event_bounds[page_no + 1] - event_bounds[page_no])
    return parsed


def _text_structs(pages: list[tuple[list, str, str]]) -> list[pa.StructArray | None]:
    """Per page, its records as a ``_TEXT_STRUCT`` array, or None when some value does not fit the type."""
    structs = []
    for records, _, _ in pages:
        try:
            structs.append(pa.array(records, type=_TEXT_STRUCT))
        except (pa.ArrowException, TypeError, ValueError, OverflowError):  # (UnicodeEncodeError is a ValueError)
            structs.append(None)
    return structs


def _page_events(pages: list[tuple[list, str, str]], structs: list[pa.StructArray | None], starts: np.ndarray,
                 records: list, irregular: np.ndarray, gdbh: pa.Array) -> tuple[pa.Table, np.ndarray]:
    """The lc steps of the regular records as an event table (EVENT_SCHEMA + position), and the records whose
    lc is not regular (not a list of objects with text fields, an unknown action, a bad time). Pages converted
    to ``_TEXT_STRUCT`` give their steps column-wise; the others step by step in Python."""
    n = len(records)
    bad = np.zeros(n, dtype=bool)
    owner_parts, step_parts, field_parts, null_step_parts = [], [], {f: [] for f in _LC_STEP_FIELDS}, []
    for (page, _, _), struct, start in zip(pages, structs, starts):
        if struct is not None:
            lc = struct.field("lc")
            counts = pc.fill_null(pc.list_value_length(lc), 0).to_numpy(zero_copy_only=False).astype(np.int64)
            steps = lc.flatten()  # the steps of the non-null lists, in record order
            total = int(counts.sum())
            owners = np.repeat(np.arange(start, start + len(page), dtype=np.int64), counts)
            first = np.repeat(np.cumsum(counts) - counts, counts)
            owner_parts.append(owners)
            step_parts.append(np.arange(total, dtype=np.int64) - first + 1)
            for name in _LC_STEP_FIELDS:
                field_parts[name].append(steps.field(name))
            null_step_parts.append(columnar.mask_of(pc.is_null(steps)) if steps.null_count else
                                   np.zeros(total, dtype=bool))
            continue
        owner, step_no, values = [], [], {f: [] for f in _LC_STEP_FIELDS}
        for i in range(start, start + len(page)):
            if irregular[i]:
                continue
            lc = records[i].get("lc")
            if lc is None:
                continue
            if type(lc) is not list:
                bad[i] = True
                continue
            for j, step in enumerate(lc):
                if type(step) is not dict:
                    bad[i] = True
                    break
                owner.append(i)
                step_no.append(j + 1)
                for name in _LC_STEP_FIELDS:
                    values[name].append(step.get(name))
        owner_parts.append(np.asarray(owner, dtype=np.int64))
        step_parts.append(np.asarray(step_no, dtype=np.int64))
        wrong = np.zeros(len(owner), dtype=bool)
        for name in _LC_STEP_FIELDS:
            array, wrong_type = columnar.string_array(values[name])
            field_parts[name].append(array)
            wrong |= wrong_type
        null_step_parts.append(wrong)
    owner = np.concatenate(owner_parts) if owner_parts else np.zeros(0, dtype=np.int64)
    step_no = np.concatenate(step_parts) if step_parts else np.zeros(0, dtype=np.int64)
    columns = {name: pa.concat_arrays(parts) if parts else pa.array([], pa.string())
               for name, parts in field_parts.items()}
    # a step that is null, or (Python path) has a field that is not text: the record is not regular
    bad_step = np.concatenate(null_step_parts) if null_step_parts else np.zeros(0, dtype=bool)
    dz, sj, dw, yj = (columns[name] for name in _LC_STEP_FIELDS)
    owners = owner
    texts = {}
    for name, values in (("dz", dz), ("dw", dw), ("yj", yj)):
        texts[name], blanks = columnar.text(values)
        bad_step |= blanks
    at, bad_shape = columnar.times(sj)
    bad_step |= bad_shape | ~columnar.mask_of(pc.is_valid(at))
    actions = pa.array(list(LC_ACTIONS), pa.string())
    event_type = pc.take(pa.array(list(LC_ACTIONS.values()), pa.string()), pc.index_in(texts["dz"], actions))
    bad_step |= ~columnar.mask_of(pc.is_valid(event_type))
    if bad_step.any():
        bad[np.unique(owners[bad_step])] = True
    # (the struct path also converted the steps of records found irregular elsewhere: they are left out too)
    keep = pa.array(~(bad | irregular)[owners]) if len(owner) else pa.array([], pa.bool_())
    is_callback = pc.equal(event_type, "callback")
    not_rating = pc.invert(pc.is_in(texts["yj"], value_set=pa.array(RATINGS, pa.string())))
    note = pc.if_else(pc.and_(is_callback, not_rating), pa.scalar(None, pa.string()), texts["yj"])
    m = len(owner)
    table = pa.Table.from_arrays([
        pa.array([CHANNEL] * m, pa.string()),
        pc.take(gdbh, pa.array(owners, pa.int64())),
        pa.array(step_no.astype(np.int32), pa.int32()),
        at,
        event_type,
        texts["dw"],
        columnar.masked_text(note, _mask_cached),
        pa.array(owners, pa.int64()),
    ], names=_ROW_EVENT_SCHEMA.names)
    return table.filter(keep).cast(_ROW_EVENT_SCHEMA), bad
