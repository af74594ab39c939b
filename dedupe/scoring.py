"""Scoring candidate pairs: comparison levels per field and a Fellegi-Sunter model estimated without labels.

Each pair gets one level per comparison (higher = more alike, -1 = cannot tell). m (level shares among matches) is
a documented prior (DEFAULT_M); u (level shares among non-matches) and the match share are estimated by EM on the
run's own candidate pairs (see fit_patterns for why not m too). The match probability of a pair is the posterior of
the fitted model. No simulator label is used here.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz
from rapidfuzz.process import cpdist

from dedupe.normalize import METRES_PER_DEG_LAT, METRES_PER_DEG_LON
from dedupe.records import PLACE_TYPES, Records
from dedupe.topics import DAY, HOUR

# comparison -> number of levels (level -1 = missing is extra and carries no weight)
COMPARISONS = {"text": 5, "place": 4, "time": 4, "topic": 2, "category": 3, "caller": 2}
TEXT_CUTS = (15.0, 25.0, 40.0, 60.0)  # similarity 0-100 -> levels 0..4 (cuts set on seed 20240301)
DIST_CUTS_M = (50.0, 150.0, 250.0)  # metres -> place levels 3, 2, 1, else 0 (seed 20240301: no true pair beyond 250 m)
TIME_CUTS_S = (2 * HOUR, DAY)  # -> time levels 3, 2; within the window 1; beyond 0
CROSSING_TYPE = PLACE_TYPES["x:"]
RANDOM_PAIRS = 200_000
EM_ITERATIONS = 40
# Starting m per level (what a match usually looks like), also used as a weak Dirichlet prior so that a small
# batch (a quiet day, a test) still gets sensible weights: worth PRIOR_PAIRS pseudo-pairs against the data.
DEFAULT_M = {
    "text": (0.05, 0.20, 0.30, 0.20, 0.25),
    "place": (0.02, 0.12, 0.36, 0.50),
    "time": (0.05, 0.24, 0.29, 0.42),
    "topic": (0.15, 0.85),
    "category": (0.02, 0.18, 0.80),
    "caller": (0.70, 0.30),
}
# Typical u per level among a district's CANDIDATE pairs (blocked on place, time, caller or topic, so place and time
# agree more often than at random); a prior worth PRIOR_PAIRS pairs that matters only for small batches.
DEFAULT_U = {
    "text": (0.60, 0.37, 0.02, 0.005, 0.005),
    "place": (0.50, 0.24, 0.16, 0.10),
    "time": (0.01, 0.40, 0.52, 0.07),
    "topic": (0.80, 0.20),
    "category": (0.16, 0.74, 0.10),
    "caller": (0.998, 0.002),
}
DEFAULT_PRIOR = 0.1
# Clustering thresholds are on match weight; they are expressed as probabilities at this fixed prior (the match
# share EM found among the candidates of a simulated month, seed 20240301) so that a small incremental batch,
# whose own fitted prior differs, is judged by the same evidence bar as a month.
REFERENCE_PRIOR = 0.087
PRIOR_PAIRS = 50.0


def text_similarity(records: Records, i: np.ndarray, j: np.ndarray, workers: int = 1) -> np.ndarray:
    """0-100: rapidfuzz's normalised Indel similarity of the two problem texts (text without its place words).

    Character level, so it needs no word segmentation; token-set scores on character bigrams were tried and cost
    six times as much per pair for no gain once place words are removed.
    """
    if len(i) == 0:
        return np.zeros(0)
    problem = records.problem_array()
    return cpdist(problem[i], problem[j], scorer=fuzz.ratio, workers=workers, dtype=np.float32).astype("float64")


def distance(records: Records, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Metres between the two points; nan when either is unknown."""
    dx = (records.lon[i] - records.lon[j]) * METRES_PER_DEG_LON
    dy = (records.lat[i] - records.lat[j]) * METRES_PER_DEG_LAT
    return np.hypot(dx, dy)


