"""Builders for hand-made deliveries in the feeds' formats, shared by the connector tests."""
from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path

import duckdb
import openpyxl

from connectors.feed110 import COLUMNS as COLUMNS_110
from connectors.pii import PiiHasher

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "feed_samples"  # copy of the spec's samples
if not SAMPLES.is_dir():  # CI clones the repo with shared/ beside it
    SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "feeds" / "samples"
FIXTURES = Path(__file__).parent / "fixtures"
PII = PiiHasher("test-key")

PETITION_HEADER = ["信访件编号", "登记日期", "信访形式", "信访人", "证件号码", "联系电话", "人数", "问题属地", "信访目的",
                   "内容分类", "信访事项", "责任单位", "办理期限", "办结日期", "办理状态", "是否重复信访", "评价"]


def row_110(n: int, **overrides) -> dict:
    row = {
        "警情编号": f"3401112024030500{n:02d}", "接警时间": f"2024/3/5 {n % 24}:05:31", "报警电话": "13805512345",
        "报警人": "张先生", "警情类别": "噪声扰民", "简要警情": f"楼上装修，\n声音很大 第{n}次", "发生地址": "滨湖和园12栋",
        "管辖单位": "包河分局滨湖派出所", "转办时间": f"2024/3/5 {n % 24}:20:10", "转办去向": "12345平台",
        "处置反馈": "", "反馈时间": "", "状态": "已转办",
    }
    row.update(overrides)
    return row


def csv_110(rows: list[dict], *, trailer: int | None | str = "count") -> bytes:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(COLUMNS_110)
    for row in rows:
        writer.writerow([row[c] for c in COLUMNS_110])
    text = buf.getvalue()
    if trailer == "count":
        text += f"合计：{len(rows)}条\r\n"
    elif trailer is not None:
        text += f"合计：{trailer}条\r\n"
    return text.encode("gb18030")


def petition_row(n: int, **overrides) -> dict:
    row = dict(zip(PETITION_HEADER, [
        f"XF34011120240{n:05d}", "2024年3月5日", "来访", "李某某", "34010419800101123X", "0551-63351234", 2,
        "包河区滨湖和园", "求决", "城乡建设", f"油烟扰民第{n}件", "滨湖世纪社区街道办事处", "2024.05.05", None, "办理中",
        "否", "未评价"]))
    row.update(overrides)
    return row


def xlsx_petition(rows: list[dict], title: str = "包河区信访事项登记表（2024-03-01至2024-03-07）") -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "信访事项"
    sheet.append([title] + [None] * (len(PETITION_HEADER) - 1))
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(PETITION_HEADER))
    sheet.append(PETITION_HEADER)
    for row in rows:
        sheet.append([row[h] for h in PETITION_HEADER])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def ticket(n: int, hotline: str = "12319", **overrides) -> dict:
    obj = {
        "hotline": hotline, "ticket_id": f"U24030500{n:02d}", "received_at": "2024-03-05T08:31:10+08:00",
        "caller": {"phone": "13805512345", "name": "张先生"}, "summary": "井盖缺失", "detail": f"井盖缺失 {n}",
        "location": {"address": "徽州大道与南宁路交口", "lng": 117.2834, "lat": 31.7455, "crs": "wgs84"},
        "category": {"code": "0301", "name": "井盖缺失"}, "assignee": "区城管局", "due_at": 1709656270000,
        "closed_at": None, "status": "in_progress", "rating": None, "updated_at": "2024-03-05T08:40:00+08:00",
    }
    obj.update(overrides)
    return obj


def jsonl(objs: list, *, gz: bool = False) -> bytes:
    data = "".join((o if isinstance(o, str) else json.dumps(o, ensure_ascii=False)) + "\n" for o in objs).encode()
    return gzip.compress(data) if gz else data


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def query(warehouse: Path, sql: str, params=None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def table_snapshot(warehouse: Path) -> dict[str, list[tuple]]:
    """Every warehouse table's rows, sorted, minus columns that hold the load time."""
    out = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema IN ('raw', 'core')"
        ).fetchall()
        for schema, name in tables:
            cols = [c[0] for c in con.execute(f'DESCRIBE {schema}."{name}"').fetchall()
                    if c[0] not in ("loaded_at", "quarantined_at")]
            col_list = ", ".join(f'"{c}"' for c in cols)
            out[f"{schema}.{name}"] = sorted(
                con.execute(f'SELECT {col_list} FROM {schema}."{name}"').fetchall(), key=repr)
    return out
