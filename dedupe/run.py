"""`match(warehouse, review_dir)`: match what is new in core.intake against recent cases and write the results.

One run: read the intakes not yet linked (plus those a reviewer's cannot-link detaches), read the intakes of cases
that can still receive members (received within the longest time window before the earliest new intake), block,
score, assign, apply must-links, then write core.case_link / core.case / core.case_merge / core.match_review in
one transaction. Old assignments are never re-clustered; case ids never change.
"""
from __future__ import annotations

import resource
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from dedupe import blocking, cluster, records as records_mod, scoring, store
from dedupe.topics import MAX_WINDOW_S


@dataclass
class MatchReport:
    intakes_matched: int = 0  # intakes assigned in this run (new ones and any a cannot-link detached)
    merged_into_existing: int = 0  # of those, how many joined a case that existed before this run
    new_cases: int = 0
    repeats: int = 0  # new cases that repeat a closed case
    review_pairs: int = 0  # pairs added to core.match_review in this run
    case_merges: int = 0
    candidates: int = 0
    decisions_applied: int = 0
    decisions_rejected: list = field(default_factory=list)  # (line, reason) of decisions.csv lines not applied
    seconds: float = 0.0
    stage_seconds: dict = field(default_factory=dict)  # prepare / candidates / cluster / write
    # CPU seconds per stage: this process's threads plus the worker processes that ended in the stage (prepare's)
    stage_cpu_seconds: dict = field(default_factory=dict)
    model: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?", [schema, name]
        ).fetchall()[0][0]
    )


