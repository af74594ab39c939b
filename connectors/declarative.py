"""Declarative connector: a CSV or JSON-lines feed described by a mapping file, loaded with no feed-specific code.

A mapping file ``connectors/feeds/<channel>.yaml`` says where the files land, how they are encoded, which
column fills which canonical field (connectors/schema.py INTAKE_SCHEMA), how times are written, and the
vocabularies for status, rating and any other coded field. See ``connectors/feeds/open311.yaml`` and
docs/connectors.md for the keys. Rows land in ``raw.<channel>__intake`` and the current layer like any feed.

Field specs (under ``fields:``) are either a column name (dotted path for nested JSON) or a mapping::

    source_status: {column: status, map: {open: 办理中, closed: 已办结}, unknown: quarantine}
    rating:        {column: rating, scale: score}       # 1-5 numbers -> 满意/基本满意/不满意 (common.py)
    title:         {column: service_name, default: 无标题}

The value's type comes from INTAKE_SCHEMA: timestamps are parsed with ``time_formats``, numbers checked.
"""
from __future__ import annotations

import csv
import functools
import io
import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import yaml

from connectors.common import (
    ParsedDelivery,
    QuarantinedRow,
    blank_row,
    cst_from_aware,
    cst_from_epoch_ms,
    make_event,
    rating_from_score,
    text_or_none,
    to_json,
)
from connectors.errors import RecordError
from connectors.geo import to_wgs84
from connectors.pii import mask_text
from connectors.schema import EVENT_TYPES, INTAKE_SCHEMA

FEEDS_DIR = Path(__file__).parent / "feeds"
_SYSTEM_FIELDS = {"channel", "source_id", "load_id", "delivery", "position", "extra"}
_TIME_FIELDS = {f.name for f in INTAKE_SCHEMA if pa.types.is_timestamp(f.type)}
_FLOAT_FIELDS = {f.name for f in INTAKE_SCHEMA if pa.types.is_floating(f.type)}
_INT_FIELDS = {f.name for f in INTAKE_SCHEMA if pa.types.is_integer(f.type)} - _SYSTEM_FIELDS
_BOOL_FIELDS = {f.name for f in INTAKE_SCHEMA if pa.types.is_boolean(f.type)}
_TRUE_WORDS = {"1", "true", "yes", "y", "是", "t"}
_FALSE_WORDS = {"0", "false", "no", "n", "否", "f"}


class SpecError(ValueError):
    """A mapping file that cannot work; raised when it is loaded, before any data is touched."""


@dataclass(frozen=True)
class FieldSpec:
    name: str
    column: str | None
    value_map: dict | None = None
    unknown: str = "quarantine"  # for values outside value_map: quarantine | keep | null
    scale: str | None = None  # rating: "score" (1-5) or None (words through value_map)
    default: object = None
    required: bool = False


@dataclass(frozen=True)
class EventSpec:
    event_type: str
    at: str  # a canonical time field
    unit: str | None = None  # a canonical field giving the unit
    note: str | None = None  # a canonical field giving the note


@dataclass(frozen=True)
class FeedSpec:
    channel: str
    format: str  # csv | jsonl
    landing_dir: str
    file_glob: str
    day_pattern: re.Pattern
    encoding: str
    delimiter: str
    time_formats: tuple[str, ...]
    naive_offset_hours: float
    source_id_column: str
    source_id_prefix: str
    fields: tuple[FieldSpec, ...]
    crs: str
    caller_phone: str | None
    personal: frozenset[str]
    events: tuple[EventSpec, ...]

    def day_of(self, file_name: str) -> date | None:
        match = self.day_pattern.search(file_name)
        if not match:
            return None
        try:
            return date(int(match["y"]), int(match["m"]), int(match["d"]))
        except ValueError:
            return None


def _field_spec(name: str, raw) -> FieldSpec:
    if name not in INTAKE_SCHEMA.names or name in _SYSTEM_FIELDS:
        raise SpecError(f"fields: {name!r} is not a canonical field you can map")
    if isinstance(raw, str):
        return FieldSpec(name, raw)
    if not isinstance(raw, dict):
        raise SpecError(f"fields.{name}: a column name or a mapping")
    unknown = raw.get("unknown", "quarantine")
    if unknown not in ("quarantine", "keep", "null"):
        raise SpecError(f"fields.{name}.unknown must be quarantine, keep or null")
    scale = raw.get("scale")
    if scale not in (None, "score"):
        raise SpecError(f"fields.{name}.scale must be 'score'")
    value_map = raw.get("map")
    if value_map is not None:
        value_map = {str(k): v for k, v in value_map.items()}
    return FieldSpec(name, raw.get("column"), value_map, unknown, scale, raw.get("default"),
                     bool(raw.get("required", False)))


