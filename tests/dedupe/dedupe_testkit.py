"""Hand-made canonical intakes for matching tests, and a warehouse holding them."""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from connectors.schema import INTAKE_SCHEMA
from dedupe import cluster, scoring

T0 = datetime(2024, 3, 5, 8, 0, 0)


def default_evidence() -> cluster.CaseEvidence:
    """Case-level evidence from the default m and u (no fit): what the clustering tests score cases with."""
    model = scoring.FellegiSunter(
        m={name: np.asarray(scoring.DEFAULT_M[name]) for name in scoring.COMPARISONS},
        u={name: np.asarray(scoring.DEFAULT_U[name]) for name in scoring.COMPARISONS},
        prior=0.05,
    )
    return cluster.CaseEvidence.from_model(model, prior=scoring.REFERENCE_PRIOR)


def assign_report_to_case(code: int, evidence: cluster.CaseEvidence, *, dispatched: bool, closed_minutes: float | None,
                          block: int, later_text: str = "井盖松动") -> cluster.Assignment:
    """One case (a report at the same point, dispatched or not, closed after `closed_minutes` or not) and a report
    ten minutes later whose one pair with it has pattern `code`: what the held-case bar tests cluster."""
    from dedupe import records as records_mod

    lon, lat = 117.3120, 31.7380
    rows = [intake("A", 0, "井盖破损", lon=lon, lat=lat, dispatched=dispatched, closed_minutes=closed_minutes),
            intake("B", 600, later_text, lon=lon, lat=lat, dispatched=False)]
    records = records_mod.prepare(intake_table(rows))
    i, j = np.array([0]), np.array([1])
    return cluster.assign(records, np.ones(2, dtype=bool), i, j, evidence.prob_table[[code]], [None, None], {},
                          np.array([code], dtype=np.int16), evidence, block=block)


def intake(source_id: str, minutes: float, content: str, *, channel: str = "12345", address: str = "",
           lon: float | None = None, lat: float | None = None, caller: str | None = None,
           category: str = "", title: str = "", dispatched: bool = True, closed_minutes: float | None = None) -> dict:
    received = T0 + timedelta(minutes=minutes)
    return {
        "channel": channel, "source_id": source_id, "version_at": received, "received_at": received,
        "caller_key": caller, "title": title, "content": content, "address": address, "lon": lon, "lat": lat,
        "source_category": category,
        "dispatched_at": received + timedelta(minutes=5) if dispatched else None,
        "closed_at": T0 + timedelta(minutes=closed_minutes) if closed_minutes is not None else None,
        "load_id": "test", "delivery": "test", "position": 0,
    }


def intake_table(rows: list[dict]) -> pa.Table:
    columns = {f.name: [row.get(f.name) for row in rows] for f in INTAKE_SCHEMA}
    return pa.table(columns, schema=INTAKE_SCHEMA)


def write_intakes(warehouse: Path, rows: list[dict]) -> None:
    """Replace core.intake with these rows (what `gongzhi load` leaves behind)."""
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("CREATE SCHEMA IF NOT EXISTS core")
        table = intake_table(rows)
        con.register("incoming", table)
        con.execute("CREATE TABLE IF NOT EXISTS core.intake AS SELECT * FROM incoming WHERE false")
        con.execute("DELETE FROM core.intake")
        con.execute("INSERT INTO core.intake SELECT * FROM incoming")
    finally:
        con.close()


def case_links(warehouse: Path) -> dict[tuple[str, str], dict]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute("SELECT channel, source_id, case_id, link_type, is_lead FROM core.case_link").fetchall()
    finally:
        con.close()
    return {(r[0], r[1]): {"case_id": r[2], "link_type": r[3], "is_lead": r[4]} for r in rows}


# A small district scene: one manhole reported four ways, a noise nuisance twice, a different problem at the same
# place, the same caller with another problem, and an unrelated report far away.
HUIZHOU_NANNING = (117.2897, 31.7432)


def scene() -> list[dict]:
    lon, lat = HUIZHOU_NANNING
    return [
        intake("A1", 0, "市民来电反映：徽州大道与南宁路交口东侧一处井盖缺失，存在安全隐患，请尽快处理。",
               address="包河区徽州大道与南宁路交口东50米", lon=lon, lat=lat, caller="c1", category="城乡建设/市政设施/井盖"),
        intake("A2", 30, "来电人称南宁路和徽州大道路口一处井蓋缺失，晚上很危險，希望有关部门處理。",
               address="南宁路徽州大道路口", caller="c2", category="城乡建设/市政设施", dispatched=False),
        intake("110-1", -10, "报警人称徽州大道南宁路口一处井盖缺失，有车辆险些掉入，要求处理。", channel="110",
               address="徽州大道与南宁路交口", lon=lon + 0.0003, lat=lat + 0.0002, caller="c3", category="市政设施损坏"),
        intake("H1", 90, "徽州大道南宁路交口非机动车道一处井盖缺失，存在安全隐患", channel="hotline", address="徽州大道与南宁路交口",
               lon=lon - 0.0002, lat=lat, caller="c4", category="井盖缺失"),
        # another problem at the same crossing the same morning
        intake("B1", 60, "市民来电反映：徽州大道与南宁路交口的路灯晚上不亮，已经好几天了。",
               address="徽州大道与南宁路交口", lon=lon + 0.0001, lat=lat, caller="c5", category="城乡建设/市政设施/路灯"),
        # the first caller reports a different problem elsewhere
        intake("C1", 120, "市民来电反映：滨湖和园小区南门烧烤店每晚油烟很大，影响居民休息。",
               address="滨湖和园小区南门", lon=117.3120, lat=31.7380, caller="c1", category="生态环境/油烟污染"),
        intake("C2", 24 * 60 + 200, "来电人称滨湖和园南门烧烤店每晚油烟很大，影响休息。",
               address="滨湖和园南门", lon=117.3121, lat=31.7381, caller="c6", category="环境保护/油烟"),
        intake("D1", 300, "市民来电反映：包河大道某工地夜间施工噪音扰民。", address="包河大道88号",
               lon=117.3300, lat=31.8000, caller="c7", category="环境保护/噪声"),
    ]
