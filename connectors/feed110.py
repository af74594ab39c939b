"""`110` non-police transfers: one GB18030 CSV a day, `110/fjwjq_YYYYMMDD[_vN].csv`.

Decisions (docs/connectors.md):
* The trailer `合计：N条` must be the last line and N must equal the data rows read. A missing or wrong trailer
  means a truncated transfer: the delivery is rejected as a whole (every row quarantined with the reason, the
  load reported as failed) so that half a day never becomes current.
* `_vN` replaces every earlier file of its day: its rows go to raw and current as usual, and current rows that
  came from an earlier file of that day are removed first (``ParsedDelivery.superseded_deliveries``), so a
  row left out of the correction does not stay current.
* version_at is the latest time the row states (接警 / 转办 / 反馈); a corrected row with the same times wins
  as the later load.
"""
from __future__ import annotations

import csv
import io
import re
from datetime import date

from connectors.common import (
    ParsedDelivery,
    QuarantinedRow,
    blank_row,
    make_event,
    parse_slash_datetime,
    text_or_none,
    to_json,
)
from connectors.errors import RecordError
from connectors.pii import mask_text

CHANNEL = "110"
ENCODING = "gb18030"
FILE_NAME = re.compile(r"^fjwjq_(\d{8})(?:_v(\d+))?\.csv$")
TRAILER = re.compile(r"^\s*合计[：:]\s*(\d+)\s*条\s*$")
COLUMNS = ("警情编号", "接警时间", "报警电话", "报警人", "警情类别", "简要警情", "发生地址", "管辖单位",
           "转办时间", "转办去向", "处置反馈", "反馈时间", "状态")
# Personal columns: hashed (phone) or dropped (name), never shown in a quarantine record.
_PERSONAL = ("报警电话", "报警人")
_KEPT_IN_EXTRA = ("管辖单位", "处置反馈", "反馈时间")


def delivery_day_version(name: str) -> tuple[date, int] | None:
    """`fjwjq_20240305_v2.csv` -> (2024-03-05, 2); the first file of a day is version 1. None: not a 110 file."""
    match = FILE_NAME.match(name)
    if not match:
        return None
    d = match[1]
    return date(int(d[:4]), int(d[4:6]), int(d[6:])), int(match[2] or 1)


def _time(value: str, column: str, required: bool = False):
    value = value.strip()
    if not value:
        if required:
            raise RecordError(f"{column} is empty")
        return None
    try:
        return parse_slash_datetime(value)
    except (ValueError, TypeError):
        raise RecordError(f"{column} is not a time like 2024/3/5 8:05:31") from None


def _masked_record(values: list[str], header: list[str]) -> str:
    if len(values) == len(header):
        kept = {h: v for h, v in zip(header, values) if h not in _PERSONAL}
        return mask_text(to_json(kept)) or ""
    return mask_text(",".join(values)) or ""


def map_row(rec: dict[str, str], pii, *, load_id: str, delivery: str, position: int) -> tuple[dict, list[dict]]:
    source_id = rec["警情编号"].strip()
    if not source_id:
        raise RecordError("警情编号 is empty")
    received = _time(rec["接警时间"], "接警时间", required=True)
    dispatched = _time(rec["转办时间"], "转办时间")
    feedback = _time(rec["反馈时间"], "反馈时间")
    row = blank_row(CHANNEL, source_id, load_id=load_id, delivery=delivery, position=position)
    handed_to = text_or_none(rec["转办去向"])
    row.update(
        version_at=max(t for t in (received, dispatched, feedback) if t is not None),
        received_at=received,
        caller_key=pii.caller_key(rec["报警电话"]),
        title=text_or_none(rec["警情类别"]),
        content=mask_text(text_or_none(rec["简要警情"])),
        address=mask_text(text_or_none(rec["发生地址"])),
        source_category=text_or_none(rec["警情类别"]),
        unit=handed_to,
        handed_to=handed_to,
        dispatched_at=dispatched,
        source_status=text_or_none(rec["状态"]),
        # 管辖单位 / 处置反馈 / 反馈时间 and any column the spec does not name are kept, not interpreted.
        extra=mask_text(to_json({k: v for k in rec if k in _KEPT_IN_EXTRA or (k not in COLUMNS and k)
                                 if (v := text_or_none(rec[k]))})),
    )
    events = [make_event(CHANNEL, source_id, 1, received, "received", position, unit=text_or_none(rec["管辖单位"]))]
    if dispatched is not None:
        events.append(make_event(CHANNEL, source_id, 2, dispatched, "dispatched", position, unit=handed_to))
    return row, events


def parse_110(data: bytes, delivery: str, pii, *, load_id: str,
              earlier_versions: tuple[str, ...] = ()) -> ParsedDelivery:
    """Parse one day's file. ``earlier_versions``: names of the same day's earlier files this one replaces."""
    out = ParsedDelivery(CHANNEL, delivery, load_id, superseded_deliveries=tuple(earlier_versions))
    # Undecodable bytes become U+FFFD and quarantine only the rows they sit in.
    text = data.decode(ENCODING, errors="replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as err:  # e.g. NUL bytes: nothing in the file can be trusted to be a row boundary
        out.reject(f"not readable as CSV ({err})")
        return out
    while records and not any(cell.strip() for cell in records[-1]):
        records.pop()  # blank lines at the end
    if not records:
        out.reject("empty file: no header, no trailer")
        return out
    header = [h.strip() for h in records[0]]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        out.reject(f"header lacks {', '.join(missing)}: not the 110 layout")
        return out
    trailer = None
    body = records[1:]
    if body and len(body[-1]) == 1 and (m := TRAILER.match(body[-1][0])):
        trailer = int(m[1])
        body = body[:-1]
    for position, values in enumerate(body, start=1):
        try:
            if len(values) != len(header):
                raise RecordError(f"{len(values)} fields, expected {len(header)}")
            if any("\ufffd" in v for v in values):
                raise RecordError("bytes that are not valid GB18030")
            row, events = map_row(dict(zip(header, values)), pii, load_id=load_id, delivery=delivery,
                                  position=position)
        except RecordError as err:
            out.quarantine.append(QuarantinedRow(position, err.reason, _masked_record(values, header)))
            continue
        out.rows.append(row)
        out.events.extend(events)
    if trailer is None:
        out.reject(f"trailer 合计：N条 missing after {len(body)} data rows (truncated transfer?)")
    elif trailer != len(body):
        out.reject(f"trailer says {trailer} rows, file has {len(body)} (truncated transfer?)")
    return out
