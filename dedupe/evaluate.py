"""Matching quality against the simulator's truth: pairwise and B-cubed precision/recall/F1, over- and under-merge.

Both sides are clusterings of the same intakes: predicted case_id and true incident_id per (channel, source_id).
Only intakes present on both sides are scored (a quarantined intake has no case; that is the connectors' count).
Pair counts come from the contingency table, so a month of intakes is scored without listing pairs.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import duckdb


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def clustering_metrics(predicted: list, truth: list) -> dict:
    """predicted[k] and truth[k] are the cluster labels of item k."""
    if len(predicted) != len(truth):
        raise ValueError("predicted and truth must label the same items")
    n = len(predicted)
    cell = Counter(zip(predicted, truth))
    case_size = Counter(predicted)
    incident_size = Counter(truth)
    together_both = sum(_pairs(v) for v in cell.values())
    together_predicted = sum(_pairs(v) for v in case_size.values())
    together_truth = sum(_pairs(v) for v in incident_size.values())
    pair_p = together_both / together_predicted if together_predicted else 1.0
    pair_r = together_both / together_truth if together_truth else 1.0
    # B-cubed: per item, share of its case that is its incident (precision) and of its incident in its case (recall)
    b_p = sum(v * v / case_size[c] for (c, _), v in cell.items()) / n if n else 1.0
    b_r = sum(v * v / incident_size[t] for (_, t), v in cell.items()) / n if n else 1.0
    incidents_per_case = Counter(c for c, _ in cell)
    cases_per_incident = Counter(t for _, t in cell)
    return {
        "intakes": n,
        "cases": len(case_size),
        "incidents": len(incident_size),
        "pairwise_precision": pair_p,
        "pairwise_recall": pair_r,
        "pairwise_f1": _f1(pair_p, pair_r),
        "bcubed_precision": b_p,
        "bcubed_recall": b_r,
        "bcubed_f1": _f1(b_p, b_r),
        "over_merge_rate": sum(1 for v in incidents_per_case.values() if v > 1) / len(case_size) if n else 0.0,
        "under_merge_rate": sum(1 for v in cases_per_incident.values() if v > 1) / len(incident_size) if n else 0.0,
    }


def evaluate_warehouse(warehouse: Path, truth_dir: Path) -> dict:
    """Metrics of core.case_link against truth/intakes.parquet, plus link-type and lead agreement."""
    truth_file = Path(truth_dir) / "intakes.parquet"
    if not truth_file.exists():
        raise FileNotFoundError(f"{truth_file} not found: evaluation needs the simulator's truth")
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            f"""SELECT l.case_id, t.incident_id, l.is_lead, t.is_lead, l.link_type, t.link_type
                FROM core.case_link l JOIN read_parquet('{truth_file.as_posix()}') t
                  ON t.channel = l.channel AND CAST(t.source_id AS VARCHAR) = l.source_id"""
        ).fetchall()
        linked = con.execute("SELECT count(*) FROM core.case_link").fetchall()[0][0]
        truth_count = con.execute(f"SELECT count(*) FROM read_parquet('{truth_file.as_posix()}')").fetchall()[0][0]
    finally:
        con.close()
    metrics = clustering_metrics([r[0] for r in rows], [r[1] for r in rows])
    metrics["intakes_linked"] = linked
    metrics["intakes_in_truth"] = truth_count
    if rows:
        metrics["lead_agreement"] = sum(1 for r in rows if bool(r[2]) == bool(r[3])) / len(rows)
        metrics["link_type_agreement"] = sum(1 for r in rows if r[4] == r[5]) / len(rows)
    return metrics


def format_metrics(metrics: dict) -> str:
    lines = []
    for key, value in metrics.items():
        lines.append(f"{key:<22} {value:.4f}" if isinstance(value, float) else f"{key:<22} {value}")
    return "\n".join(lines)