def spec_from_dict(doc: dict) -> FeedSpec:
    try:
        channel = str(doc["channel"])
        fmt = doc.get("format", "csv")
        if fmt not in ("csv", "jsonl"):
            raise SpecError("format must be csv or jsonl")
        if not re.fullmatch(r"[a-z0-9_]+", channel):
            raise SpecError("channel: lower-case letters, digits, underscores")
        pattern = re.compile(doc.get("day_pattern", r"(?P<y>\d{4})-?(?P<m>\d{2})-?(?P<d>\d{2})"))
        if not {"y", "m", "d"} <= set(pattern.groupindex):
            raise SpecError("day_pattern needs the named groups y, m and d")
        fields = tuple(_field_spec(name, raw) for name, raw in (doc.get("fields") or {}).items())
        names = {f.name for f in fields}
        if "received_at" not in names:
            raise SpecError("fields.received_at is required")
        events = tuple(
            EventSpec(e["type"], e["at"], e.get("unit"), e.get("note")) for e in (doc.get("events") or [])
        )
        for e in events:
            if e.event_type not in EVENT_TYPES:
                raise SpecError(f"events: {e.event_type!r} is not in the lifecycle vocabulary")
            if e.at not in _TIME_FIELDS:
                raise SpecError(f"events: 'at' must name a time field, not {e.at!r}")
        source = doc["source_id"]
        source = source if isinstance(source, dict) else {"column": source}
        return FeedSpec(
            channel=channel,
            format=fmt,
            landing_dir=str(doc.get("landing_dir", channel)),
            file_glob=str(doc.get("file_glob", "*.csv" if fmt == "csv" else "*.jsonl")),
            day_pattern=pattern,
            encoding=str(doc.get("encoding", "utf-8")),
            delimiter=str(doc.get("delimiter", ",")),
            time_formats=tuple(doc.get("time_formats", ["iso"])),
            naive_offset_hours=float(doc.get("naive_utc_offset_hours", 8)),
            source_id_column=str(source["column"]),
            source_id_prefix=str(source.get("prefix", "")),
            fields=fields,
            crs=str(doc.get("crs", "wgs84")),
            caller_phone=doc.get("caller_phone"),
            personal=frozenset(doc.get("personal_columns") or ()),
            events=events,
        )
    except KeyError as err:
        raise SpecError(f"mapping file lacks {err.args[0]!r}") from None
    except re.error as err:
        raise SpecError(f"day_pattern: {err}") from None


@functools.lru_cache(maxsize=None)
def load_spec(channel: str) -> FeedSpec:
    path = FEEDS_DIR / f"{channel}.yaml"
    if not re.fullmatch(r"[a-z0-9_]+", channel) or not path.is_file():
        raise ValueError(f"unknown channel {channel!r}: not 110/petition/hotline and no {path}")
    return spec_from_dict(yaml.safe_load(path.read_text(encoding="utf-8")))


def all_specs() -> list[FeedSpec]:
    return [load_spec(p.stem) for p in sorted(FEEDS_DIR.glob("*.yaml"))]


# ---- values ------------------------------------------------------------------------------------------------

def _lookup(record: dict, column: str):
    """A column, or a dotted path into nested JSON objects."""
    if column in record:
        return record[column]
    value = record
    for part in column.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def parse_time(value, spec: FeedSpec) -> datetime | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    naive_offset = timedelta(hours=8 - spec.naive_offset_hours)
    for fmt in spec.time_formats:
        try:
            if fmt == "epoch_ms":
                if isinstance(value, bool):
                    continue
                return cst_from_epoch_ms(float(value))
            if not isinstance(value, str):
                continue
            text = value.strip()
            if fmt == "iso":
                parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
            else:
                parsed = datetime.strptime(text, fmt)
        except (ValueError, OverflowError):
            continue
        return cst_from_aware(parsed) if parsed.tzinfo else parsed + naive_offset
    raise RecordError(f"{value!r} matches none of the time formats {list(spec.time_formats)}")


def _convert(field: FieldSpec, value, spec: FeedSpec):
    name = field.name
    if isinstance(value, str):
        value = value.strip()
        if value == "":
            value = None
    if value is None:
        value = field.default
    if value is None:
        if field.required:
            raise RecordError(f"{field.column} is empty")
        return None
    if field.scale == "score":
        try:
            score = int(value) if float(value).is_integer() else value
            return rating_from_score(score), score
        except (ValueError, TypeError):
            raise RecordError(f"{field.column} {value!r} is not a 1-5 score") from None
    if field.value_map is not None:
        key = str(value)
        if key in field.value_map:
            value = field.value_map[key]
        elif field.unknown == "quarantine":
            raise RecordError(f"{field.column} {key!r} is not in the mapping's vocabulary")
        elif field.unknown == "null":
            return None
        if value is None:
            return None
    try:
        if name in _TIME_FIELDS:
            return parse_time(value, spec)
        if name in _FLOAT_FIELDS:
            number = float(value)
            return number
        if name in _INT_FIELDS:
            number = float(value)
            if not number.is_integer():
                raise ValueError
            return int(number)
        if name in _BOOL_FIELDS:
            word = str(value).strip().lower()
            if word in _TRUE_WORDS:
                return True
            if word in _FALSE_WORDS:
                return False
            raise ValueError
    except (ValueError, TypeError, OverflowError):
        raise RecordError(f"{field.column} {str(value)[:40]!r} is not a valid {name}") from None
    return mask_text(str(value))


