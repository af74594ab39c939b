"""Landing data for the 12345 tests: work-order versions with many gxsj ties, written as the simulator does."""
from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from pathlib import Path

BASE = datetime(2024, 3, 5, 8, 0, 0)


def make_versions(n_orders: int = 120, *, seed: int = 7, distinct_seconds: int = 40) -> list[dict]:
    """Work orders with 1-4 versions each; gxsj drawn from few seconds so that many versions tie."""
    rng = random.Random(seed)
    seconds = sorted(rng.sample(range(0, 3 * 86400), distinct_seconds))
    versions = []
    for i in range(n_orders):
        gdbh = f"BH12345{20240305:08d}{i:04d}"
        slsj = BASE + timedelta(seconds=rng.randrange(0, 3600))
        times = sorted(rng.sample(seconds, rng.randint(1, 4)))
        for v, sec in enumerate(times):
            gxsj = max(slsj, BASE + timedelta(seconds=sec))
            versions.append({
                "gdbh": gdbh, "slsj": f"{slsj:%Y-%m-%d %H:%M:%S}", "ldhm": f"1380551{i:04d}", "sqrxm": "张先生",
                "sfbm": "0", "sqlx": "投诉", "sqbt": f"问题{i}", "sqnr": f"市民来电反映：问题{i}，电话1390551{i:04d}",
                "sfdz": "包河区徽州大道", "xzqh": "340111", "jd": "", "zbx": 117.29, "zby": 31.74,
                "fl1": "城乡建设", "fl2": "市政设施", "fl3": "", "jjcd": "一般", "cbdw": "", "pdsj": None,
                "qssj": None, "blsx": None, "yqsx": None, "bjsj": None, "gdzt": "待派单", "hfmyd": None,
                "cbcs": v, "cbbz": 0, "glgdbh": "", "gxsj": f"{gxsj:%Y-%m-%d %H:%M:%S}",
                "lc": [{"dz": "受理", "sj": f"{slsj:%Y-%m-%d %H:%M:%S}", "dw": "12345热线", "yj": ""}],
            })
    return versions


def write_landing(landing: Path, versions: list[dict]) -> None:
    """One file per gxsj day, lines in a shuffled order (the server must sort)."""
    landing.mkdir(parents=True, exist_ok=True)
    by_day: dict[str, list[dict]] = {}
    for v in versions:
        by_day.setdefault(v["gxsj"][:10].replace("-", ""), []).append(v)
    rng = random.Random(1)
    for day, items in by_day.items():
        items = items[:]
        rng.shuffle(items)
        (landing / f"work_orders_{day}.jsonl").write_text(
            "".join(json.dumps(v, ensure_ascii=False) + "\n" for v in items), encoding="utf-8")


def version_key(record: dict) -> tuple[str, str]:
    return record["gdbh"], record["gxsj"]
