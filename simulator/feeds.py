"""Delivery files: merge the strands' per-day shards into the files each upstream system delivers, place the
file-level faults (trailers, broken rows) with a seeded RNG, and assemble the truth parquet files.

Layout written under ``landing/`` (see docs/simulator.md): ``12345/work_orders_YYYYMMDD.jsonl``,
``110/fjwjq_YYYYMMDD.csv`` (+ ``_v2``), ``petition/xfdj_YYYYMMDD.xlsx``, ``hotline/<code>/YYYY-MM-DD.jsonl[.gz]``.
"""
from __future__ import annotations

import bisect
import csv
import gzip
import heapq
import io
import pickle
import random
import re
import zipfile
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import date, datetime, time, timedelta
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
from openpyxl.styles import Alignment

from simulator.catalog import HOTLINE_CODES
from simulator.handling import from_seconds
from simulator.generator import (STRANDS, RunningStrands, SimulationConfig, fewer_gc_passes, petition_export_days,
                                 shard_path, truth_part_path)
from simulator.truth import INCIDENT_TRUTH_SCHEMA, INTAKE_TRUTH_SCHEMA, MALFORMED_SCHEMA

FIXED_XLSX_TIME = datetime(2024, 1, 1, 0, 0, 0)
HOTLINE_GZIP = {"12369", "12320"}  # these systems deliver .jsonl.gz
HEADER_110 = ["警情编号", "接警时间", "报警电话", "报警人", "警情类别", "简要警情", "发生地址", "管辖单位", "转办时间", "转办去向",
              "处置反馈", "反馈时间", "状态"]
HEADER_PETITION = ["信访件编号", "登记日期", "信访形式", "信访人", "证件号码", "联系电话", "人数", "问题属地", "信访目的",
                   "内容分类", "信访事项", "责任单位", "办理期限", "办结日期", "办理状态", "是否重复信访", "评价"]
SHEET_XML = "xl/worksheets/sheet1.xml"
XLSX_COLUMNS = "ABCDEFGHIJKLMNOPQ"
EXCEL_EPOCH = datetime(1899, 12, 30)  # day 0 of Excel's serial dates (1900 system, after its leap-year bug)
# truth columns with few distinct values (categories, codes, units, estates): the only ones dictionary-encoded
DICTIONARY_COLUMNS = {"channel", "link_type", "kind_code", "category_l1", "category_l2", "demand_type", "urgency",
                      "street_code", "community_code", "lead_channel", "unit", "rating", "hard_negative_kind", "estate"}
TRUTH_ROW_GROUP = 200_000  # rows per row group of the final truth files
PETITION_OVERLAP_DAYS = 9  # an export lists registrations of its last 10 days: consecutive exports overlap