def match(warehouse: Path, review_dir: Path, *, threads: int = 2) -> MatchReport:
    started = time.perf_counter()
    report = MatchReport()
    decisions = store.read_decisions(Path(review_dir))
    report.decisions_rejected = decisions.rejected
    con = duckdb.connect(str(warehouse))
    try:
        con.execute(f"SET threads = {int(threads)}")
        if not _table_exists(con, "core", "intake"):
            raise RuntimeError(f"{warehouse}: core.intake does not exist; run `gongzhi load` first")
        store.create_output_tables(con)
        con.execute("BEGIN TRANSACTION")
        try:
            _match_in_transaction(con, decisions, report, threads)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        con.close()
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _load_context(
    con: duckdb.DuckDBPyConnection, detached: list[tuple[str, str]], decided: list[tuple[str, str]]
) -> tuple[pa.Table, datetime]:
    """New intakes, detached ones, old intakes recent enough to share a case with a new one, and every intake a
    reviewer's decision names (so that a must-link between two old intakes is applied). Also the time from which
    a changed intake version makes its case's links be derived again (store.derive_links): the longest window
    before the earliest new intake (before the latest intake when nothing is new)."""
    for name, keys in (("detached", detached), ("decided", decided)):
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} (channel VARCHAR, source_id VARCHAR)")
        if keys:
            con.executemany(f"INSERT INTO {name} VALUES (?, ?)", keys)
    columns = ", ".join(f"i.{c}" for c in records_mod.MATCH_COLUMNS)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE to_match AS
        SELECT i.channel, i.source_id, i.received_at FROM core.intake i
        WHERE NOT EXISTS (SELECT 1 FROM core.case_link l WHERE l.channel = i.channel AND l.source_id = i.source_id)
           OR EXISTS (SELECT 1 FROM detached d WHERE d.channel = i.channel AND d.source_id = i.source_id)
        """
    )
    earliest = con.execute("SELECT min(received_at) FROM to_match").fetchall()[0][0]
    cutoff = (earliest or datetime.max) - timedelta(seconds=MAX_WINDOW_S) if earliest else datetime.max
    latest = earliest or con.execute("SELECT max(received_at) FROM core.intake").fetchall()[0][0]
    changed_since = latest - timedelta(seconds=MAX_WINDOW_S) if latest else datetime.max
    context = con.sql(
        f"""
        SELECT {columns}, m.channel IS NOT NULL AS is_new,
               CASE WHEN m.channel IS NULL THEN l.case_id END AS case_id
        FROM core.intake i
        LEFT JOIN to_match m USING (channel, source_id)
        LEFT JOIN core.case_link l USING (channel, source_id)
        WHERE m.channel IS NOT NULL OR (l.case_id IS NOT NULL AND i.received_at >= ?)
           OR (l.case_id IS NOT NULL AND EXISTS (
                SELECT 1 FROM decided d WHERE d.channel = i.channel AND d.source_id = i.source_id))
        """,
        params=[cutoff],
    ).to_arrow_table()
    return context, changed_since


def _detached_by_cannot_link(con: duckdb.DuckDBPyConnection, decisions: store.Decisions) -> list[tuple[str, str]]:
    """For each cannot-link pair now in one case, the later intake leaves the case and is matched again."""
    detached = []
    for d in decisions.valid:
        if d.decision != "cannot_link":
            continue
        rows = con.execute(
            """SELECT l.channel, l.source_id, l.case_id, i.received_at FROM core.case_link l
               JOIN core.intake i USING (channel, source_id)
               WHERE (l.channel = ? AND l.source_id = ?) OR (l.channel = ? AND l.source_id = ?)
               ORDER BY i.received_at DESC, l.channel DESC, l.source_id DESC""",
            [*d.a, *d.b],
        ).fetchall()
        if len(rows) == 2 and rows[0][2] == rows[1][2]:
            detached.append((rows[0][0], rows[0][1]))
    return detached


def _match_in_transaction(con, decisions: store.Decisions, report: MatchReport, threads: int) -> None:
    detached = _detached_by_cannot_link(con, decisions)
    decided = sorted({key for d in decisions.valid for key in (d.a, d.b)})
    clock, cpu_clock = time.perf_counter(), _cpu_seconds()

    def lap(stage: str) -> None:
        nonlocal clock, cpu_clock
        now, cpu_now = time.perf_counter(), _cpu_seconds()
        report.stage_seconds[stage] = round(now - clock, 2)
        report.stage_cpu_seconds[stage] = round(cpu_now - cpu_clock, 2)
        clock, cpu_clock = now, cpu_now

    context, changed_since = _load_context(con, detached, decided)
    lap("load")
    records = records_mod.prepare(context, workers=threads)
    lap("prepare")
    # prepare() sorts by time: carry is_new / case_id along the same order
    order_table = context.select([*records_mod.ORDER_COLUMNS, "caller_key", "is_new", "case_id"]).sort_by(
        [(name, "ascending") for name in records_mod.ORDER_COLUMNS]
    )
    is_new = np.asarray(order_table.column("is_new").to_numpy(zero_copy_only=False), dtype=bool)
    existing_case = order_table.column("case_id").to_pylist()
    index_of = {records.key(k): k for k in range(len(records))}

    old_ids = sorted({c for c in existing_case if c is not None})
    existing_cases = _existing_case_info(con, old_ids, index_of)

    pairs_i, pairs_j, patterns = _candidates_scored(records, is_new, threads)
    lap("block_and_compare")
    pairs_i, pairs_j, forced = _add_decision_pairs(pairs_i, pairs_j, decisions, index_of)
    report.candidates = int(len(pairs_i))
    if len(patterns) < len(pairs_i):  # pairs only a decision names: their pattern is irrelevant (forced below)
        patterns = np.concatenate([patterns, np.zeros(len(pairs_i) - len(patterns), dtype=patterns.dtype)])
    model = scoring.fit_patterns(np.bincount(patterns.astype(np.int64), minlength=scoring.PATTERNS), estimate_m=False)
    report.model = model.as_dict()
    prob = scoring.pair_probabilities(model, records, pairs_i, pairs_j, patterns, prior=scoring.REFERENCE_PRIOR)
    for position, value in forced.items():
        prob[position] = value

    # pairs this unlikely add nothing to a case's mean probability: clustering never needs to look at them
    keep = prob >= cluster.NEGLIGIBLE
    keep[[position for position, value in forced.items() if value == cluster.CANNOT_LINK]] = True  # kept: they veto
    pairs_i, pairs_j, prob, patterns = pairs_i[keep], pairs_j[keep], prob[keep], patterns[keep]
    evidence = cluster.CaseEvidence.from_model(model, prior=scoring.REFERENCE_PRIOR)
    lap("fit")
    result = cluster.assign(records, is_new, pairs_i, pairs_j, prob, existing_case, existing_cases, patterns, evidence)
    lap("cluster")
    for d in decisions.valid:
        a, b = index_of.get(d.a), index_of.get(d.b)
        if d.decision == "must_link" and a is not None and b is not None and result.case[a] >= 0 and result.case[b] >= 0:
            if result.resolve(int(result.case[a])) != result.resolve(int(result.case[b])):
                cluster.merge_cases(result, int(result.case[a]), int(result.case[b]), "must_link")
    report.decisions_applied = len(decisions.valid)
    _write(con, records, is_new, result, decisions, report, changed_since, order_table)
    lap("write")


def _cpu_seconds() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _candidates_scored(records, is_new, threads: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Blocking and comparison slab by slab: only (i, j) as int32 and a 2-byte pattern code per pair are kept,
    so 1 M intakes (~40 M candidate pairs) fit in a few GB."""
    parts_i, parts_j, parts_p = [], [], []
    for i, j in _ahead(blocking.candidate_slabs(records, is_new, threads=threads)):
        parts_i.append(i.astype(np.int32))
        parts_j.append(j.astype(np.int32))
        parts_p.append(scoring.score_patterns(records, i, j, workers=threads))
    if not parts_i:
        return np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.int16)
    return np.concatenate(parts_i), np.concatenate(parts_j), np.concatenate(parts_p)


