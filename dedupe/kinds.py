"""The kind a report's own words name, where its label does not say it.

A 12345 order filed without its third level (城乡建设/市政设施) maps to several unified codes, and a petition's class
(城乡建设) is the petition office's own taxonomy: both leave the category comparison without evidence. Most reports
of the batch do carry a label naming one code, so the batch teaches which words go with which code: a naive Bayes
classifier on the character unigrams and bigrams of the problem text (records.problem), trained on those reports,
reads one code for the others. No truth and no hand-made lexicon: a new district's own labels train it.

It is trusted only where it is sure (posterior >= MIN_POSTERIOR over all codes), where the code it reads best is one
the report's label allows, and only for the channels where it reads well: on 20240301, checked against the
simulator's truth (diagnosis only), it read the right code for 99 % of petitions and 97.4 % of 12345 orders, but for
69 % of 110 calls, whose widened labels (records.label_coverage) already say what their relays say. Scoring uses the
codes read here only for two reports at one place (scoring.comparison_levels).
"""
from __future__ import annotations

import numpy as np

from dedupe import categories

MIN_POSTERIOR = 0.9
MIN_EXAMPLES = 5  # a code is learned only from at least this many reports whose label names it alone
SMOOTHING = 0.1  # additive smoothing of the per-code n-gram counts
CHANNELS = ("12345", "petition")
# Reports it learns from at most (every k-th of the single-code ones, in record order): a month has ~23 000, and at
# a million the counting would cost more than the matching it serves
MAX_TRAINING_REPORTS = 100_000
_OCCURRENCES_PER_STEP = 200_000  # bounds the (codes x occurrences) block gathered at a time


def _ngrams(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(text position, n-gram value) of every character unigram and bigram, grouped by text in text order (each
    bigram right after its first character's unigram, so no sort is needed). A unigram's value is its code point
    (< 2**21), a bigram's lies above every unigram."""
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    chars = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.int64)
    text_of_char = np.repeat(np.arange(len(texts)), lengths)
    values = np.full(2 * len(chars), -1, dtype=np.int64)
    values[0::2] = chars
    if len(chars) > 1:
        pair = np.flatnonzero(text_of_char[1:] == text_of_char[:-1])
        values[2 * pair + 1] = (chars[pair] + 1) * (1 << 21) + chars[pair + 1]
    doc = np.repeat(text_of_char, 2)
    kept = values >= 0
    return doc[kept], values[kept]


def infer_codes(texts: list[str], cat_l2: list[frozenset], cat_l1: list[frozenset], channels: list[str]) -> list[str]:
    """Per report: the one unified l2 code its words name, where its label names several codes or only a class
    and the channel is one of CHANNELS; '' elsewhere and wherever the classifier is unsure."""
    n = len(texts)
    out = [""] * n
    several = [len(c) > 1 for c in cat_l2]
    class_only = [not c and bool(l1) for c, l1 in zip(cat_l2, cat_l1)]
    targets = [k for k in range(n) if (several[k] or class_only[k]) and channels[k] in CHANNELS and texts[k]]
    if not targets:
        return out
    label = [categories.only_code(c) for c in cat_l2]
    examples: dict[str, int] = {}
    for code in label:
        if code:
            examples[code] = examples.get(code, 0) + 1
    codes = sorted(code for code, count in examples.items() if count >= MIN_EXAMPLES)
    if not codes:
        return out
    position = {code: x for x, code in enumerate(codes)}
    class_of_text = np.array([position.get(code, -1) for code in label], dtype=np.int64)
    learners = np.flatnonzero(class_of_text >= 0)
    learners = learners[:: -(-len(learners) // MAX_TRAINING_REPORTS)]
    is_learner = np.zeros(n, bool)
    is_learner[learners] = True
    is_target = np.zeros(n, bool)
    is_target[targets] = True

    doc, value = _ngrams(texts)
    learned = is_learner[doc]
    vocabulary = np.unique(value[learned])
    size = len(vocabulary)
    counts = np.bincount(class_of_text[doc[learned]] * size + np.searchsorted(vocabulary, value[learned]),
                         minlength=len(codes) * size).reshape(len(codes), size).astype("float64")
    # one row per n-gram, so that gathering a report's n-grams reads whole rows; the extra last row of zeros is for
    # an n-gram no learner used, which says nothing
    log_p = np.zeros((size + 1, len(codes)))
    log_p[:size] = np.log((counts + SMOOTHING) / (counts.sum(axis=1, keepdims=True) + SMOOTHING * size)).T
    reports = np.bincount(class_of_text[learners], minlength=len(codes)).astype("float64")
    log_prior = np.log(reports / reports.sum())

    chosen = np.flatnonzero(is_target[doc])
    target_doc, target_value = doc[chosen], value[chosen]
    target_gram = np.full(len(chosen), size)
    if size:
        found = np.minimum(np.searchsorted(vocabulary, target_value), size - 1)
        target_gram = np.where(vocabulary[found] == target_value, found, size)
    starts = np.flatnonzero(np.r_[True, target_doc[1:] != target_doc[:-1]])
    scores = np.empty((len(starts), len(codes)))
    # per report, the sum of its n-grams' log-probabilities under each code, a bounded block of reports at a time
    per_step = max(1, _OCCURRENCES_PER_STEP * len(starts) // len(chosen))
    for first in range(0, len(starts), per_step):
        last = min(first + per_step, len(starts))
        lo, hi = starts[first], starts[last] if last < len(starts) else len(chosen)
        scores[first:last] = np.add.reduceat(log_p[target_gram[lo:hi]], starts[first:last] - lo, axis=0)
    known = np.add.reduceat((target_gram < size).astype(np.int64), starts) > 0
    scores += log_prior
    scores -= scores.max(axis=1, keepdims=True)
    posterior = np.exp(scores)
    posterior /= posterior.sum(axis=1, keepdims=True)
    best = posterior.argmax(axis=1)
    sure = posterior[np.arange(len(best)), best] >= MIN_POSTERIOR
    for k, b, ok in zip(target_doc[starts].tolist(), best.tolist(), (sure & known).tolist()):
        code = codes[b]
        if ok and (class_only[k] or code in cat_l2[k]):
            out[k] = code
    return out
