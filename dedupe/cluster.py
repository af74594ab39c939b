"""Clustering scored pairs into cases, one new intake at a time, in time order, without chaining.

An intake joins an existing case only when the case as a whole matches it with high probability (the pooled
comparison levels of the members it was paired with, CaseEvidence) AND no compared member is clearly elsewhere AND
it falls within the case's time span bound AND it is near every member that has its own point. A matched case that
is already closed makes the intake the lead of a new case marked as a repeat of it. Because cases only grow from
earlier intakes, history is never re-clustered: old assignments are input. Two open cases merge only when one new
intake matches both with very high probability (or a reviewer says so); the older case survives.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from dedupe.normalize import METRES_PER_DEG_LAT, METRES_PER_DEG_LON
from dedupe.records import Records
from dedupe import scoring
from dedupe.scoring import DIST_CUTS_M
from dedupe.topics import DAY, HOUR, MAX_WINDOW_S

# Thresholds on the match probability, one place for all of them.
AUTO_MATCH = 0.97  # join a case automatically at or above this (tuned on seed 20240301 only)
REVIEW_LOW = 0.95  # from here up to AUTO_MATCH a pair left in two cases goes to review
NEGLIGIBLE = 0.001  # pairs below this are dropped before clustering (they cannot change a decision)
CLEAR_DISAGREEMENT = 0.05  # a compared member this unlikely forbids a join (anti-chaining, with the mean rule)
MIN_MEAN_PROBABILITY = 0.6  # mean match probability against all the case's members
# one intake that joins two open cases at the join bar shows they are one problem: they merge (older id survives)
# when their places agree (0.995 kept fragments of big incidents apart: seed 20240301 pairwise F1 0.751 -> 0.784)
AUTO_MERGE = AUTO_MATCH
CANNOT_LINK = 0.0  # the probability a reviewer's cannot-link sets: such a member vetoes its case outright
# when no member the intake was compared with says anything about the place (no points, no comparable keys: a 110
# call naming no place), wording and category alone must be this sure (seed 20240301: such joins were wrong 46 % of
# the time at AUTO_MATCH; pairwise F1 0.784 -> 0.799, over-merge 1.69 -> 1.41 %). A 110 call and its relay score 1.
AUTO_MATCH_PLACE_UNKNOWN = 0.995
# intakes whose pairs are grouped by case with numpy at once (assign, _assign_pooled); 0: one pair at a time
FAST_BLOCK = 64
CONSIDER = 0.2  # a case is compared as a whole with an intake only when one of its members scores this much
# a case does not wander: a new member stays near every located member (as far as scoring still calls a place shared)
MAX_MEMBER_DISTANCE_M = DIST_CUTS_M[-1]
# ... and within this of every member when either point is borrowed (records.approximate: the median point of the
# located reports naming the same estate, crossing or road stretch, off by ~120 m at the median and ~300 m at the
# 90th percentile, session 7b): such a point cannot say "near" to 250 m, but one this far is another place (session
# 10, /tmp/s9q seed 20240301: pairwise F1 0.9346 -> 0.9362, precision 0.953 -> 0.956; 300 / 500 / 800 / 1 200 m:
# 0.9310 / 0.9358 / 0.9362 / 0.9359)
MAX_BORROWED_DISTANCE_M = 800.0
# an open case (its lead dispatched to a unit, not closed) whose latest report is within the kind's window takes
# later reports up to this many windows after its first report, and never beyond the longest window
# (_open_and_still_reported; seed 20240301: pairwise F1 0.8243 -> 0.840 at 2, 0.834 at 1.5, 0.841 at 3)
OPEN_CASE_SPAN_FACTOR = 2.0
# two cases whose cross comparisons, pooled, reach this are merged after the loop (merge_fragments): the join bar
# (seed 20240301, with a shared road or street as no place evidence: 0.995 / 0.98 / 0.97 -> pairwise F1 0.8535 /
# 0.8575 / 0.8616 at over-merge 0.84 / 0.87 / 0.88 %)
CASE_MERGE_BAR = AUTO_MATCH
# a case a unit holds (its lead dispatched to a unit and not closed when the intake came) takes a report at this
# lower bar, place evidence still required (session 8, seed 20240301: the pooled pattern "same wording, 50-150 m,
# within the window, same topic and category" scores 0.964; two thirds of such pairs are one problem, and most of
# the others are reports after the earlier problem was closed, which this rule excludes). Pairwise P / R / F1 at
# 0.97 (none) / 0.965 / 0.96 / 0.955: 0.937 / 0.809 / 0.869, 0.947 / 0.820 / 0.879, 0.940 / 0.828 / 0.881, 0.935 /
# 0.833 / 0.881 (over-merge 0.99 / 1.04 / 1.25 / 1.45 %); with the unit standing in for kind-less labels
# (scoring.comparison_levels): 0.942 / 0.820 / 0.877, 0.950 / 0.831 / 0.886, 0.950 / 0.840 / 0.892, 0.947 / 0.844 /
# 0.892 (0.83 / 0.97 / 1.12 / 1.18 %)
HELD_CASE_MATCH = 0.96
# ... and at this bar when the report comes within a day of one of the case's reports (the pooled time level is 2 or
# 3, scoring.TIME_CUTS_S): a problem a unit holds is reported in bursts (session 9, /tmp/s9q seed 20240301: among
# the cases a report met at 0.90-0.97, a held case reported within the day was one problem 85 % of the time, one
# reported days before 31 %). Pairwise P / R / F1 at 0.96 (as before) / 0.93 / 0.90 / 0.85 / 0.80 / 0.70: 0.936 /
# 0.875 / 0.9044, 0.934 / 0.884 / 0.9084, 0.933 / 0.887 / 0.9095, 0.931 / 0.896 / 0.9129, 0.928 / 0.900 / 0.9134,
# 0.925 / 0.901 / 0.9127 (over-merge 1.00 / 1.18 / 1.20 / 1.31 / 1.45 / 1.60 %); a report within 2 h only, at 0.90:
# 0.9063; any time within the window, at 0.90: 0.8966 (2.10 %)
RECENT_HELD_CASE_MATCH = 0.85
RECENT_TIME_LEVEL = 2
# A case takes a report at most this long after its latest report, whatever its kind's window: a problem is reported
# while it lasts, and a report after a week of silence at the same spot is a new problem of the same kind there
# (session 10, /tmp/s9q seed 20240301: of the false pairs left, 303 were one kind within 250 m, the earlier problem
# never closed, the later begun 1-20 days on). Pairwise P / R / F1 without it 0.942 / 0.923 / 0.9320; with 3 / 5 /
# 6 / 7 / 8 / 10 / 14 days: 0.9125 / 0.9310 / 0.9340 / 0.9346 / 0.9348 / 0.9347 / 0.9333 (over-merge 1.33 % ->
# 1.03 % at 7 days); only for cases nobody holds, at 7 days: 0.9329
MAX_SILENCE_S = 7 * DAY
# ... and a case reported in a burst is over once it has been silent for many of its own gaps: a problem is reported
# at its own rate while it lasts (a burst pipe's ten calls within hours, a market's noise every other day), so a
# report at the same spot after a silence 20 times the case's mean gap between reports is a new problem there
# (_silent_for_its_rate). Session 13, seed 505: the largest group of false joins left was a new acute problem (a
# burst pipe, a gas leak) joining the case of an earlier one at the same spot 1-7 days on, the earlier case held
# for ever because its 110 lead never reports a closure. Mean pairwise F1 of the seven months looked at (20240301,
# 101, 202, 303, 505, 606, 707) 0.9463 -> 0.9483, none lower; 5 reports at 12 / 20 / 30 gaps: 0.9482 / 0.9483 /
# 0.9483; 3 / 4 reports at 20 gaps: 0.9473 / 0.9482, 3 / 8 at 12 gaps: 0.9454 / 0.9481 (fewer reports do not
# measure a rate: recall falls). The floor keeps a burst of minutes from closing its case within the hour (6 h: the
# same figures).
RATE_MIN_REPORTS = 5
RATE_SILENCE_GAPS = 20.0
RATE_FLOOR_S = 12 * HOUR
# A report that says the problem was reported before (records.reported_before: 再次来电, 之前已反映过 ...) continues
# an earlier report as one within the day does: a held case takes it at RECENT_HELD_CASE_MATCH too (seed 20240301:
# among held cases met at 0.5-0.97 by a report days after the latest member, one problem 69 % of the time when the
# report says so, 34 % otherwise; pairwise P / R / F1 0.931 / 0.896 / 0.9129 -> 0.931 / 0.898 / 0.9141)


def _lowest_acted_on() -> float:
    """The lowest pooled probability the loop acts on (joins, review): cases below it are skipped. Read at call
    time: the thresholds are module constants that tests set to other operating points."""
    return min(REVIEW_LOW, AUTO_MATCH, HELD_CASE_MATCH, RECENT_HELD_CASE_MATCH)


def case_id_for(channel: str, source_id: str) -> str:
    """Stable id of the case created by this intake: the same intake always creates the same id."""
    return "C" + hashlib.sha1(f"{channel}\x1f{source_id}".encode("utf-8")).hexdigest()[:16]


def _lead_order(records: Records, k: int) -> tuple:
    """records.LEAD_ORDER_SQL in Python: members dispatched to a unit first, then record order (= received_at,
    channel, source_id: records.ORDER_COLUMNS)."""
    return (not records.dispatched[k], k)


@dataclass
class CaseState:
    case_id: str
    first_index: int  # the intake that created it (its place anchors the case)
    first_t: float
    window_s: float
    members: list[int] = field(default_factory=list)
    repeat_of: str | None = None
    is_new: bool = True
    merged_into: int | None = None  # position of the surviving case

    # the lead as last computed (-1: to compute); kept up to date as members join or cases merge
    lead_index: int = field(default=-1, repr=False, compare=False)

    def lead(self, records: Records) -> int:
        """The earliest member dispatched to a unit, else the earliest member (domain.md)."""
        if self.lead_index < 0:
            self.lead_index = min(self.members, key=lambda k: _lead_order(records, k))
        return self.lead_index

    def add_lead_candidate(self, records: Records, k: int) -> None:
        """k became a member: it is the lead if it comes before the current one."""
        if self.lead_index >= 0 and _lead_order(records, k) < _lead_order(records, self.lead_index):
            self.lead_index = k

    def closed_before(self, records: Records, t: float) -> bool:
        """The case was closed before t. Its closure is its lead's (domain.md), a question answered on the phone
        (直接答复, no unit: the order is closed) included: a later report of it is a repeat after closure."""
        closed = records.closed_t[self.lead(records)]
        return bool(not np.isnan(closed) and closed < t)


@dataclass
class Assignment:
    case: np.ndarray  # position in cases per record, -1 when not assigned
    score: np.ndarray  # probability against the case joined, nan for a case's creator
    matched_to: np.ndarray  # record index of the best-matching member, -1 for a creator
    cases: list[CaseState]
    merges: list[tuple[int, int, str]]  # (merged case position, surviving case position, reason)
    review: list[tuple[int, int, float]]  # (record a, record b, probability)

    def resolve(self, position: int) -> int:
        while self.cases[position].merged_into is not None:
            position = self.cases[position].merged_into
        return position


def _adjacency(n: int, i: np.ndarray, j: np.ndarray, p: np.ndarray, patterns: np.ndarray | None, keep=None):
    """Both directions of every pair, grouped by node: (offsets, node, neighbour, probability, pattern) as numpy
    arrays (Python lists of tens of millions of entries were most of the memory at 1 M intakes). keep(node,
    neighbour) -> bool mask: only those directed entries are kept."""
    nodes = np.concatenate([i, j]).astype(np.int64, copy=False)
    neighbours = np.concatenate([j, i]).astype(np.int64, copy=False)
    probs = np.concatenate([p, p])
    pats = np.concatenate([patterns, patterns]) if patterns is not None else None
    if keep is not None:
        kept = keep(nodes, neighbours)
        nodes, neighbours, probs = nodes[kept], neighbours[kept], probs[kept]
        pats = pats[kept] if pats is not None else None
    order = np.argsort(nodes * max(n, 1) + neighbours, kind="stable")  # = lexsort((neighbours, nodes)), 2-3x faster
    nodes, neighbours, probs = nodes[order], neighbours[order], probs[order]
    pats = pats[order] if pats is not None else None
    offsets = np.searchsorted(nodes, np.arange(n + 1))
    return offsets, nodes, neighbours, probs, pats


@dataclass
class CaseEvidence:
    """What a new intake is compared with when it meets a case: the case as a whole, not only its best member.

    The levels of the intake's comparisons with the members it was paired with are pooled (best level per
    comparison: the closest member, the most similar wording, a category some member shares, the nearest in time)
    and the pooled pattern is scored by the same Fellegi-Sunter model. A big incident reported over days in several
    paraphrases and categories is then judged on all of it.
    """

    level_table: np.ndarray  # (patterns, comparisons) level of each comparison in each pattern code
    prob_table: np.ndarray  # match probability of each pattern code
    radix: tuple[int, ...]
    place_column: int
    time_column: int
    # (patterns, comparisons) match weight (bits) of each comparison's level in each pattern code, 0 when unknown,
    # and the prior's log-odds: bound what pooling a case's codes can reach (see best_possible_probability)
    weight_table: np.ndarray | None = None
    prior_log_odds: float = 0.0

    @classmethod
    def from_model(cls, model, prior: float) -> "CaseEvidence":
        levels = scoring.levels_of_patterns(np.arange(scoring.PATTERNS))
        names = list(scoring.COMPARISONS)
        return cls(
            level_table=np.stack([levels[name] for name in names], axis=1).astype(np.int8),
            prob_table=scoring.pattern_probabilities(model, prior=prior),
            radix=tuple(scoring.COMPARISONS[name] + 1 for name in names),
            place_column=names.index("place"),
            time_column=names.index("time"),
            weight_table=np.stack(
                [np.where(levels[name] >= 0, model.weights()[name][np.maximum(levels[name], 0)], 0.0)
                 for name in names], axis=1),
            prior_log_odds=float(np.log2(prior / (1 - prior))),
        )

    def best_possible_probability(self, offsets: np.ndarray, codes: np.ndarray) -> np.ndarray:
        """Per node (entries grouped by node: offsets), an upper bound of the pooled probability of ANY set of its
        entries: the pooled level of each comparison is one of the levels the node's entries have, so its weight is
        at most the best weight among them (-inf for a node without entries)."""
        nodes = len(offsets) - 1
        log_odds = np.full(nodes, -np.inf)
        has = offsets[1:] > offsets[:-1]
        if not has.any():
            return np.zeros(nodes)
        starts = offsets[:-1][has]
        total = np.full(int(has.sum()), self.prior_log_odds)
        for column in range(self.weight_table.shape[1]):
            total += np.maximum.reduceat(self.weight_table[:, column][codes], starts)
        log_odds[has] = total
        return 1.0 / (1.0 + np.exp2(-log_odds))

    def pooled_probability(self, codes: list[int]) -> float:
        if len(codes) == 1:
            return float(self.prob_table[codes[0]])
        rows = self.level_table[codes]
        code = 0
        for level, base in zip((rows.max(axis=0).astype(np.int64) + 1).tolist(), self.radix):
            code = code * base + level
        return float(self.prob_table[code])

    def pooled_code(self, a: int, b: int, memo: dict) -> int:
        """The pattern code of the best level per comparison of two codes (pooling is associative, so a case's
        pooled code is built one member at a time); memo caches the few thousand distinct combinations seen."""
        key = a * scoring.PATTERNS + b
        code = memo.get(key)
        if code is None:
            code = 0
            for level, base in zip((np.maximum(self.level_table[a], self.level_table[b]).astype(np.int64) + 1).tolist(),
                                   self.radix):
                code = code * base + level
            memo[key] = code
        return code

    def place_known_table(self) -> list[bool]:
        """Per pattern code: the pair's place level is known (points, or keys that can be compared)."""
        return (self.level_table[:, self.place_column] >= 0).tolist()

    def place_apart_table(self) -> list[bool]:
        """Per pattern code: the pair's place level is 0 (far apart, two named estates or two streets)."""
        return (self.level_table[:, self.place_column] == 0).tolist()

    def held_bar_table(self) -> list[float]:
        """Per pattern code: the bar at which a case a unit holds takes a report (HELD_CASE_MATCH, or
        RECENT_HELD_CASE_MATCH when the pooled comparison says a member came within a day). Read at call time."""
        recent = self.level_table[:, self.time_column] >= RECENT_TIME_LEVEL
        return np.where(recent, RECENT_HELD_CASE_MATCH, HELD_CASE_MATCH).tolist()