def _ahead(slabs):
    """The slabs of a generator, the next one built in a thread while the caller works on the current one: DuckDB's
    joins (blocking) and the comparisons (rapidfuzz, numpy) release the GIL, and each leaves a core idle part of
    the time (one-threaded sorts and conversions). Same slabs, same order."""
    import queue
    import threading

    ready: queue.Queue = queue.Queue(maxsize=1)
    done = object()
    stop = threading.Event()

    def produce() -> None:
        try:
            for slab in slabs:
                if stop.is_set():
                    break
                ready.put(slab)
            ready.put(done)
        except BaseException as error:  # handed to the consumer: raised where the slabs are used
            ready.put(error)

    worker = threading.Thread(target=produce, name="blocking-ahead", daemon=True)
    worker.start()
    try:
        while True:
            item = ready.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while worker.is_alive():  # let a producer blocked on a full queue finish
            try:
                ready.get(timeout=0.1)
            except queue.Empty:
                pass
        worker.join()
        slabs.close()


def _existing_case_info(con, case_ids: list[str], index_of: dict) -> dict[str, dict]:
    if not case_ids:
        return {}
    # an Arrow table, not executemany: DuckDB inserts parameter rows one at a time (34 k old cases took 10 s)
    con.register("wanted_case", pa.table({"case_id": pa.array(case_ids, type=pa.string())}))
    rows = con.execute(
        """SELECT c.case_id, c.created_at, c.repeat_of_case_id FROM core."case" c JOIN wanted_case USING (case_id)"""
    ).fetchall()
    con.unregister("wanted_case")
    creators = {}
    for key, k in index_of.items():
        creators[cluster.case_id_for(*key)] = k
    epoch = datetime(1970, 1, 1)
    return {
        cid: {"first_t": (created - epoch).total_seconds(), "repeat_of": repeat_of, "first_index": creators.get(cid, -1)}
        for cid, created, repeat_of in rows
    }


def _add_decision_pairs(pairs_i, pairs_j, decisions: store.Decisions, index_of: dict):
    """Reviewers' decisions override the model: must_link scores 1, cannot_link 0, even if blocking missed them."""
    wanted = {}
    for d in decisions.valid:
        a, b = index_of.get(d.a), index_of.get(d.b)
        if a is None or b is None:
            continue
        wanted[(min(a, b), max(a, b))] = 1.0 if d.decision == "must_link" else cluster.CANNOT_LINK
    if not wanted:
        return pairs_i, pairs_j, {}
    existing = {}
    for a, b in wanted:  # a few decisions against millions of pairs: one vectorised scan each, no dict of all pairs
        found = np.flatnonzero((pairs_i == a) & (pairs_j == b))
        if len(found):
            existing[(a, b)] = int(found[0])
    extra = [pair for pair in wanted if pair not in existing]
    if extra:
        pairs_i = np.concatenate([pairs_i, np.array([p[0] for p in extra], dtype=np.int64)])
        pairs_j = np.concatenate([pairs_j, np.array([p[1] for p in extra], dtype=np.int64)])
        for k, pair in enumerate(extra):
            existing[pair] = len(pairs_i) - len(extra) + k
    return pairs_i, pairs_j, {existing[pair]: value for pair, value in wanted.items()}