def map_record(record: dict, spec: FeedSpec, pii, *, load_id: str, delivery: str, position: int):
    if not isinstance(record, dict):
        raise RecordError("record is not an object")
    raw_id = text_or_none(_lookup(record, spec.source_id_column))
    if not raw_id:
        raise RecordError(f"{spec.source_id_column} is empty")
    source_id = spec.source_id_prefix + raw_id
    row = blank_row(spec.channel, source_id, load_id=load_id, delivery=delivery, position=position)
    used = {spec.source_id_column}
    for field in spec.fields:
        value = _lookup(record, field.column) if field.column else None
        if field.column:
            used.add(field.column)
        converted = _convert(field, value, spec)
        if field.scale == "score" and converted is not None:
            row[field.name], row["rating_score"] = converted
        else:
            row[field.name] = converted
    if row["received_at"] is None:
        raise RecordError("received_at is empty")
    if row["version_at"] is None:
        row["version_at"] = row["received_at"]  # a feed without change times: one version per intake
    if row["lon"] is not None or row["lat"] is not None:
        try:
            row["lon"], row["lat"] = to_wgs84(row["lon"], row["lat"], spec.crs)
        except ValueError as err:
            raise RecordError(str(err)) from None
    if spec.caller_phone:
        used.add(spec.caller_phone)
        phone = _lookup(record, spec.caller_phone)
        row["caller_key"] = pii.caller_key(phone if isinstance(phone, str) else None)
    extra = {}
    for key, value in record.items():
        if key in used or key in spec.personal or value in (None, ""):
            continue
        if isinstance(value, dict) and any(u.startswith(key + ".") for u in used):
            # a nested object partly mapped: keep only its unmapped members
            extra.update({f"{key}.{k}": v for k, v in value.items() if f"{key}.{k}" not in used})
        else:
            extra[key] = value
    row["extra"] = mask_text(to_json(extra))
    events = []
    for e in spec.events:
        at = row[e.at]
        if at is not None:
            events.append(make_event(spec.channel, source_id, len(events) + 1, at, e.event_type, position,
                                     unit=row.get(e.unit) if e.unit else None,
                                     note=row.get(e.note) if e.note else None))
    return row, events


def _masked(record, spec: FeedSpec) -> str:
    if isinstance(record, dict):
        record = {k: v for k, v in record.items() if k not in spec.personal and k != spec.caller_phone}
        return mask_text(to_json(record) or "{}") or ""
    return mask_text(str(record)[:500]) or ""


def _records(data: bytes, spec: FeedSpec):
    """(position, record or None, raw text, error reason or None) for each record of the delivery."""
    text = data.decode(spec.encoding, errors="replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    if spec.format == "csv":
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=spec.delimiter)
        header = next(reader, None)
        if header is None:
            return
        header = [h.strip() for h in header]
        for position, values in enumerate(reader, start=1):
            if not any(v.strip() for v in values):
                continue  # a blank line is not a record
            raw = spec.delimiter.join(values)
            if len(values) != len(header):
                yield position, None, raw, f"{len(values)} fields, expected {len(header)}"
            elif "\ufffd" in raw:
                yield position, None, raw, f"bytes that are not valid {spec.encoding}"
            else:
                yield position, dict(zip(header, values)), raw, None
    else:
        for position, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                yield position, json.loads(line), line, None
            except json.JSONDecodeError as err:
                yield position, None, line, f"invalid JSON ({err.msg})"


def parse(spec: FeedSpec, data: bytes, delivery: str, pii, *, load_id: str) -> ParsedDelivery:
    out = ParsedDelivery(spec.channel, delivery, load_id)
    try:
        for position, record, raw, error in _records(data, spec):
            if error is None:
                try:
                    row, events = map_record(record, spec, pii, load_id=load_id, delivery=delivery,
                                             position=position)
                except RecordError as err:
                    error = err.reason
                except (ValueError, TypeError, OverflowError, RecursionError) as err:  # values of an odd shape
                    error = f"unexpected value ({type(err).__name__})"
                else:
                    out.rows.append(row)
                    out.events.extend(events)
                    continue
            out.quarantine.append(
                QuarantinedRow(position, error, _masked(record if record is not None else raw, spec)))
    except csv.Error as err:  # e.g. NUL bytes: row boundaries cannot be trusted any more
        out.reject(f"not readable as CSV ({err})")
    return out
