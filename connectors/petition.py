"""`petition` 信访 register: weekly XLSX export `petition/xfdj_YYYYMMDD.xlsx`, sheet `信访事项`.

Row 1 is a merged title, row 2 the headers, data from row 3 (``position`` is the Excel row number).
Exports overlap: version_at is the export date from the file name, so the later export's row is current.
信访人 and 证件号码 are dropped (never stored, never in a quarantine record); 联系电话 becomes ``caller_key``.
"""
from __future__ import annotations

import io
import re
from datetime import date, datetime

from python_calamine import CalamineWorkbook

from connectors.common import (
    ParsedDelivery,
    QuarantinedRow,
    blank_row,
    make_event,
    parse_date_cell,
    text_or_none,
    to_json,
)
from connectors.errors import RecordError
from connectors.pii import mask_text

CHANNEL = "petition"
SHEET = "信访事项"
FILE_NAME = re.compile(r"^xfdj_(\d{8})\.xlsx$")
HEADER_ROW = 2  # Excel row number of the headers (row 1 is the title)
REQUIRED_COLUMNS = ("信访件编号", "登记日期")
_PERSONAL = ("信访人", "证件号码", "联系电话")
# 信访目的 onto the canonical demand types.
DEMAND_TYPE_BY_PURPOSE = {"求决": "求助", "申诉": "投诉", "揭发控告": "举报", "意见建议": "建议", "其他": "其他"}
# 评价: 未评价 means no rating yet.
RATING_BY_WORD = {"满意": "满意", "基本满意": "基本满意", "不满意": "不满意", "未评价": None, "": None}
_YES_NO = {"是": True, "否": False}


def export_date(name: str) -> date | None:
    match = FILE_NAME.match(name)
    if not match:
        return None
    d = match[1]
    return date(int(d[:4]), int(d[4:6]), int(d[6:]))


def _cell_text(value) -> str | None:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # numbers typed into a text column arrive as floats
    return text_or_none(value)


def _date(rec: dict, column: str, required: bool = False) -> datetime | None:
    try:
        value = parse_date_cell(rec.get(column))
    except ValueError:
        raise RecordError(f"{column} is not a date") from None
    if value is None and required:
        raise RecordError(f"{column} is empty")
    return value


def _int(rec: dict, column: str) -> int | None:
    value = rec.get(column)
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise RecordError(f"{column} is not a number") from None
    if not number.is_integer() or number < 0:
        raise RecordError(f"{column} is not a count")
    return int(number)


def map_row(rec: dict, pii, *, version_at: datetime, load_id: str, delivery: str, position: int):
    source_id = _cell_text(rec.get("信访件编号"))
    if not source_id:
        raise RecordError("信访件编号 is empty")
    received = _date(rec, "登记日期", required=True)
    closed = _date(rec, "办结日期")
    unit = _cell_text(rec.get("责任单位"))
    purpose = _cell_text(rec.get("信访目的"))
    rating_word = _cell_text(rec.get("评价")) or ""
    if rating_word not in RATING_BY_WORD:
        raise RecordError(f"评价 {rating_word!r} is not 满意/基本满意/不满意/未评价")
    repeat_word = _cell_text(rec.get("是否重复信访"))
    row = blank_row(CHANNEL, source_id, load_id=load_id, delivery=delivery, position=position)
    row.update(
        version_at=version_at,
        received_at=received,
        caller_key=pii.caller_key(_cell_text(rec.get("联系电话"))),
        demand_type=DEMAND_TYPE_BY_PURPOSE.get(purpose or ""),
        content=mask_text(_cell_text(rec.get("信访事项"))),
        address=mask_text(_cell_text(rec.get("问题属地"))),
        source_category=_cell_text(rec.get("内容分类")),
        unit=unit,
        deadline_at=_date(rec, "办理期限"),
        closed_at=closed,
        source_status=_cell_text(rec.get("办理状态")),
        rating=RATING_BY_WORD[rating_word],
        marked_repeat=_YES_NO.get(repeat_word or ""),
        people_count=_int(rec, "人数"),
        extra=to_json({k: v for k in ("信访形式", "信访目的") if (v := _cell_text(rec.get(k)))}),
    )
    events = [make_event(CHANNEL, source_id, 1, received, "received", position)]
    if closed is not None:
        events.append(make_event(CHANNEL, source_id, 2, closed, "closed", position, unit=unit))
    return row, events


def _masked(rec: dict) -> str:
    return mask_text(to_json({k: _cell_text(v) for k, v in rec.items() if k not in _PERSONAL})) or ""


def parse_petition(data: bytes, delivery: str, pii, *, load_id: str) -> ParsedDelivery:
    out = ParsedDelivery(CHANNEL, delivery, load_id)
    exported = export_date(delivery)
    if exported is None:
        out.reject(f"file name {delivery!r} is not xfdj_YYYYMMDD.xlsx (the export date orders versions)")
        return out
    version_at = datetime(exported.year, exported.month, exported.day)
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet_name = SHEET if SHEET in book.sheet_names else book.sheet_names[0]
        table = book.get_sheet_by_name(sheet_name).to_python(skip_empty_area=False)
    except Exception as err:  # calamine raises several types for a broken workbook
        out.reject(f"not a readable XLSX workbook ({type(err).__name__})")
        return out
    if len(table) < HEADER_ROW:
        out.reject("no header row")
        return out
    header = [str(h).strip() if h is not None else "" for h in table[HEADER_ROW - 1]]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        out.reject(f"header lacks {', '.join(missing)}")
        return out
    for index, values in enumerate(table[HEADER_ROW:], start=HEADER_ROW + 1):
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue  # an empty spreadsheet row is not a record
        rec = dict(zip(header, values))
        try:
            row, events = map_row(rec, pii, version_at=version_at, load_id=load_id, delivery=delivery,
                                  position=index)
        except RecordError as err:
            out.quarantine.append(QuarantinedRow(index, err.reason, _masked(rec)))
            continue
        out.rows.append(row)
        out.events.extend(events)
    return out
