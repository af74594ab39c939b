"""`hotline` tickets of 12315 / 12319 / 12369 / 12320: `hotline/<code>/YYYY-MM-DD.jsonl[.gz]`, one JSON object a line.

source_id is `<hotline>:<ticket_id>`; version_at is `updated_at` (a ticket is written again, whole, on each
change). Times are ISO 8601 with offset or epoch milliseconds, stored as naive CST. Points are converted to
WGS-84 from the line's `location.crs`. Keys this parser does not know are kept, as JSON, in ``extra``.
A line that is not a JSON object (truncated, garbage) is quarantined; the others load.
"""
from __future__ import annotations

import functools
import gzip
import json
import re
import zlib
from datetime import date

import orjson

from connectors.common import (
    ParsedDelivery,
    WHOLE_DELIVERY,
    QuarantinedRow,
    blank_row,
    cst_from_iso_or_epoch,
    make_event,
    rating_from_score,
    text_or_none,
    to_json,
)
from connectors.errors import RecordError
from connectors.geo import to_wgs84
from connectors.pii import mask_text

CHANNEL = "hotline"
HOTLINES = ("12315", "12319", "12369", "12320")
FILE_NAME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})\.jsonl(?:\.gz)?$")
KNOWN_KEYS = frozenset({"hotline", "ticket_id", "received_at", "caller", "summary", "detail", "location",
                        "category", "assignee", "due_at", "closed_at", "status", "rating", "updated_at"})
_NESTED_KNOWN = {"caller": {"phone", "name"}, "location": {"address", "lng", "lat", "crs"},
                 "category": {"code", "name"}}

# A ticket comes once per change with the same creation time and point: remember the last conversions (the
# inverse GCJ-02 / BD-09 transform is iterative, ~50 µs a point). typed: True and 1 stay apart.
_CACHE_SIZE = 1 << 16
_HASHABLE = (str, int, float, type(None))
_time_cached = functools.lru_cache(maxsize=_CACHE_SIZE, typed=True)(cst_from_iso_or_epoch)
_to_wgs84_cached = functools.lru_cache(maxsize=_CACHE_SIZE, typed=True)(to_wgs84)


def delivery_day(name: str) -> date | None:
    match = FILE_NAME.match(name)
    return date(int(match[1]), int(match[2]), int(match[3])) if match else None


def _time(obj: dict, key: str, required: bool = False):
    raw = obj.get(key)
    try:
        value = _time_cached(raw) if isinstance(raw, _HASHABLE) else cst_from_iso_or_epoch(raw)
    except (ValueError, TypeError, OverflowError):
        raise RecordError(f"{key} is neither ISO 8601 nor epoch milliseconds") from None
    if value is None and required:
        raise RecordError(f"{key} is missing")
    return value


def _nested(obj: dict, key: str) -> dict:
    value = obj.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RecordError(f"{key} is not an object")
    return value


def _unknown_keys(obj: dict) -> dict:
    extra = {k: v for k, v in obj.items() if k not in KNOWN_KEYS}
    for key, known in _NESTED_KNOWN.items():
        value = obj.get(key)
        if isinstance(value, dict):
            for k, v in value.items():
                if k not in known:
                    extra[f"{key}.{k}"] = v
    return extra


def _caller_key(pii, phone) -> str | None:
    if isinstance(phone, int) and not isinstance(phone, bool):
        phone = str(phone)  # some systems write the number as a JSON number
    return pii.caller_key(phone) if isinstance(phone, str) else None


