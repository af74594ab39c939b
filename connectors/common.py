"""What every file parser shares: the parse result, time parsing to naive CST, the rating scale, load ids.

Parsers are pure: bytes in, a ``ParsedDelivery`` out. They never raise on a bad row; the row goes to
``quarantine`` with its reason instead. Only the store touches DuckDB.
"""
from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

import pyarrow as pa

from connectors.schema import INTAKE_SCHEMA

INTAKE_FIELDS = tuple(INTAKE_SCHEMA.names)

# Position used for a quarantine record that concerns the whole delivery rather than one row.
WHOLE_DELIVERY = -1

CST = timezone(timedelta(hours=8))
_EPOCH_CST = datetime(1970, 1, 1) + timedelta(hours=8)

# domain.md: ratings on a 1-5 scale map to 满意 (4-5), 基本满意 (3), 不满意 (1-2). The one copy of that rule.
RATING_BY_SCORE = {1: "不满意", 2: "不满意", 3: "基本满意", 4: "满意", 5: "满意"}


def rating_from_score(score: int | None) -> str | None:
    """The rating word for a 1-5 score; None for None. Any other value is an error, not a guess."""
    if score is None:
        return None
    if isinstance(score, bool) or score not in RATING_BY_SCORE:
        raise ValueError(f"rating {score!r} is not on the 1-5 scale")
    return RATING_BY_SCORE[score]


@dataclass
class QuarantinedRow:
    position: int
    reason: str
    content_masked: str | None


@dataclass
class ParsedDelivery:
    """One delivery after parsing. rows_in = len(rows) + len(quarantine) (whole-delivery records excluded)."""

    channel: str
    delivery: str
    load_id: str
    rows: list[dict] = field(default_factory=list)  # INTAKE_SCHEMA fields
    events: list[dict] = field(default_factory=list)  # EVENT_SCHEMA fields + position of their intake row
    quarantine: list[QuarantinedRow] = field(default_factory=list)
    failure: str | None = None  # set when the delivery as a whole was rejected (all its rows quarantined)
    superseded_deliveries: tuple[str, ...] = ()  # earlier deliveries this one replaces entirely (110 _vN)
    # Column-wise parsers deliver their rows as Arrow tables instead of (or besides) the dicts above:
    # INTAKE_SCHEMA, and EVENT_SCHEMA + position. The store writes both kinds.
    row_table: pa.Table | None = None
    event_table: pa.Table | None = None

    @property
    def rows_loaded(self) -> int:
        return len(self.rows) + (self.row_table.num_rows if self.row_table is not None else 0)

    @property
    def rows_in(self) -> int:
        return self.rows_loaded + sum(1 for q in self.quarantine if q.position != WHOLE_DELIVERY)

    def reject(self, reason: str) -> None:
        """Reject the delivery as a whole: every parsed row moves to quarantine with the reason."""
        if self.row_table is not None:
            raise ValueError("a column-wise delivery cannot be rejected row by row")
        self.failure = reason
        # The parsed row is already free of personal data; its caller_key (a hex digest) is left out too.
        moved = [QuarantinedRow(r["position"], f"delivery rejected: {reason}",
                                to_json({k: v for k, v in r.items() if k != "caller_key" and v is not None}))
                 for r in self.rows]
        self.quarantine = moved + self.quarantine + [QuarantinedRow(WHOLE_DELIVERY, reason, None)]
        self.rows = []
        self.events = []


def new_load_id() -> str:
    """Sortable by time (ties on version_at go to the later load), unique across processes. Written with
    separators so that no run of digits looks like a phone number to the PII scan."""
    return f"{datetime.now(timezone.utc):%Y-%m-%dT%H:%M:%S.%fZ}-{uuid.uuid4().hex[:8]}"


def checksum(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def blank_row(channel: str, source_id: str, *, load_id: str, delivery: str, position: int) -> dict:
    row = dict.fromkeys(INTAKE_FIELDS)
    row.update(channel=channel, source_id=source_id, load_id=load_id, delivery=delivery, position=position)
    return row


def make_event(channel: str, source_id: str, seq: int, at: datetime, event_type: str, position: int,
               unit: str | None = None, note: str | None = None) -> dict:
    return {"channel": channel, "source_id": source_id, "seq": seq, "event_at": at, "event_type": event_type,
            "unit": unit, "note": note, "position": position}


def text_or_none(value) -> str | None:
    """Strip; empty means unknown."""
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def to_json(obj) -> str | None:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, default=str) if obj else None


# ---- times: everything becomes a naive datetime in China Standard Time -------------------------------------

def cst_from_aware(dt: datetime) -> datetime:
    if dt.tzinfo is None:
        return dt  # no zone: CST by the feeds' convention
    return dt.astimezone(CST).replace(tzinfo=None)


def cst_from_epoch_ms(ms: int | float) -> datetime:
    return _EPOCH_CST + timedelta(milliseconds=ms)


def cst_from_iso_or_epoch(value) -> datetime | None:
    """ISO 8601 (with or without offset) or epoch milliseconds -> naive CST. None/'' -> None; junk -> ValueError."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"not a time: {value!r}")
    if isinstance(value, (int, float)):
        return cst_from_epoch_ms(value)
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return cst_from_epoch_ms(int(text))
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        return cst_from_aware(datetime.fromisoformat(text))
    raise ValueError(f"not a time: {value!r}")


def parse_slash_datetime(text: str) -> datetime:
    """`2024/3/5 8:05:31` (no zero padding; seconds optional) -> datetime. ValueError when it is not that."""
    day_part, _, time_part = text.strip().partition(" ")
    y, m, d = day_part.split("/")
    clock = time_part.split(":") if time_part else ["0", "0"]
    if len(clock) == 2:
        clock.append("0")
    if len(clock) != 3:
        raise ValueError(f"not a time: {text!r}")
    return datetime(int(y), int(m), int(d), int(clock[0]), int(clock[1]), int(clock[2]))


_TEXT_DATE = re.compile(r"^\s*(\d{4})\s*[.\-/年]\s*(\d{1,2})\s*[.\-/月]\s*(\d{1,2})\s*日?\s*$")
_EXCEL_EPOCH = datetime(1899, 12, 30)


def parse_date_cell(value) -> datetime | None:
    """An Excel cell holding a date: a real date, an Excel serial number, or text such as `2024.03.05`,
    `2024年3月5日`, `2024-03-05`. Empty -> None; anything else -> ValueError."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not 1 <= value < 2958466:  # Excel's own range (1900-01-01 .. 9999-12-31)
            raise ValueError(f"Excel serial {value!r} out of range")
        return _EXCEL_EPOCH + timedelta(days=float(value))
    if isinstance(value, str):
        if not value.strip():
            return None
        match = _TEXT_DATE.match(value)
        if match:
            return datetime(int(match[1]), int(match[2]), int(match[3]))
    raise ValueError(f"not a date: {value!r}")