def _equal(codes: np.ndarray, i: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(equal, both known) for integer-coded keys where -1 means unknown."""
    a, b = codes[i], codes[j]
    known = (a >= 0) & (b >= 0)
    return known & (a == b), known


def closed_before_later(records: Records, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Per pair: the earlier of the two was dispatched to a unit that closed it before the later one came."""
    earlier, later = np.minimum(i, j), np.maximum(i, j)  # record order is time order (records.ORDER_COLUMNS)
    return records.dispatched[earlier] & (records.closed_t[earlier] < records.t[later])


def comparison_levels(records: Records, i: np.ndarray, j: np.ndarray, workers: int = 1) -> dict[str, np.ndarray]:
    similarity = text_similarity(records, i, j, workers)
    levels = _levels(records, i, j, similarity)
    # Two reports at one place (place level >= 2) where either label names no one kind compare the kinds their words
    # name (records.inferred_view, kinds.infer_codes) as if their labels said them, with every rule below. Only at
    # one place: elsewhere an inferred agreement joined reports of other incidents, and one such wrong member kept
    # the rest of a large incident out of its case (session 11: seeds 20240301 / 101 / 202 / 303, pairwise F1
    # 0.9409 / 0.9366 / 0.9353 / 0.9323 -> 0.9471 / 0.9419 / 0.9377 / 0.9353; at any place 0.9469 / 0.9419 /
    # 0.9282 / 0.9377)
    view = records.inferred_view()
    if view is not None:
        inferred = records.inferred()
        at = np.flatnonzero((inferred[i] | inferred[j]) & (levels["place"] >= 2))
        if len(at):
            for name, level in _levels(view, i[at], j[at], similarity[at]).items():
                levels[name][at] = level
    return levels


def _levels(records: Records, i: np.ndarray, j: np.ndarray, similarity: np.ndarray) -> dict[str, np.ndarray]:
    levels: dict[str, np.ndarray] = {}
    codes = records.codes
    levels["text"] = np.searchsorted(np.asarray(TEXT_CUTS), similarity, side="right").astype(np.int8)

    dist = distance(records, i, j)
    same_place, place_known = _equal(codes["place"], i, j)
    same_estate, estate_known = _equal(codes["estate"], i, j)
    same_area, area_known = _equal(codes["area"], i, j)
    # without two points, address keys decide: same place key or estate 3, two different crossing spots 0 (though
    # they share roads); an estate against a crossing is one place described two ways and says nothing (-1), as do
    # two house numbers on one road (call-takers give the nearest number they find) or nothing at all. A shared
    # road (kilometres long) or the same street (a few km2) is not one place either (domain.md: 50-100 m, one
    # building or estate): -1, so the join needs cluster.AUTO_MATCH_PLACE_UNKNOWN. (As level 1 they let reports
    # kilometres apart join at AUTO_MATCH: seed 20240301 pairwise precision 0.924 -> 0.954, over-merge 1.48 ->
    # 0.84 %, recall 0.783 -> 0.772.) They still confirm a call-taker's manual link (manual_link_pairs).
    place_type = codes["place_type"]
    keys_disagree = place_known & (place_type[i] == CROSSING_TYPE) & (place_type[j] == CROSSING_TYPE)
    by_keys = np.where(same_place | same_estate, 3, np.where(keys_disagree, 0, -1))
    dist_level = np.where(
        dist <= DIST_CUTS_M[0], 3, np.where(dist <= DIST_CUTS_M[1], 2, np.where(dist <= DIST_CUTS_M[2], 1, 0))
    )
    has_dist = ~np.isnan(dist)
    # a point borrowed from the named place (records.approximate) says "near" when near, but a far borrowed point
    # may only be the median of a crossing's spread-out reports: then the keys decide. So do two different crossing
    # spots (another crossing, or another offset from one) when either point is borrowed: a borrowed point is off by
    # ~130 m at the median, too much to call two spots the keys tell apart one place (session 14, the seven months
    # looked at: pairwise F1 0.9533 -> 0.9544, precision +0.002; five higher, 505 -0.0023, 101 -0.0002; only when
    # both points are borrowed: 0.9536; not for two offsets from one crossing: 0.9531)
    borrowed = records.approximate[i] | records.approximate[j]
    has_dist = has_dist & ~(borrowed & ((dist_level == 0) | (keys_disagree & ~same_place)))
    place = np.where(has_dist, np.where(same_place | same_estate, np.maximum(dist_level, 2), dist_level), by_keys)
    # Two different named estates, or two different streets, are two places whatever the points say: one problem
    # is reported with one estate name (seed 20240301: 0 true pairs among 141 k candidate pairs naming two estates,
    # 0 among 60 k in two streets), while the points of nearby estates are often within 150 m of each other.
    named_apart = (estate_known & ~same_estate) | (area_known & ~same_area)
    place = np.where(named_apart, 0, place)
    levels["place"] = place.astype(np.int8)

    gap = np.abs(records.t[j] - records.t[i])
    window = np.maximum(records.window_s[i], records.window_s[j])
    levels["time"] = np.where(
        gap <= TIME_CUTS_S[0], 3, np.where(gap <= TIME_CUTS_S[1], 2, np.where(gap <= window, 1, 0))
    ).astype(np.int8)
    # A problem's reports come while it is open: a report that comes after the earlier report's unit closed it is a
    # repeat (a new case) or another problem, as far in time from it as a report beyond the window (time level 0).
    # Seed 20240301: 4.6 % of true candidate pairs and 20.6 % of the others are such pairs (a duplicate order closed
    # on its own is the usual true one), hence DEFAULT_M's time level 0 of 0.05.
    levels["time"][closed_before_later(records, i, j)] = 0

    same_topic, topic_known = _equal(codes["topic"], i, j)
    levels["topic"] = np.where(topic_known, same_topic.astype(np.int8), -1).astype(np.int8)

    same_l2, _ = _equal(codes["l2"], i, j)
    same_l1, l1_known = _equal(codes["l1"], i, j)
    # a label that says only the class (a petition's 城乡建设, mapped to a catch-all) cannot disagree on the l2:
    # one class in common is then no evidence either way (-1), not "same class, other kind" (1)
    several = records.codes["l2_several"]
    specific = (codes["l2"] >= 0) | several
    l2_comparable = specific[i] & specific[j]
    category = np.where(same_l2, 2, np.where(same_l1, np.where(l2_comparable, 1, -1),
                                             np.where(l1_known, 0, -1))).astype(np.int8)
    # a label that maps to several l2 codes (a 12345 label without its third level) agrees with any of them
    set_id, overlap = records.l2_overlap()
    either = np.flatnonzero(several[i] | several[j])
    category[either[overlap[set_id[i[either]], set_id[j[either]]]]] = 2
    # where the unified categories name the same kind, a keyword topic that disagrees is the keywords' own noise
    # (a 12345 elevator label says 物业 first: property; the hotline's 特种设备 report says 电梯): no evidence then
    # (seed 20240301: pairwise F1 0.817 -> 0.820, and higher on all three unseen seeds)
    levels["topic"] = np.where((category == 2) & (levels["topic"] == 0), -1, levels["topic"]).astype(np.int8)
    # where the labels say nothing of the kind (a petition's class only, a label mapped to no code), the unit the
    # intake was given (records.unit_names) tells which department's problem it is: the same unit counts as the same
    # kind here, after the topic rule above (a unit does not silence the keywords). Seed 20240301: pairwise P / R / F1
    # 0.947 / 0.820 / 0.879 -> 0.950 / 0.831 / 0.886, over-merge 1.04 -> 0.97 %. Two units are not counted against
    # (a unit returns an order given to it wrongly; 0.886 at 1.15 % when they were, as level 0)
    unit = codes["unit"]
    no_kind = np.flatnonzero(category == -1)
    same_unit = (unit[i[no_kind]] >= 0) & (unit[i[no_kind]] == unit[j[no_kind]])
    category[no_kind[same_unit]] = 2
    # Agreement through a label that names several codes (a 12345 label without its third level, a 110 label
    # widened by its relays: records.LABEL_COVERAGE_MIN_SHARE) says only that the other's kind is one of them: no
    # evidence (-1); its disagreement still counts. A label that names only its class (a petition's 城乡建设 or
    # 农村农业, the petition office's own classes, which file a delayed flat handover or a land payment under
    # another class than 12345 does) never counts against (-1). Applied after the rules above, which still read
    # such an agreement as one kind. Session 10, /tmp/s9q seed 20240301: pairwise P / R / F1 0.945 / 0.901 /
    # 0.9222 -> 0.946 / 0.908 / 0.9266, over-merge 1.08 -> 1.25 % (with the unit standing in for these too: 0.9253;
    # any side naming more than one code -> -1: 0.9199; without the widened 110 labels: 0.9172)
    class_only = (codes["l2"] < 0) & ~several & (codes["l1"] >= 0)
    category[(several[i] | several[j]) & (category == 2) & ~same_l2] = -1
    category[(class_only[i] | class_only[j]) & (category == 0)] = -1
    # Near-identical wording (text level 4) names the kind itself: the keyword topic is read from the same words and
    # a label is a call-taker's reading of them, so where they disagree it is their noise, and the pair counts as
    # one kind (session 10, /tmp/s9q seed 20240301, session-start code: among candidate pairs within 150 m with text
    # level 4, one problem 92 % of the time when the labels name two kinds, 72 % when they agree; pairwise P / R / F1
    # 0.946 / 0.908 / 0.9266 -> 0.942 / 0.923 / 0.9320, over-merge 1.25 -> 1.33 %; labels only: 0.9301; text level 3
    # too: 0.9260)
    same_words = levels["text"] == len(TEXT_CUTS)
    levels["topic"][same_words & (levels["topic"] == 0)] = 1
    category[same_words & ((category == 0) | (category == 1))] = 2
    levels["category"] = category
    # ... and the other way round: where the labels name one kind (category level 2) at one place (place level >= 2,
    # within 150 m or the same named place), wording with nothing in common (text level 0) is two callers' own words
    # for it, no evidence either way (-1) rather than against (session 10, second round, /tmp/s9q seed 20240301:
    # among such candidate pairs within a day one problem 63-95 % of the time; pairwise P / R / F1 0.956 / 0.917 /
    # 0.9362 -> 0.954 / 0.922 / 0.9377, over-merge 0.96 -> 1.03 %; place level 3 only: 0.9372; text level 1 too:
    # 0.9359; any place: 0.9374; text level 1 instead of -1: 0.9377 at 1.19 %)
    levels["text"][(levels["text"] == 0) & (category == 2) & (levels["place"] >= 2)] = -1

    same_caller, caller_known = _equal(codes["caller"], i, j)
    levels["caller"] = np.where(caller_known, same_caller.astype(np.int8), -1).astype(np.int8)
    return levels


@dataclass
class FellegiSunter:
    """m and u per comparison level, the prior match share, and their fitted log-likelihood ratios."""

    m: dict[str, np.ndarray] = field(default_factory=dict)
    u: dict[str, np.ndarray] = field(default_factory=dict)
    prior: float = 0.1
    iterations: int = 0

    def weights(self) -> dict[str, np.ndarray]:
        return {name: np.log2(self.m[name] / self.u[name]) for name in COMPARISONS}

    def match_probability(self, levels: dict[str, np.ndarray], prior: float | None = None) -> np.ndarray:
        """Posterior match probability; at the fitted prior unless another prior is given."""
        prior = self.prior if prior is None else prior
        n = len(next(iter(levels.values()))) if levels else 0
        log_odds = np.full(n, np.log2(prior / (1 - prior)))
        for name, weight in self.weights().items():
            level = levels[name]
            known = level >= 0
            log_odds[known] += weight[level[known]]
        return 1.0 / (1.0 + np.exp2(-log_odds))

    def as_dict(self) -> dict:
        return {
            "prior": self.prior,
            "iterations": self.iterations,
            "m": {k: [round(float(x), 5) for x in v] for k, v in self.m.items()},
            "u": {k: [round(float(x), 5) for x in v] for k, v in self.u.items()},
        }


def _level_shares(
    level: np.ndarray, size: int, weights: np.ndarray | None = None, prior: np.ndarray | None = None
) -> np.ndarray:
    known = level >= 0
    counts = np.bincount(level[known].astype(np.int64), weights=None if weights is None else weights[known], minlength=size)
    counts = counts.astype("float64") + 0.5  # a half-count floor keeps every level possible
    if prior is not None:
        counts += PRIOR_PAIRS * prior
    return counts / counts.sum()


def estimate_u(records: Records, workers: int = 1, sample: int = RANDOM_PAIRS, seed: int = 7) -> dict[str, np.ndarray]:
    """Level shares among random pairs (nearly all non-matches). Fixed seed: the same data gives the same u."""
    n = len(records)
    if n < 2:
        return {name: np.full(size, 1.0 / size) for name, size in COMPARISONS.items()}
    if n * (n - 1) // 2 <= sample:
        i, j = np.triu_indices(n, k=1)
    else:
        rng = np.random.default_rng(seed)
        i = rng.integers(0, n, size=sample)
        j = rng.integers(0, n, size=sample)
        keep = i != j
        i, j = np.minimum(i, j)[keep], np.maximum(i, j)[keep]
    levels = comparison_levels(records, i.astype(np.int64), j.astype(np.int64), workers)
    return {
        name: _level_shares(levels[name], size, prior=np.asarray(DEFAULT_U[name]))
        for name, size in COMPARISONS.items()
    }


def seed_posterior(levels: dict[str, np.ndarray]) -> np.ndarray:
    """A deterministic first guess that starts EM in the right basin: pairs near in place and time whose texts or
    categories clearly agree are probably matches. EM then re-estimates everything from the data."""
    near = (levels["place"] >= 2) | (levels["place"] == -1)
    agree = (levels["text"] >= 3) | ((levels["category"] == 2) & (levels["text"] >= 2)) | (
        (levels["caller"] == 1) & (levels["text"] >= 2)
    )
    return np.where(near & (levels["time"] >= 1) & agree, 0.9, 0.02)


# One small integer per comparison pattern (mixed radix, level -1 shifted to 0): 6*5*5*3*4*3 = 5 400 patterns fit in
# an int16, so tens of millions of scored pairs keep 2 bytes each instead of one byte per comparison plus temporaries.
_NAMES = tuple(COMPARISONS)
_RADIX = tuple(COMPARISONS[name] + 1 for name in _NAMES)
PATTERNS = int(np.prod(_RADIX))


def pattern_codes(levels: dict[str, np.ndarray]) -> np.ndarray:
    n = len(next(iter(levels.values()))) if levels else 0
    code = np.zeros(n, dtype=np.int32)
    for name, base in zip(_NAMES, _RADIX):
        code = code * base + (levels[name].astype(np.int32) + 1)
    return code.astype(np.int16)


def levels_of_patterns(codes: np.ndarray) -> dict[str, np.ndarray]:
    rest = np.asarray(codes, dtype=np.int64).copy()
    levels = {}
    for name, base in reversed(list(zip(_NAMES, _RADIX))):
        levels[name] = (rest % base - 1).astype(np.int8)
        rest //= base
    return {name: levels[name] for name in _NAMES}


SCORE_CHUNK = 1_000_000  # pairs compared at a time: bounds the temporaries of the text comparison


def score_patterns(records: Records, i: np.ndarray, j: np.ndarray, workers: int = 1) -> np.ndarray:
    """comparison_levels for many pairs, chunk by chunk, kept as one pattern code per pair."""
    out = np.empty(len(i), dtype=np.int16)
    records.problem_array(), records.l2_overlap()  # built once here, not by two threads at a time
    if (view := records.inferred_view()) is not None:
        records.inferred(), view.l2_overlap()

    def score(start: int) -> None:
        stop = start + SCORE_CHUNK
        out[start:stop] = pattern_codes(comparison_levels(records, i[start:stop], j[start:stop], 1))

    starts = range(0, len(i), SCORE_CHUNK)
    if workers > 1 and len(starts) > 1:
        # chunks side by side in threads: rapidfuzz and numpy's big array operations release the GIL, and the
        # numpy half of the work would otherwise run on one core while cpdist's workers wait
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(score, starts))
    else:
        for start in starts:
            out[start : start + SCORE_CHUNK] = pattern_codes(
                comparison_levels(records, i[start : start + SCORE_CHUNK], j[start : start + SCORE_CHUNK], workers))
    return out