def assign(
    records: Records,
    is_new: np.ndarray,
    pairs_i: np.ndarray,
    pairs_j: np.ndarray,
    prob: np.ndarray,
    existing_case: list[str | None],
    existing_cases: dict[str, dict],
    patterns: np.ndarray | None = None,
    evidence: CaseEvidence | None = None,
    *,
    block: int = FAST_BLOCK,
) -> Assignment:
    """Assign every new record to a case.

    With patterns (the comparison pattern code of each pair) and evidence, an intake is compared with each case as
    a whole (CaseEvidence); without them, with its best member pair and the mean over all members.

    existing_case[k] is the case id of an old record (None for new ones); existing_cases maps each such id to
    {'first_t': seconds, 'repeat_of': id or None, 'first_index': record index or -1}.
    """
    n = len(records)
    cases: list[CaseState] = []
    position_of: dict[str, int] = {}
    case = np.full(n, -1, dtype=np.int64)
    for k in range(n):
        cid = existing_case[k]
        if cid is None:
            continue
        if cid not in position_of:
            info = existing_cases.get(cid, {})
            position_of[cid] = len(cases)
            cases.append(
                CaseState(
                    case_id=cid,
                    first_index=int(info.get("first_index", k)) if info.get("first_index", -1) >= 0 else k,
                    first_t=float(info.get("first_t", records.t[k])),
                    window_s=float(records.window_s[k]),
                    repeat_of=info.get("repeat_of"),
                    is_new=False,
                )
            )
        case[k] = position_of[cid]
        cases[position_of[cid]].members.append(k)
    result = Assignment(
        case=case,
        score=np.full(n, np.nan),
        matched_to=np.full(n, -1, dtype=np.int64),
        cases=cases,
        merges=[],
        review=[],
    )
    pooled = patterns is not None and evidence is not None
    is_new = np.asarray(is_new, dtype=bool)
    # A neighbour already has a case when x's turn comes if it is old or an earlier new intake: only those are
    # looked at for x (the others are x's neighbours only once they come themselves). Without such a neighbour
    # able to decide (at AUTO_MATCH, or any at all when cases are judged as a whole) an intake creates a case
    # without the per-member loop (its review pairs are collected here, vectorised, in the loop's order).
    offsets, nodes, neighbours, probs, pats = _adjacency(
        n, pairs_i, pairs_j, prob, patterns if pooled else None, keep=lambda a, b: ~is_new[b] | (b < a)
    )
    strong = np.zeros(n, dtype=bool)
    strong[nodes[probs >= (CONSIDER if pooled else AUTO_MATCH)]] = True
    if pooled and evidence.weight_table is not None and len(nodes):
        # no case can reach the review band or the join bar: pooling cannot beat the bound, no single pair does;
        # the loop would only create a case (small margin: the bound sums its weights in another order)
        has = offsets[1:] > offsets[:-1]
        best_pair = np.full(n, -1.0)
        best_pair[has] = np.maximum.reduceat(probs, offsets[:-1][has])
        bound = evidence.best_possible_probability(offsets, pats)
        matters = _lowest_acted_on()
        strong &= ~((best_pair < matters) & (bound < matters - 1e-6))
    points = _OwnPoints.of(records)
    if pooled:
        _assign_pooled(result, records, is_new, strong, (offsets, nodes, neighbours, probs, pats), evidence, points,
                       block)
        merge_fragments(result, records, pairs_i, pairs_j, prob, patterns, evidence, points)
        return result
    reviewed = (probs >= REVIEW_LOW) & (probs < AUTO_MATCH) & ~strong[nodes]
    quiet_review = {}
    for a, b, p in zip(nodes[reviewed].tolist(), neighbours[reviewed].tolist(), probs[reviewed].tolist()):
        quiet_review.setdefault(a, []).append((a, b, p))

    for x in np.flatnonzero(is_new).tolist():
        if not strong[x]:
            result.review.extend(quiet_review.get(x, ()))
            _create(result, records, x, repeat_of=None)
            continue
        lo, hi = int(offsets[x]), int(offsets[x + 1])
        best: dict[int, tuple[float, int]] = {}  # case position -> (best probability, member)
        worst: dict[int, float] = {}
        total: dict[int, float] = {}
        member_cases = case[neighbours[lo:hi]].tolist()
        for nb, p, c in zip(neighbours[lo:hi].tolist(), probs[lo:hi].tolist(), member_cases):
            if c < 0:
                continue
            if cases[c].merged_into is not None:
                c = result.resolve(c)
            if REVIEW_LOW <= p < AUTO_MATCH:
                result.review.append((x, nb, p))  # kept only if the two end in different cases
            if p > best.get(c, (-1.0, -1))[0]:
                best[c] = (p, nb)
            worst[c] = min(worst.get(c, 1.0), p)
            total[c] = total.get(c, 0.0) + p
        options = []
        for c, (p, member) in best.items():
            state = cases[c]
            if p < AUTO_MATCH:
                continue
            # average linkage over ALL members (a member never compared counts as 0): a chain's far end fails it
            if (
                worst[c] < CLEAR_DISAGREEMENT
                or total[c] / len(state.members) < MIN_MEAN_PROBABILITY
                or not _compatible(records, points, x, state)
            ):
                result.review.append((x, member, p))
                continue
            is_open = _is_open(records, points, state, points.t[x])
            options.append((is_open, p, -state.first_t, c, member))
        _decide(result, records, points, x, options)
    return result