def _write(con, records, is_new, result: cluster.Assignment, decisions: store.Decisions, report: MatchReport,
           changed_since: datetime, rows: pa.Table) -> None:
    """rows: the context's rows in record order (received_at, caller_key: what derive_links needs of them)."""
    # column-wise: one row per new intake (a Python loop over 1 M intakes cost seconds)
    new_positions = np.flatnonzero(is_new)
    survivor = _survivors(result)  # per case position, the position of the case it lives on in
    resolved = survivor[result.case[new_positions]] if len(new_positions) else np.zeros(0, dtype=np.int64)
    case_ids = np.array([s.case_id for s in result.cases] or [""], dtype=object)
    case_is_new = np.fromiter((s.is_new for s in result.cases), dtype=bool, count=len(result.cases))
    channel = np.array(records.channel, dtype=object)
    source_id = np.array(records.source_id, dtype=object)
    matched = result.matched_to[new_positions]
    has_match = matched >= 0
    matched_channel = np.where(has_match, channel[np.maximum(matched, 0)], None)
    matched_source = np.where(has_match, source_id[np.maximum(matched, 0)], None)
    score = result.score[new_positions]
    link_rows = {
        "channel": channel[new_positions],
        "source_id": source_id[new_positions],
        "case_id": case_ids[resolved],
        "link_type": np.full(len(new_positions), "duplicate", dtype=object),  # derived below
        "is_lead": np.zeros(len(new_positions), dtype=bool),
        "match_score": [None if v != v else round(v, 6) for v in score.tolist()],  # v != v: NaN
        "matched_to_channel": matched_channel,
        "matched_to_source_id": matched_source,
    }
    report.merged_into_existing += int((~case_is_new[resolved]).sum()) if len(resolved) else 0
    report.intakes_matched = len(new_positions)
    positions = pa.array(new_positions)
    link_rows["received_at"] = rows.column("received_at").take(positions)
    link_rows["to_unit"] = np.asarray(records.dispatched, dtype=bool)[new_positions]  # records.TO_UNIT_SQL
    link_rows["caller_key"] = rows.column("caller_key").take(positions)
    link_arrow = pa.table({name: link_rows[name] for name in store.NEW_LINK_SCHEMA.names}, schema=store.NEW_LINK_SCHEMA)
    con.register("link_arrow", link_arrow)  # written with the derived link types at the end

    new_cases = [s for s in result.cases if s.is_new]
    report.new_cases = sum(1 for s in new_cases if s.merged_into is None)
    report.repeats = sum(1 for s in new_cases if s.repeat_of is not None and s.merged_into is None)
    firsts = [s.first_index for s in new_cases]
    case_rows = {
        "case_id": [s.case_id for s in new_cases],
        "lead_channel": [records.channel[k] for k in firsts],  # the derived lead replaces it (store.derive_links)
        "lead_source_id": [records.source_id[k] for k in firsts],
        "repeat_of_case_id": [s.repeat_of for s in new_cases],
        "merged_into_case_id": [
            result.cases[result.resolve(s.merged_into)].case_id if s.merged_into is not None else None
            for s in new_cases
        ],
    }
    # created_at column-wise: microseconds since the epoch (naive CST, as records.t counts them)
    first_t = np.fromiter((s.first_t for s in new_cases), dtype=np.float64, count=len(new_cases))
    case_rows["created_at"] = pa.array(np.round(first_t * 1e6).astype(np.int64), type=pa.timestamp("us"))
    case_arrow = pa.table(case_rows, schema=store.CASE_SCHEMA)
    con.register("case_arrow", case_arrow)
    con.execute('DELETE FROM core."case" c USING case_arrow n WHERE c.case_id = n.case_id')
    con.execute('INSERT INTO core."case" SELECT * FROM case_arrow')
    con.unregister("case_arrow")

    now = datetime.now().replace(microsecond=0)
    if result.merges:
        # one set-based statement each (a statement per merge scanned case_link thousands of times at 1 M intakes);
        # every merged id points at its final survivor, so the order of the merges does not matter
        merge_rows = {name: [] for name in store.CASE_MERGE_SCHEMA.names}
        for merged, into, reason in result.merges:
            for name, value in zip(store.CASE_MERGE_SCHEMA.names, (
                    result.cases[merged].case_id, result.cases[result.resolve(into)].case_id, now, reason)):
                merge_rows[name].append(value)
        merge_arrow = pa.table(merge_rows, schema=store.CASE_MERGE_SCHEMA)
        merged_col, into_col = store.CASE_MERGE_SCHEMA.names[:2]
        con.register("merge_arrow", merge_arrow)
        con.execute(f"UPDATE core.case_link AS l SET case_id = m.{into_col} FROM merge_arrow m "
                    f"WHERE l.case_id = m.{merged_col}")
        con.execute(f'UPDATE core."case" AS c SET merged_into_case_id = m.{into_col} FROM merge_arrow m '
                    f"WHERE c.case_id = m.{merged_col}")
        con.execute("INSERT INTO core.case_merge SELECT * FROM merge_arrow")
        con.unregister("merge_arrow")
    report.case_merges = len(result.merges)

    survivors = sorted({case_ids[survivor[into]] for _, into, _ in result.merges})
    # the review rows are gathered (Python) while DuckDB derives the links (which releases the GIL)
    with ThreadPoolExecutor(1) as pool:
        review = pool.submit(_review_table, records, result, survivor)
        store.derive_links(con, "link_arrow", changed_since, survivors)
        con.unregister("link_arrow")
        _write_review(con, review.result(), decisions, report)