class FeedWriter:
    def __init__(self, config: SimulationConfig, landing: Path, truth: Path, shard_dir: Path):
        self.cfg = config
        self.rnd = random.Random(f"{config.seed}:files")
        self.landing, self.truth, self.shard_dir = landing, truth, shard_dir
        self.malformed: list[dict] = []
        self.files: list[str] = []
        self.export_days = petition_export_days(config)
        self.open_petitions: list[dict] = []  # registered so far and possibly listed by a coming export

    def write_all(self, strands: RunningStrands | None = None) -> None:
        """Every day's files, then the truth: with `strands` still running, each day as soon as every strand is
        past it (the file phase overlaps the strands' run); without, the strands are done."""
        for sub in ("12345", "110", "petition"):
            (self.landing / sub).mkdir(parents=True, exist_ok=True)
        for code in HOTLINE_CODES:
            (self.landing / "hotline" / code).mkdir(parents=True, exist_ok=True)
        days = [self.cfg.start + timedelta(days=d) for d in range(self.cfg.days)]
        with fewer_gc_passes(), ThreadPoolExecutor(1, thread_name_prefix="truth") as truth_thread:
            # the truth's strand parts are joined in a thread as each strand finishes (pyarrow reads and writes
            # without the GIL), while the day files are written, not alone at the end
            truth_done = truth_thread.submit(self._concat_truth, strands)
            for day in days:  # in day order: the 110 files and petition exports draw seeded random numbers
                if strands is not None:
                    strands.wait_for_day(day)
                self._write_day(day)
            truth_done.result()  # re-raises what failed in the thread
        pq.write_table(pa.Table.from_pylist(self.malformed, schema=MALFORMED_SCHEMA), self.truth / "malformed.parquet")

    def _write_day(self, day: date) -> None:
        """Merge the strands' rows of `day` and write its files (the strands' shards are deleted once read)."""
        shards = []
        for s in range(STRANDS):
            path = shard_path(self.shard_dir / f"strand_{s}", day)
            with open(path, "rb") as fh:
                shards.append(pickle.load(fh))
            path.unlink()
        self._write_12345(day, [sh["12345"] for sh in shards])
        for code in HOTLINE_CODES:
            self._write_hotline(day, code, [sh["hotline"][code] for sh in shards])
        self._write_110(day, [sh["110"] for sh in shards])
        self._petitions_of_day(day, [p for sh in shards for p in sh["petition"]])

    # ------------------------------------------------------------------ helpers
    def _record_fault(self, channel: str, delivery: str, position: int, kind: str, source_id: str | None = None,
                      version_at: datetime | None = None) -> None:
        self.malformed.append({"channel": channel, "delivery": delivery, "position": position, "source_id": source_id,
                               "version_at": version_at, "fault_kind": kind})

    def _write(self, path: Path, data: bytes) -> None:
        path.write_bytes(data)
        self.files.append(str(path.relative_to(self.landing)))

    @staticmethod
    def _merge(parts: list[list]) -> list:
        """The strands' sorted rows merged by (time, id). Rows compare as tuples, without a key function: two
        strands never share an id (interleaved numbering), so rows of different strands are ordered by their
        first two fields alone, and heapq.merge never compares two rows of one strand."""
        return list(heapq.merge(*parts))

    # ------------------------------------------------------------------ channels
    def _write_12345(self, day: date, parts: list[list]) -> None:
        name = f"work_orders_{day:%Y%m%d}.jsonl"
        out = []
        # a line is a version (plain store) or an order (order store): its broken versions as (kind, gxsj)
        for pos, (_, gdbh, line, faults) in enumerate(self._merge(parts), start=1):
            out.append(line)
            for kind, gx in faults:
                self._record_fault("12345", name, pos, kind, gdbh, gx)
        self._write(self.landing / "12345" / name, b"\n".join(out) + b"\n" if out else b"")  # lines are UTF-8

    def _write_hotline(self, day: date, code: str, parts: list[list]) -> None:
        rows = self._merge(parts)
        if not rows:
            return
        gz = code in HOTLINE_GZIP
        name = f"{day:%Y-%m-%d}.jsonl" + (".gz" if gz else "")
        lines = []
        for pos, (updated, ticket, line, fault) in enumerate(rows, start=1):
            lines.append(line)
            if fault:
                self._record_fault("hotline", f"{code}/{name}", pos, fault, f"{code}:{ticket}", from_seconds(updated))
        data = ("\n".join(lines) + "\n").encode("utf-8")
        if gz:
            bio = io.BytesIO()
            # level 6 (zlib's default): 3× less CPU than gzip's 9 for ~3 % more bytes
            with gzip.GzipFile(filename="", mode="wb", fileobj=bio, mtime=0, compresslevel=6) as fh:
                fh.write(data)
            data = bio.getvalue()
        self._write(self.landing / "hotline" / code / name, data)

    def _write_110(self, day: date, parts: list[list]) -> None:
        rnd = self.rnd
        rows = self._merge(parts)
        name = f"fjwjq_{day:%Y%m%d}.csv"
        broken_rows = {pos for pos in range(1, len(rows) + 1) if rnd.random() < self.cfg.fault_rate}
        trailer_fault = rnd.random() < min(0.5, self.cfg.fault_rate * 5)
        # a day with a broken first delivery always gets a corrected _v2; others sometimes (late feedback)
        needs_v2 = bool(broken_rows) or trailer_fault or rnd.random() < 0.12
        v1 = []
        for pos, (_, jqbh, row, _v2) in enumerate(rows, start=1):
            if pos in broken_rows:
                kind = rnd.choice(("missing_columns", "bad_datetime"))
                row = row[:-3] if kind == "missing_columns" else [row[0], "2024/2/30 25:61:00"] + row[2:]
                self._record_fault("110", name, pos, kind, jqbh)
            v1.append(row)
        trailer = f"合计：{len(rows)}条"
        if trailer_fault:
            kind = rnd.choice(("wrong_trailer", "missing_trailer"))
            trailer = f"合计：{len(rows) + rnd.randint(1, 9)}条" if kind == "wrong_trailer" else None
            self._record_fault("110", name, -1, kind)
        self._write(self.landing / "110" / name, csv_110(v1, trailer))
        if needs_v2:
            self._write(self.landing / "110" / f"fjwjq_{day:%Y%m%d}_v2.csv",
                        csv_110([r[3] for r in rows], f"合计：{len(rows)}条"))

    def _petitions_of_day(self, day: date, registered: list[dict]) -> None:
        """Keep the day's new petitions; on an export day, export and forget the petitions no later export lists
        (every change done, registration before the next export's period): the year's petitions are never held
        at once."""
        self.open_petitions.extend(registered)
        exports = self.export_days
        i = bisect.bisect_left(exports, day)
        if i == len(exports) or exports[i] != day:
            return
        previous = exports[i - 1] if i else None
        period_start = max(self.cfg.start, day - timedelta(days=PETITION_OVERLAP_DAYS))
        # listed: registered in the export's period, or changed since the previous export
        listed = [p for p in self.open_petitions
                  if period_start <= p["registered"] <= day
                  or any((previous is None or previous < when) and when <= day for when, *_ in p["versions"])]
        self._export(day, sorted(listed, key=lambda p: p["number"]))
        if i + 1 == len(exports):
            self.open_petitions = []
            return
        next_period_start = max(self.cfg.start, exports[i + 1] - timedelta(days=PETITION_OVERLAP_DAYS))
        self.open_petitions = [p for p in self.open_petitions if p["registered"] >= next_period_start
                               or any(when > day for when, *_ in p["versions"])]

    def _export(self, day: date, rows: list[dict]) -> None:
        rnd = self.rnd
        period_start = max(self.cfg.start, day - timedelta(days=PETITION_OVERLAP_DAYS))
        last_export = self.export_days[-1]
        title = f"包河区信访事项登记表（{period_start:%Y-%m-%d}至{day:%Y-%m-%d}）"
        name = f"xfdj_{day:%Y%m%d}.xlsx"
        out = []
        for pos, p in enumerate(rows, start=1):
            _, status, closed, rating = [v for v in p["versions"] if v[0] <= day][-1]
            text = p["date_text"]
            row = list(p["static"])
            row[1] = petition_date(p["registered"], text, rnd)
            row += [petition_date(p["deadline"], text, rnd), petition_date(closed, text, rnd) if closed else None,
                    status, p["marked"], rating]
            # only rows that a later export lists again are broken: the petition's current row arrives intact
            appears_later = any(day < when <= last_export for when, *_ in p["versions"])
            if appears_later and rnd.random() < self.cfg.fault_rate * 3:
                row[1] = rnd.choice(("2024年13月5日", "2024.02.30", "三月五日"))
                self._record_fault("petition", name, pos, "bad_date", p["number"])
            out.append(row)
        self._write(self.landing / "petition" / name, petition_xlsx(title, out))

    def _concat_truth(self, strands: RunningStrands | None = None) -> None:
        # dictionaries only for the columns with few distinct values: on ids pyarrow builds one, finds it too
        # big and falls back, for nothing (10 days at the 10 M rate: -30 % CPU and -17 % bytes for the truth)
        with ExitStack() as stack:
            writers = {name: stack.enter_context(pq.ParquetWriter(
                self.truth / f"{name}.parquet", schema,
                use_dictionary=[f for f in schema.names if f in DICTIONARY_COLUMNS]))
                for name, schema in (("intakes", INTAKE_TRUTH_SCHEMA), ("incidents", INCIDENT_TRUTH_SCHEMA))}
            for s in range(STRANDS):
                if strands is not None:
                    strands.wait_for_strand(s)  # its truth parts are complete
                for name, writer in writers.items():
                    for rows in _row_groups(truth_part_path(self.shard_dir / f"strand_{s}", name), TRUTH_ROW_GROUP):
                        writer.write_table(rows, row_group_size=TRUTH_ROW_GROUP)


