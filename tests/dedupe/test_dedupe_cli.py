"""`gongzhi match` and `gongzhi evaluate-matching` end to end on the hand-made scene."""
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dedupe_testkit import scene, write_intakes
from dedupe import cli, cluster

# the scene's true incidents
INCIDENT = {"A1": "I1", "A2": "I1", "110-1": "I1", "H1": "I1", "B1": "I2", "C1": "I3", "C2": "I3", "D1": "I4"}


@pytest.fixture(autouse=True)
def operating_point(monkeypatch):
    monkeypatch.setattr(cluster, "AUTO_MATCH", 0.85)  # see test_dedupe_matching.operating_point


def test_match_then_evaluate_writes_text_and_json(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GONGZHI_HOME", str(tmp_path))
    rows = scene()
    write_intakes(tmp_path / "warehouse.duckdb", rows)
    (tmp_path / "truth").mkdir()
    pq.write_table(
        pa.table({
            "channel": [r["channel"] for r in rows],
            "source_id": [r["source_id"] for r in rows],
            "incident_id": [INCIDENT[r["source_id"]] for r in rows],
            "is_lead": [r["source_id"] in ("110-1", "B1", "C1", "D1") for r in rows],
            "link_type": ["lead" if r["source_id"] in ("110-1", "B1", "C1", "D1") else "duplicate" for r in rows],
        }),
        tmp_path / "truth" / "intakes.parquet",
    )
    assert cli.match_main(["--json", str(tmp_path / "run.json")]) == 0
    assert "intakes_matched" in capsys.readouterr().out
    assert json.loads((tmp_path / "run.json").read_text())["intakes_matched"] == 8
    assert cli.evaluate_main(["--json", str(tmp_path / "metrics.json")]) == 0
    printed = capsys.readouterr().out
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert "pairwise_f1" in printed and "bcubed_f1" in printed
    assert metrics["pairwise_f1"] == 1.0 and metrics["bcubed_f1"] == 1.0
    assert metrics["over_merge_rate"] == 0.0 and metrics["under_merge_rate"] == 0.0
    assert metrics["lead_agreement"] == 1.0 and metrics["link_type_agreement"] == 1.0


def test_evaluate_without_truth_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("GONGZHI_HOME", str(tmp_path))
    write_intakes(tmp_path / "warehouse.duckdb", scene())
    cli.match_main([])
    with pytest.raises(FileNotFoundError, match="truth"):
        cli.evaluate_main([])