def _survivors(result: cluster.Assignment) -> np.ndarray:
    """Per case position, the position of the case it lives on in (Assignment.resolve for every case at once)."""
    survivor = np.fromiter((-1 if s.merged_into is None else s.merged_into for s in result.cases), dtype=np.int64,
                           count=len(result.cases))
    live = survivor < 0
    survivor[live] = np.flatnonzero(live)
    while True:  # follow merged_into until every position points at a live case (chains are short)
        following = survivor[survivor]
        if (following == survivor).all():
            return survivor
        survivor = following


def _review_table(records, result: cluster.Assignment, survivor: np.ndarray) -> pa.Table:
    """The review pairs left in two cases, each pair once (its first score), as REVIEW_SCHEMA rows. survivor: per
    case position, the position of the case it lives on in."""
    rows = {name: [] for name in store.REVIEW_SCHEMA.names}
    seen = set()
    final = survivor.tolist()
    case_of = result.case.tolist()
    channel, source_id = records.channel, records.source_id
    for a, b, p in result.review:
        if final[case_of[a]] == final[case_of[b]]:
            continue
        key = tuple(sorted(((channel[a], source_id[a]), (channel[b], source_id[b]))))
        if key in seen:
            continue
        seen.add(key)
        rows["channel_a"].append(key[0][0])
        rows["source_id_a"].append(key[0][1])
        rows["channel_b"].append(key[1][0])
        rows["source_id_b"].append(key[1][1])
        rows["match_score"].append(round(float(p), 6))
        rows["decision"].append(None)
    return pa.table(rows, schema=store.REVIEW_SCHEMA)


def _write_review(con, review: pa.Table, decisions: store.Decisions, report: MatchReport) -> None:
    con.register("review_arrow", review)
    before = con.execute("SELECT count(*) FROM core.match_review").fetchall()[0][0]
    con.execute(
        """INSERT INTO core.match_review SELECT * FROM review_arrow n WHERE NOT EXISTS (
             SELECT 1 FROM core.match_review r WHERE r.channel_a = n.channel_a AND r.source_id_a = n.source_id_a
               AND r.channel_b = n.channel_b AND r.source_id_b = n.source_id_b)"""
    )
    con.unregister("review_arrow")
    report.review_pairs = con.execute("SELECT count(*) FROM core.match_review").fetchall()[0][0] - before
    # reviewers' decisions are shown next to the pairs they settle
    for d in decisions.valid:
        a, b = sorted((d.a, d.b))
        con.execute(
            """UPDATE core.match_review SET decision = ? WHERE channel_a = ? AND source_id_a = ?
               AND channel_b = ? AND source_id_b = ?""",
            [d.decision, *a, *b],
        )