def _row_groups(ipc_path: Path, size: int):
    """The rows of an Arrow IPC file as tables of `size` rows (the last one shorter), read batch by batch (not
    memory-mapped): only one row group's rows are in memory at a time."""
    with pa.OSFile(str(ipc_path)) as source:
        reader = pa.ipc.open_file(source)
        pending, held = [], 0
        for i in range(reader.num_record_batches):
            batch = reader.get_batch(i)
            pending.append(batch)
            held += batch.num_rows
            while held >= size:
                table = pa.Table.from_batches(pending, schema=reader.schema)
                yield table.slice(0, size)
                rest = table.slice(size)
                pending, held = rest.to_batches(), rest.num_rows
        if held:
            yield pa.Table.from_batches(pending, schema=reader.schema)


def petition_xlsx(title: str, rows: list[list]) -> bytes:
    """The export workbook, byte for byte what openpyxl writes for these cells, ~10x faster: openpyxl writes the
    title and header rows and the styles (the merged, centred title; the date format), and the data rows'
    XML is written here, cell by cell as openpyxl would (inline strings, dates as serial numbers)."""
    has_dates = any(type(v) is datetime for row in rows for v in row)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "信访事项"
    ws.append([title] + [None] * 16)
    ws.merge_cells("A1:Q1")
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.append(HEADER_PETITION)
    if has_dates:  # one date cell registers the date style; its row is replaced by the data rows
        ws.append([None, FIXED_XLSX_TIME])
        ws["B3"].number_format = "yyyy-mm-dd"
    wb.properties.created = FIXED_XLSX_TIME
    wb.properties.modified = FIXED_XLSX_TIME
    wb.properties.creator = "信访信息系统"
    bio = io.BytesIO()
    wb.save(bio)
    with zipfile.ZipFile(io.BytesIO(bio.getvalue())) as z:
        sheet = z.read(SHEET_XML)
    head, rest = sheet.split(b"<sheetData>", 1)
    data, tail = rest.split(b"</sheetData>", 1)
    date_style = b""
    if has_dates:
        date_style = re.search(rb'<c r="B3" (s="\d+") t="n">', data).group(1).decode()
        data = data[: data.index(b'<row r="3">')]
    head = re.sub(rb'<dimension ref="[^"]*" />', f'<dimension ref="A1:Q{len(rows) + 2}" />'.encode(), head)
    body = [head, b"<sheetData>", data]
    for n, row in enumerate(rows, start=3):
        cells = []
        for col, v in zip(XLSX_COLUMNS, row):
            if v is None:
                continue
            kind = type(v)
            if kind is str:
                if not v:
                    cells.append(f'<c r="{col}{n}" t="inlineStr" />')
                    continue
                stripped = v.strip()
                text = v.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                space = ' xml:space="preserve"' if stripped and stripped != v else ""
                cells.append(f'<c r="{col}{n}" t="inlineStr"><is><t{space}>{text}</t></is></c>')
            elif kind is datetime:
                cells.append(f'<c r="{col}{n}" {date_style} t="n"><v>{(v - EXCEL_EPOCH).days}</v></c>')
            else:
                cells.append(f'<c r="{col}{n}" t="n"><v>{v}</v></c>')
        body.append(f'<row r="{n}">{"".join(cells)}</row>'.encode("utf-8"))
    body += [b"</sheetData>", tail]
    return fixed_zip_times(bio.getvalue(), {SHEET_XML: b"".join(body)})


def fixed_zip_times(xlsx: bytes, replace: dict[str, bytes] | None = None) -> bytes:
    """openpyxl stamps zip members and the document's modified time with the current time: re-stamp both so
    the same seed gives the same bytes (and put in the members given in `replace`)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_XLSX_TIME.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            data = replace[info.filename] if replace and info.filename in replace else src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                              rb"\g<1>" + FIXED_XLSX_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode() + rb"\g<2>", data)
            dst.writestr(fixed, data)
    return out.getvalue()


def csv_110(rows: list[list[str]], trailer: str | None) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow(HEADER_110)
    w.writerows(rows)
    if trailer is not None:
        buf.write(trailer + "\r\n")
    return buf.getvalue().encode("gb18030")


def petition_date(d: date, text: bool, rnd: random.Random):
    if not text:
        return datetime.combine(d, time())
    return f"{d.year}.{d.month:02d}.{d.day:02d}" if rnd.random() < 0.5 else f"{d.year}年{d.month}月{d.day}日"