def merge_fragments(result: Assignment, records: Records, pairs_i: np.ndarray, pairs_j: np.ndarray, prob: np.ndarray,
                    patterns: np.ndarray, evidence: CaseEvidence, points: "_OwnPoints" = None) -> int:
    """Case-to-case merging after the loop: two cases whose members' comparisons, pooled over ALL their cross pairs
    (best level per comparison, CaseEvidence), reach CASE_MERGE_BAR are one problem - the fragments of a big incident
    that the loop split, because each later report met the main case with only its own few comparisons. The older
    case survives (reason "fragments"). Refused, as the loop refuses a join: any cross pair clearly elsewhere (place
    level 0) or a reviewer's cannot-link, nothing said about the place, located members more than
    MAX_MEMBER_DISTANCE_M apart, the older case closed before the younger began (a repeat), or the younger's first
    or latest report not compatible in time with the older case (_compatible). Greedy in descending pooled
    probability, ties by case position; returns the number of merges."""
    if len(pairs_i) == 0:
        return 0
    points = points or _OwnPoints.of(records)
    case = np.array([result.resolve(int(c)) if c >= 0 else -1 for c in result.case.tolist()], dtype=np.int64)
    ca, cb = case[pairs_i], case[pairs_j]
    cross = (ca != cb) & (ca >= 0) & (cb >= 0)
    if not cross.any():
        return 0
    low, high = np.minimum(ca, cb)[cross], np.maximum(ca, cb)[cross]
    key = low * (len(result.cases) + 1) + high
    order = np.argsort(key, kind="stable")
    key = key[order]
    codes = patterns[cross][order].astype(np.int64)
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    masks, code_of_mask = _thermometer_codes(evidence.radix)
    pooled = code_of_mask[np.bitwise_or.reduceat(masks[codes], starts)]
    veto = (evidence.level_table[codes, evidence.place_column] == 0) | (prob[cross][order] <= CANNOT_LINK)
    veto = np.maximum.reduceat(veto.astype(np.int8), starts) > 0
    score = evidence.prob_table[pooled]
    known = evidence.level_table[pooled, evidence.place_column] >= 0
    chosen = np.flatnonzero((score >= CASE_MERGE_BAR) & known & ~veto)
    if len(chosen) == 0:
        return 0
    chosen = chosen[np.lexsort((key[starts][chosen], -score[chosen]))]
    first_case = key[starts][chosen] // (len(result.cases) + 1)
    second_case = key[starts][chosen] % (len(result.cases) + 1)
    merges = 0
    for a, b in zip(first_case.tolist(), second_case.tolist()):
        a, b = result.resolve(a), result.resolve(b)
        if a == b:
            continue
        older, younger = sorted((a, b), key=lambda c: (result.cases[c].first_t, result.cases[c].case_id))
        old_state, young_state = result.cases[older], result.cases[younger]
        young_first, young_last = min(young_state.members), max(young_state.members)
        if not _is_open(records, points, old_state, points.t[young_first]):
            continue
        if _closed_before_latest(records, points, old_state, young_state):
            continue
        if not (_compatible(records, points, young_first, old_state)
                and _compatible(records, points, young_last, old_state) and _same_place(points, old_state, young_state)):
            continue
        _merge(result, younger, older, "fragments")
        merges += 1
    return merges