def map_ticket(obj, pii, *, expected_hotline: str | None, load_id: str, delivery: str, position: int):
    if not isinstance(obj, dict):
        raise RecordError("line is not a JSON object")
    hotline = text_or_none(obj.get("hotline"))
    ticket = text_or_none(obj.get("ticket_id"))
    if not hotline or not ticket:
        raise RecordError("hotline or ticket_id is missing")
    if expected_hotline and hotline != expected_hotline:
        raise RecordError(f"hotline {hotline} in the folder of {expected_hotline}")
    received = _time(obj, "received_at", required=True)
    updated = _time(obj, "updated_at") or received
    closed = _time(obj, "closed_at")
    caller, location, category = _nested(obj, "caller"), _nested(obj, "location"), _nested(obj, "category")
    score = obj.get("rating")
    try:
        rating = rating_from_score(score)
    except (ValueError, TypeError):
        raise RecordError("rating is not 1-5 or null") from None
    lng, lat = location.get("lng"), location.get("lat")
    try:
        crs = location.get("crs") or "wgs84"
        if lng is None:
            lon, lat = None, None
        elif isinstance(lng, _HASHABLE) and isinstance(lat, _HASHABLE) and isinstance(crs, _HASHABLE):
            lon, lat = _to_wgs84_cached(lng, lat, crs)
        else:
            lon, lat = to_wgs84(lng, lat, crs)
    except ValueError as err:
        raise RecordError(str(err)) from None
    source_id = f"{hotline}:{ticket}"
    unit = text_or_none(obj.get("assignee"))
    row = blank_row(CHANNEL, source_id, load_id=load_id, delivery=delivery, position=position)
    row.update(
        version_at=updated,
        received_at=received,
        caller_key=_caller_key(pii, caller.get("phone")),
        title=mask_text(text_or_none(obj.get("summary"))),
        content=mask_text(text_or_none(obj.get("detail"))),
        address=mask_text(text_or_none(location.get("address"))),
        lon=lon,
        lat=lat,
        source_category=text_or_none(category.get("name")) or text_or_none(category.get("code")),
        unit=unit,
        deadline_at=_time(obj, "due_at"),
        closed_at=closed,
        source_status=text_or_none(obj.get("status")),
        rating=rating,
        rating_score=None if score is None else int(score),
        extra=mask_text(to_json(_unknown_keys(obj))),
    )
    events = [make_event(CHANNEL, source_id, 1, received, "received", position)]
    if closed is not None:
        events.append(make_event(CHANNEL, source_id, len(events) + 1, closed, "closed", position, unit=unit))
    if rating is not None:
        events.append(make_event(CHANNEL, source_id, len(events) + 1, updated, "callback", position, note=rating))
    return row, events


def _masked_line(line: str, obj) -> str:
    if isinstance(obj, dict):
        if isinstance(obj.get("caller"), dict):
            obj = {**obj, "caller": {k: v for k, v in obj["caller"].items() if k != "name"}}
        return mask_text(to_json(obj)) or ""
    # Not parseable: a name could sit anywhere in it; keep only a masked prefix for diagnosis.
    return mask_text(line[:500]) or ""


def decompress(data: bytes, name: str) -> tuple[bytes, str | None]:
    """(the plain bytes, None) or (what could be read, the reason the stream broke off)."""
    if not name.endswith(".gz"):
        return data, None
    try:
        return gzip.decompress(data), None
    except (OSError, EOFError, zlib.error) as err:
        # A truncated gzip: keep what decompresses, the broken tail is reported.
        decomp = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            partial = decomp.decompress(data)
        except zlib.error:
            partial = b""
        return partial, f"gzip stream broken ({type(err).__name__})"


def _loads(raw: bytes):
    """orjson (several times faster); what it refuses goes to the standard library, whose verdict and error
    message count (it also accepts NaN and integers beyond 64 bits)."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw.decode("utf-8"))


def parse_hotline(data: bytes, delivery: str, pii, *, load_id: str,
                  expected_hotline: str | None = None) -> ParsedDelivery:
    """``delivery`` is `<code>/<file name>`; ``expected_hotline`` the folder's code (checked per line)."""
    out = ParsedDelivery(CHANNEL, delivery, load_id)
    plain, broken = decompress(data, delivery)
    lines = plain.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for position, raw in enumerate(lines, start=1):
        obj = None
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            line = raw.decode("utf-8", errors="replace")
            out.quarantine.append(QuarantinedRow(position, "line is not valid UTF-8", _masked_line(line, None)))
            continue
        if not line.strip():
            out.quarantine.append(QuarantinedRow(position, "empty line", ""))
            continue
        try:
            obj = _loads(raw)
            row, events = map_ticket(obj, pii, expected_hotline=expected_hotline, load_id=load_id,
                                     delivery=delivery, position=position)
        except RecordError as err:
            out.quarantine.append(QuarantinedRow(position, err.reason, _masked_line(line, obj)))
            continue
        except json.JSONDecodeError as err:
            out.quarantine.append(QuarantinedRow(position, f"invalid JSON ({err.msg})", _masked_line(line, None)))
            continue
        except (ValueError, TypeError, OverflowError, RecursionError) as err:  # values of an unexpected shape
            reason = f"unexpected value ({type(err).__name__})"
            out.quarantine.append(QuarantinedRow(position, reason, _masked_line(line, obj)))
            continue
        out.rows.append(row)
        out.events.extend(events)
    if broken:
        out.quarantine.append(QuarantinedRow(WHOLE_DELIVERY, broken, None))
    return out