# A 110 dispatcher passes a non-police call on to 12345, which registers it minutes later as a new order marked
# "110转来" (records.relayed_110) with the same caller: one call, so one problem whatever the two texts and labels
# say (seed 20240301: 1 769 such pairs, 1 of them two problems). Beyond records.RELAY_WINDOW_S the relay is not
# that call.


def relay_pairs(records: Records, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Per pair (i earlier than j): j is the 12345 relay of the 110 call i (records.relayed_calls)."""
    return records.relayed_call[j] == i


# A 12345 call-taker's manual link to an earlier order (关联工单) is often wrong on its own (seed 20240301: 510 right,
# 412 wrong) but nearly always right when the two places agree at least weakly (place level >= this: 132 right, 2
# wrong among the pairs left apart before).
MANUAL_LINK_MIN_PLACE = 1


def manual_link_pairs(records: Records, i: np.ndarray, j: np.ndarray, patterns: np.ndarray) -> np.ndarray:
    """Per pair: one of the two orders was linked to the other by hand and their places do not disagree."""
    if not (records.linked_to >= 0).any():  # no call-taker's link in the batch: skip two gathers over every pair
        return np.zeros(len(i), dtype=bool)
    linked = (records.linked_to[j] == i) | (records.linked_to[i] == j)
    if not linked.any():
        return linked
    at = np.flatnonzero(linked)
    place = levels_of_patterns(patterns[at])["place"]
    # a shared road or the same street counts as weak agreement here, where nothing else placed the pair (-1)
    weak = (place < MANUAL_LINK_MIN_PLACE) & ~((place == -1) & shares_road_or_street(records, i[at], j[at]))
    linked[at[weak]] = False
    return linked


def shares_road_or_street(records: Records, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Per pair: the two addresses name a common road or the same street (weak agreement, no place level)."""
    codes = records.codes
    same_area, _ = _equal(codes["area"], i, j)
    road1_a, road2_a, road1_b, road2_b = codes["road1"][i], codes["road2"][i], codes["road1"][j], codes["road2"][j]
    shared_road = ((road1_a >= 0) & ((road1_a == road1_b) | (road1_a == road2_b))) | (
        (road2_a >= 0) & ((road2_a == road1_b) | (road2_a == road2_b))
    )
    return shared_road | same_area


def pair_probabilities(model: "FellegiSunter", records: Records, i: np.ndarray, j: np.ndarray,
                       patterns: np.ndarray, prior: float | None = None) -> np.ndarray:
    """Match probability of each candidate pair: its pattern's posterior, and 1 for a 110 call and its relay and
    for a call-taker's manual link between two orders whose places agree."""
    prob = pattern_probabilities(model, prior=prior)[patterns.astype(np.int64)]
    prob[relay_pairs(records, i, j) | manual_link_pairs(records, i, j, patterns)] = 1.0
    return prob


def pattern_probabilities(model: "FellegiSunter", prior: float | None = None) -> np.ndarray:
    """Match probability of every possible pattern code: a pair's probability is one lookup."""
    return model.match_probability(levels_of_patterns(np.arange(PATTERNS)), prior=prior)


def fit(levels: dict[str, np.ndarray], u: dict[str, np.ndarray] | None = None, iterations: int = EM_ITERATIONS,
        estimate_u: bool = True, estimate_m: bool = True) -> FellegiSunter:
    """fit_patterns on the comparison levels of the candidate pairs."""
    codes = pattern_codes(levels)
    counts = np.bincount(codes.astype(np.int64), minlength=PATTERNS) if len(codes) else np.zeros(PATTERNS)
    return fit_patterns(counts, u=u, iterations=iterations, estimate_u=estimate_u, estimate_m=estimate_m)


def fit_patterns(pattern_counts: np.ndarray, u: dict[str, np.ndarray] | None = None, iterations: int = EM_ITERATIONS,
                 estimate_u: bool = True, estimate_m: bool = True) -> FellegiSunter:
    """EM on the candidate pairs' comparison patterns, given as a count per pattern code.

    Candidate pairs were chosen because they share a place, a time or a caller, so random-pair u values would make
    every candidate look like a match; u is therefore estimated by EM too (started from the level shares among the
    candidates, which are nearly all non-matches), unless estimate_u is False. m starts from DEFAULT_M; both carry
    a weak Dirichlet prior so that a small batch still gets sensible weights.
    """
    names = list(COMPARISONS)
    pattern_counts = np.asarray(pattern_counts, dtype="float64")
    present = np.flatnonzero(pattern_counts)
    counts = pattern_counts[present]
    pattern_levels = levels_of_patterns(present)
    n = counts.sum()
    default_m = {name: np.asarray(DEFAULT_M[name], dtype="float64") for name in names}
    default_u = {name: np.asarray(DEFAULT_U[name], dtype="float64") for name in names}
    start_u = u if u is not None else {
        name: _level_shares(pattern_levels[name], COMPARISONS[name], counts, default_u[name]) if n else default_u[name]
        for name in names
    }
    model = FellegiSunter(m=dict(default_m), u=dict(start_u), prior=DEFAULT_PRIOR)
    if n == 0:
        return model
    for iteration in range(iterations):
        posterior = seed_posterior(pattern_levels) if iteration == 0 else model.match_probability(pattern_levels)
        weight = posterior * counts
        if estimate_m:
            new_m = {name: _level_shares(pattern_levels[name], COMPARISONS[name], weight, default_m[name]) for name in names}
        else:
            new_m = model.m
        if estimate_u:
            non_weight = (1.0 - posterior) * counts
            model.u = {
                name: _level_shares(pattern_levels[name], COMPARISONS[name], non_weight, default_u[name]) for name in names
            }
        matches = weight.sum() + PRIOR_PAIRS * DEFAULT_PRIOR
        new_prior = float(min(max(matches / (counts.sum() + PRIOR_PAIRS), 1e-4), 0.99))
        change = max(float(np.abs(new_m[k] - model.m[k]).max()) for k in names)
        change = max(change, abs(new_prior - model.prior))
        model.m, model.prior, model.iterations = new_m, new_prior, iteration + 1
        if change < 1e-5:
            break
    return model