def _assign_pooled(result: Assignment, records: Records, is_new: np.ndarray, strong: np.ndarray, adjacency: tuple,
                   evidence: CaseEvidence, points: "_OwnPoints", block: int) -> None:
    """The loop of assign() when cases are judged as a whole (CaseEvidence), new intakes in record order.

    Speed (one core, the longest stage at 1 M intakes): most of an intake's pairs are with members of cases that
    existed before the current block of `block` intakes, and those cases do not change within the block unless two
    cases merge. For them the per-case pooling (best pair, pooled code, vetoes) is computed with numpy for the whole
    block at once (_PairEntries.groups) and only the cases that reach the review band or the join bar are looked at
    in Python (_case_options). An intake with pairs whose other side was assigned within the block folds those in
    one by one (_with_pairs_in_block); after a merge the rest of the block is grouped again. block=0 takes every
    intake member by member (_options_member_by_member, the reference): both decide alike, review rows in the same
    order (tests/dedupe/test_dedupe_s6_speed.py).
    """
    offsets, nodes, neighbours, probs, pats = adjacency
    case, review = result.case, result.review
    place_apart = evidence.place_apart_table()
    place_known = evidence.place_known_table()
    held_bar = evidence.held_bar_table()
    prob_of_code = evidence.prob_table.tolist()
    pooled_memo: dict[int, int] = {}
    # pairs in the review band, per intake, in pair order (kept only if the two end in different cases): they do
    # not depend on the cases (every neighbour is assigned by the time its intake comes, old ones from the start)
    in_band = (probs >= REVIEW_LOW) & (probs < AUTO_MATCH) & (
        ~strong[nodes] | is_new[neighbours] | (case[neighbours] >= 0))  # the loop skips a case-less old one
    band_pairs: dict[int, list] = {}
    for a, b, p in zip(nodes[in_band].tolist(), neighbours[in_band].tolist(), probs[in_band].tolist()):
        band_pairs.setdefault(a, []).append((a, b, p))
    no_pairs = ()
    entries = _PairEntries.of(adjacency, is_new, strong, evidence, place_apart) if block > 0 else None
    new_intakes = np.flatnonzero(is_new).tolist()
    strong_list = strong.tolist()
    position = 0
    while position < len(new_intakes):
        block_start = new_intakes[position]
        block_end = new_intakes[min(position + max(block, 1), len(new_intakes)) - 1] + 1
        if entries is not None:
            groups, mixed, known = entries.groups(block_start, block_end, case, _lowest_acted_on())
        merges_before = len(result.merges)
        while position < len(new_intakes):
            x = new_intakes[position]
            if x >= block_end:
                break
            position += 1
            if not strong_list[x]:
                review.extend(band_pairs.get(x, no_pairs))
                _create(result, records, x, None, points)
                continue
            if entries is None:
                options = _options_member_by_member(
                    result, records, points, x, offsets, neighbours, probs, pats, evidence, pooled_memo,
                    prob_of_code, place_apart, place_known, held_bar)
            else:
                review.extend(band_pairs.get(x, no_pairs))
                rows = groups.get(x, no_pairs) if x not in mixed else _with_pairs_in_block(
                    x, *mixed[x], case, known, evidence, pooled_memo, place_apart)
                options = _case_options(result, records, points, x, rows, prob_of_code, place_known, held_bar)
            _decide(result, records, points, x, options)
            if len(result.merges) != merges_before:
                break  # the cases of the block's known members changed: group the rest of the block again


def _thermometer_codes(radix: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Pattern codes as bit masks where pooling (the best level per comparison) is a bitwise OR: each comparison's
    level + 1 = v is written as v ones in its own field. Returns (mask of each pattern code, pattern code of each
    mask; -1 for masks that are not a pattern)."""
    codes = np.arange(int(np.prod(radix)), dtype=np.int64)
    masks = np.zeros(len(codes), dtype=np.int64)
    rest, shift = codes.copy(), 0
    for base in reversed(radix):
        value = rest % base
        masks |= ((np.int64(1) << value) - 1) << shift
        rest //= base
        shift += base - 1
    code_of_mask = np.full(1 << shift, -1, dtype=np.int64)
    code_of_mask[masks] = codes
    return masks, code_of_mask


@dataclass
class _PairEntries:
    """What the block grouping needs of each adjacency entry, computed once for the whole run."""

    adjacency: tuple
    neighbour_is_new: np.ndarray
    in_loop: np.ndarray  # the entry's intake enters the loop (new and strong)
    apart: np.ndarray  # the entry alone vetoes its case (place level 0, or a reviewer's cannot-link)
    mask: np.ndarray  # the entry's pattern code as a thermometer mask (_thermometer_codes; 20 bits: int32)
    code_of_mask: np.ndarray
    prob_table: np.ndarray

    @classmethod
    def of(cls, adjacency: tuple, is_new: np.ndarray, strong: np.ndarray, evidence: CaseEvidence,
           place_apart: list) -> "_PairEntries":
        offsets, nodes, neighbours, probs, pats = adjacency
        codes = pats.astype(np.int64)
        masks, code_of_mask = _thermometer_codes(evidence.radix)
        return cls(adjacency, is_new[neighbours], strong[nodes] & is_new[nodes],
                   np.asarray(place_apart, dtype=bool)[codes] | (probs <= CANNOT_LINK),
                   masks.astype(np.int32)[codes], code_of_mask, evidence.prob_table)

    def groups(self, start: int, end: int, case: np.ndarray, lowest_acted_on: float
               ) -> tuple[dict, dict, "_KnownGroups | None"]:
        """For the new intakes start <= x < end, from the cases as they are now: per intake, the cases its pairs
        meet that can matter (pooled score at least lowest_acted_on), as (case, best probability, its member,
        pooled code, a member is apart) in the order the intake first meets them. An intake with pairs whose other
        side is a new intake from start on (its case is not known yet) is in `mixed` instead: (those rows with
        where the best member and the first pair are, those pairs one by one), completed by _with_pairs_in_block
        with the help of all the block's groups (_KnownGroups)."""
        offsets, nodes, neighbours, probs, pats = self.adjacency
        lo, hi = int(offsets[start]), int(offsets[end])
        xs, nbs = nodes[lo:hi], neighbours[lo:hi]
        in_block = self.neighbour_is_new[lo:hi] & (nbs >= start) & self.in_loop[lo:hi]
        mixed: dict[int, tuple[list, list]] = {}
        if in_block.any():
            at = np.flatnonzero(in_block)
            for x, entry in zip(xs[at].tolist(), zip(at.tolist(), nbs[at].tolist(), probs[lo:hi][at].tolist(),
                                                     pats[lo:hi][at].tolist())):
                mixed.setdefault(x, ([], []))[1].append(entry)
        use = np.flatnonzero(self.in_loop[lo:hi] & ~in_block)
        cs = case[nbs[use]]
        if len(cs) and cs.min() < 0:  # an old neighbour without a case: the loop skips it
            use, cs = use[cs >= 0], cs[cs >= 0]
        if not len(use):
            return {}, mixed, None
        width = int(cs.max()) + 1
        key = (xs[use] - start) * width + cs
        order = np.argsort(key, kind="stable")  # by intake, then case; pair order within a case
        use, key = use[order], key[order]
        starts = np.empty(len(key), dtype=bool)
        starts[0] = True
        np.not_equal(key[1:], key[:-1], out=starts[1:])
        first = np.flatnonzero(starts)
        p = probs[lo:hi][use]
        best = np.maximum.reduceat(p, first)
        pooled = self.code_of_mask[np.bitwise_or.reduceat(self.mask[lo:hi][use], first)]
        acted = np.flatnonzero(np.maximum(best, self.prob_table[pooled]) >= lowest_acted_on)
        # the member: the group's first pair with its best probability (the loop keeps the earlier of equal ones)
        group_of = np.cumsum(starts) - 1
        at_best = np.flatnonzero(p == best[group_of])
        known = None
        if mixed:  # every group, for the cases the intakes' pairs inside the block meet as well
            best_at = use[at_best[np.searchsorted(group_of[at_best], np.arange(len(first)))]]
            apart = np.logical_or.reduceat(self.apart[lo:hi][use], first)
            known = _KnownGroups(start, width, key[first], best, best_at, pooled, apart, use[first], nbs)
            best_at, apart = best_at[acted], apart[acted]
        else:
            best_at = use[at_best[np.searchsorted(group_of[at_best], acted)]]
            apart = np.logical_or.reduceat(self.apart[lo:hi][use], first)[acted]
        if not len(acted):
            return {}, mixed, known
        group_key = key[first[acted]]
        group_x = group_key // width
        met_at = use[first[acted]]  # a group's first pair is its earliest
        # per intake, in the order its pairs first meet the cases
        order = np.argsort(group_x * (hi - lo) + met_at, kind="stable")
        rows = zip((group_key[order] % width).tolist(), best[acted][order].tolist(), nbs[best_at[order]].tolist(),
                   pooled[acted][order].tolist(), apart[order].tolist())
        groups: dict[int, list] = {}
        if not mixed:
            for x, row in zip((group_x[order] + start).tolist(), rows):
                groups.setdefault(x, []).append(row)
            return groups, mixed, known
        for x, row, best_position, first_position in zip(
                (group_x[order] + start).tolist(), rows, best_at[order].tolist(), met_at[order].tolist()):
            if x in mixed:
                mixed[x][0].append((*row, best_position, first_position))
            else:
                groups.setdefault(x, []).append(row)
        return groups, mixed, known


@dataclass
class _KnownGroups:
    """All (intake, case) groups of a block (_PairEntries.groups), sorted by key = (x - start) * width + case."""

    start: int
    width: int
    keys: np.ndarray
    best: np.ndarray
    best_at: np.ndarray  # entry position (within the block) of the best member's pair
    pooled: np.ndarray
    apart: np.ndarray
    met_at: np.ndarray  # entry position of the group's first pair
    neighbours: np.ndarray  # the block's entries' neighbours

    def find(self, x: int, c: int) -> list | None:
        """[case, best probability, member, pooled code, apart, best position, first position] or None."""
        if c >= self.width:
            return None
        key = (x - self.start) * self.width + c
        k = int(np.searchsorted(self.keys, key))
        if k == len(self.keys) or self.keys[k] != key:
            return None
        at = int(self.best_at[k])
        return [c, float(self.best[k]), int(self.neighbours[at]), int(self.pooled[k]), bool(self.apart[k]), at,
                int(self.met_at[k])]


def _with_pairs_in_block(x: int, known: list, in_block: list, case: np.ndarray, groups: _KnownGroups | None,
                         evidence: CaseEvidence, pooled_memo: dict, apart_by_code: list) -> list:
    """x's case groups that can matter, completed with its pairs inside the block one by one as the
    member-by-member loop takes them: best probability (the earlier pair on a tie), pooled code, veto, order of
    first meeting. known: x's groups that matter by themselves; a case that only a pair inside the block raises
    is fetched from all the block's groups."""
    merged = {row[0]: list(row) for row in known}
    for position, nb, p, code in in_block:
        c = int(case[nb])
        group = merged.get(c)
        if group is None:
            group = groups.find(x, c) if groups is not None else None
            if group is None:
                merged[c] = [c, p, nb, code, apart_by_code[code] or p <= CANNOT_LINK, position, position]
                continue
            merged[c] = group
        if p > group[1] or (p == group[1] and position < group[5]):
            group[1], group[2], group[5] = p, nb, position
        group[3] = evidence.pooled_code(group[3], code, pooled_memo)
        group[4] = group[4] or apart_by_code[code] or p <= CANNOT_LINK
        if position < group[6]:
            group[6] = position
    return [group[:5] for group in sorted(merged.values(), key=lambda group: group[6])]


def _case_options(result: Assignment, records: Records, points: "_OwnPoints", x: int, groups, prob_of_code: list,
                  place_known: list, held_bar: list) -> list:
    """The cases x may join, from its pooled groups (_pooled_groups); refusals go to review."""
    cases, review = result.cases, result.review
    options = []
    for c, p, member, code, apart in groups:
        score = max(p, prob_of_code[code])
        if not _takes(records, points, cases[c], x, score, held_bar[code]):
            if score >= REVIEW_LOW and p < REVIEW_LOW:
                review.append((x, member, score))
            continue
        if score < AUTO_MATCH_PLACE_UNKNOWN and not place_known[code]:
            review.append((x, member, score))
            continue
        state = cases[c]
        if apart or not _compatible(records, points, x, state):
            review.append((x, member, score))
            continue
        is_open = _is_open(records, points, state, points.t[x])
        options.append((is_open, score, -state.first_t, c, member))
    return options


def _options_member_by_member(result: Assignment, records: Records, points: "_OwnPoints", x: int, offsets, neighbours,
                              probs, pats, evidence: CaseEvidence, pooled_memo: dict, prob_of_code: list,
                              place_apart: list, place_known: list, held_bar: list) -> list:
    """The cases x may join, its pairs taken one by one (the reference the block path is tested against)."""
    cases, case = result.cases, result.case
    lo, hi = int(offsets[x]), int(offsets[x + 1])
    best: dict[int, tuple[float, int]] = {}  # case position -> (best probability, member)
    codes: dict[int, int] = {}  # case position -> pooled pattern code of x's comparisons with its members
    apart: set[int] = set()
    member_cases = case[neighbours[lo:hi]].tolist()
    for nb, p, c, code in zip(neighbours[lo:hi].tolist(), probs[lo:hi].tolist(), member_cases, pats[lo:hi].tolist()):
        if c < 0:
            continue
        if cases[c].merged_into is not None:
            c = result.resolve(c)
        if REVIEW_LOW <= p < AUTO_MATCH:
            result.review.append((x, nb, p))  # kept only if the two end in different cases
        if p > best.get(c, (-1.0, -1))[0]:
            best[c] = (p, nb)
        codes[c] = code if c not in codes else evidence.pooled_code(codes[c], code, pooled_memo)
        if place_apart[code] or p <= CANNOT_LINK:
            apart.add(c)
    options = []
    for c, (p, member) in best.items():
        state = cases[c]
        score = max(p, prob_of_code[codes[c]])
        if not _takes(records, points, state, x, score, held_bar[codes[c]]):
            if score >= REVIEW_LOW and p < REVIEW_LOW:
                result.review.append((x, member, score))
            continue
        # the pooled place level is known when any member's is
        if score < AUTO_MATCH_PLACE_UNKNOWN and not place_known[codes[c]]:
            result.review.append((x, member, score))  # nothing says the two are at one place
            continue
        # a member clearly elsewhere (far, another estate or street) or a reviewer's cannot-link vetoes; so does the
        # case's span. A member's low pair probability does not: another paraphrase of one problem scores low on its
        # own (seed 20240301: that veto cost 0.04 pairwise F1 at equal over-merge)
        if c in apart or not _compatible(records, points, x, state):
            result.review.append((x, member, score))
            continue
        is_open = _is_open(records, points, state, points.t[x])
        options.append((is_open, score, -state.first_t, c, member))
    return options


def _decide(result: Assignment, records: Records, points: _OwnPoints, x: int, options: list) -> None:
    """x joins the best open case (merging a second open case it matches as well), or starts a case: a repeat
    when the best case was closed before x arrived."""
    cases = result.cases
    if not options:
        _create(result, records, x, None, points)
        return
    if len(options) > 1:
        options.sort(reverse=True)
    is_open, p, _, c, member = options[0]
    if not is_open:
        _create(result, records, x, cases[c].case_id, points)
        result.score[x], result.matched_to[x] = p, member
        return
    if len(options) == 1:
        _join(result, records, points, x, c, p, member)
        return
    # a second open case this intake matches as well as the first: the two are one problem
    survivors = [c]
    for other_open, other_p, _, other, _ in options[1:]:
        if other_open and other_p >= AUTO_MERGE and p >= AUTO_MERGE and _same_place(points, cases[c], cases[other]):
            survivors.append(other)
    target = min(survivors, key=lambda s: (cases[s].first_t, cases[s].case_id))
    for other in survivors:
        if other != target:
            _merge(result, other, target, "matched_by_one_intake")
    _join(result, records, points, x, target, p, member)


@dataclass
class _OwnPoints:
    """Each record's own point and the facts the loop reads per intake, as Python lists (the loop runs in Python:
    numpy scalars cost more than the arithmetic); own is False for records without a point or with a borrowed one."""

    lon: list[float]
    lat: list[float]
    own: list[bool]
    t: list[float]
    window_s: list[float]
    closed_t: list[float]
    dispatched: list[bool]
    reported_before: list[bool]
    located: list[bool]  # a point, its own or borrowed (records.has_point)
    estate: list[int]  # code of the named estate, -1 when none (records.codes)
    area: list[int]  # code of the street, -1 when unknown

    @classmethod
    def of(cls, records: Records) -> "_OwnPoints":
        own = np.asarray(records.has_point, dtype=bool) & ~np.asarray(records.approximate, dtype=bool)
        return cls(records.lon.tolist(), records.lat.tolist(), own.tolist(),
                   np.asarray(records.t, dtype=np.float64).tolist(),
                   np.asarray(records.window_s, dtype=np.float64).tolist(),
                   np.asarray(records.closed_t, dtype=np.float64).tolist(),
                   np.asarray(records.dispatched, dtype=bool).tolist(),
                   np.asarray(records.reported_before, dtype=bool).tolist(),
                   np.asarray(records.has_point, dtype=bool).tolist(),
                   np.asarray(records.codes["estate"]).tolist(), np.asarray(records.codes["area"]).tolist())

    def apart(self, a: int, b: int) -> bool:
        dx = (self.lon[a] - self.lon[b]) * METRES_PER_DEG_LON
        dy = (self.lat[a] - self.lat[b]) * METRES_PER_DEG_LAT
        return (dx * dx + dy * dy) ** 0.5 > MAX_MEMBER_DISTANCE_M


def _compatible(records: Records, points: _OwnPoints, x: int, state: CaseState) -> bool:
    window = max(state.window_s, points.window_s[x])
    if points.t[x] - state.first_t > window and not _open_and_still_reported(records, points, x, state, window):
        return False
    latest = _latest_report_t(points, state)
    silence = points.t[x] - latest
    if silence > MAX_SILENCE_S or _silent_for_its_rate(state, silence, latest):
        return False
    # a member naming another estate or street is elsewhere, compared or not (scoring's named_apart: its pair with
    # x scored place level 0, and may have been dropped as negligible before the loop)
    if _named_apart(points, [x], state.members):
        return False
    located = points.located
    if not located[x]:
        return True
    # every located member, not only the first: a case whose first intake has no point must not gather reports
    # from two places through members that have none (points.apart written out: this runs per member)
    own = points.own
    lon, lat = points.lon, points.lat
    lon_x, lat_x, own_x = lon[x], lat[x], own[x]
    for member in state.members:
        if located[member]:
            dx = (lon_x - lon[member]) * METRES_PER_DEG_LON
            dy = (lat_x - lat[member]) * METRES_PER_DEG_LAT
            bound = MAX_MEMBER_DISTANCE_M if own_x and own[member] else MAX_BORROWED_DISTANCE_M
            if (dx * dx + dy * dy) ** 0.5 > bound:
                return False
    return True


def _named_apart(points: _OwnPoints, a: list[int], b: list[int]) -> bool:
    """The intakes a name estates (or streets), the intakes b name some too, and none of them in common: two places
    (scoring: one problem is reported with one estate name and in one street). Session 13: a road-damage report
    labelled as a manhole matched a manhole case at 幸福湾 and so merged it into a road-damage case at 竹园, 60 m
    away; the never-closed 110 lead then kept the merged case open for the road's repeat. The seven months looked
    at: pairwise F1 0.9491 -> 0.9503, none lower (joins only 0.9496, merges only 0.9500)."""
    for codes in (points.estate, points.area):
        named_a = {codes[k] for k in a} - {-1}
        if named_a:
            named_b = {codes[k] for k in b} - {-1}
            if named_b and not (named_a & named_b):
                return True
    return False


def _silent_for_its_rate(state: CaseState, silence: float, latest: float) -> bool:
    """A case of RATE_MIN_REPORTS reports or more has been silent for RATE_SILENCE_GAPS of its own mean gaps
    between reports (its first report to its latest, at `latest`), and at least RATE_FLOOR_S: the problem it was
    reported at that rate is over."""
    n = len(state.members)
    if n < RATE_MIN_REPORTS or silence <= RATE_FLOOR_S:
        return False
    return silence > RATE_SILENCE_GAPS * (latest - state.first_t) / (n - 1)


def _open_and_still_reported(records: Records, points: _OwnPoints, x: int, state: CaseState, window: float) -> bool:
    """A case a unit holds and has not closed is still one problem when a report comes later than the kind's window
    after its first report, as long as its latest report is within the window (domain.md: reports go on while the
    case is open) and x is within OPEN_CASE_SPAN of the case's first report. The bound keeps a case whose closure
    never arrives from taking reports for ever (session 6's unbounded rule glued the 1 M replica's month copies:
    pairwise F1 0.694 -> 0.122), and keeps every case that can grow within the longest window an incremental run
    reads back (run.py: topics.MAX_WINDOW_S)."""
    t = points.t
    if t[x] - state.first_t > min(OPEN_CASE_SPAN_FACTOR * window, MAX_WINDOW_S):
        return False
    if not _held(records, points, state, x):
        return False
    return t[x] - _latest_report_t(points, state) <= window


def _takes(records: Records, points: _OwnPoints, state: CaseState, x: int, score: float, held_bar: float) -> bool:
    """The case may take x at its pooled score: at the join bar, or at the held-case bar (`held_bar`, the code's;
    RECENT_HELD_CASE_MATCH when x says it was reported before) when a unit holds the case."""
    if score >= AUTO_MATCH:
        return True
    bar = RECENT_HELD_CASE_MATCH if points.reported_before[x] else held_bar
    return score >= bar and _held(records, points, state, x)


def _held(records: Records, points: _OwnPoints, state: CaseState, x: int) -> bool:
    """A unit holds the case: its lead was dispatched to a unit that had not closed it when x came."""
    lead = state.lead(records)
    return points.dispatched[lead] and not _lead_closed_before(points, lead, points.t[x])


def _is_open(records: Records, points: _OwnPoints, state: CaseState, t: float) -> bool:
    """not state.closed_before(records, t), read from the lists."""
    return not _lead_closed_before(points, state.lead(records), t)


def _closed_before_latest(records: Records, points: _OwnPoints, a: CaseState, b: CaseState) -> bool:
    """The lead the two cases would have together (_lead_order) was closed before the later of their latest
    reports: merged, that report would sit in a case closed before it came, where the loop makes a report after
    the closure a repeat (session 10, seed 20240301: 87 false pairs of an incident and its repeat came from
    fragments merged so)."""
    lead = min(a.lead(records), b.lead(records), key=lambda k: (not points.dispatched[k], k))
    return _lead_closed_before(points, lead, max(_latest_report_t(points, a), _latest_report_t(points, b)))


def _latest_report_t(points: _OwnPoints, state: CaseState) -> float:
    """When the case's latest report came (record order is time order: records.ORDER_COLUMNS)."""
    return points.t[max(state.members)]


def _lead_closed_before(points: _OwnPoints, lead: int, t: float) -> bool:
    """The case whose lead this is was closed before t (its closure is its lead's, domain.md)."""
    closed = points.closed_t[lead]
    return closed == closed and closed < t  # closed == closed: not NaN


def _same_place(points: _OwnPoints, a: CaseState, b: CaseState) -> bool:
    """No located member of one case is farther than MAX_MEMBER_DISTANCE_M from a located member of the other, and
    the two do not name different estates or streets: an intake without a point or a name must not bridge two
    places."""
    if _named_apart(points, a.members, b.members):
        return False
    located_a = [k for k in a.members if points.own[k]]
    located_b = [k for k in b.members if points.own[k]]
    return not any(points.apart(i, j) for i in located_a for j in located_b)


def _create(result: Assignment, records: Records, x: int, repeat_of: str | None, points: _OwnPoints | None = None
            ) -> None:
    state = CaseState(  # positional: this runs once per new case
        case_id_for(records.channel[x], records.source_id[x]),  # case_id
        x,  # first_index
        points.t[x] if points is not None else float(records.t[x]),  # first_t
        points.window_s[x] if points is not None else float(records.window_s[x]),  # window_s
        [x],  # members
        repeat_of,
        True,  # is_new
        None,  # merged_into
        x,  # lead_index
    )
    result.case[x] = len(result.cases)
    result.cases.append(state)


def _join(result: Assignment, records: Records, points: _OwnPoints, x: int, c: int, p: float, member: int) -> None:
    result.case[x] = c
    result.score[x] = p
    result.matched_to[x] = member
    state = result.cases[c]
    state.members.append(x)
    lead = state.lead_index  # CaseState.add_lead_candidate, read from the lists (_lead_order)
    if lead >= 0 and (not points.dispatched[x], x) < (not points.dispatched[lead], lead):
        state.lead_index = x


def _merge(result: Assignment, merged: int, into: int, reason: str) -> None:
    source, target = result.cases[merged], result.cases[into]
    source.merged_into = into
    target.members.extend(source.members)
    target.lead_index = -1  # computed again when needed
    for k in source.members:
        result.case[k] = into
    source.members = []
    result.merges.append((merged, into, reason))


def merge_cases(result: Assignment, a: int, b: int, reason: str) -> None:
    """Merge two cases (e.g. a reviewer's must-link); the older survives."""
    a, b = result.resolve(a), result.resolve(b)
    if a == b:
        return
    older, younger = sorted((a, b), key=lambda s: (result.cases[s].first_t, result.cases[s].case_id))
    _merge(result, younger, older, reason)
