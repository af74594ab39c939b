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

MIN_POSTERIOR = 0.9
MIN_EXAMPLES = 5  # a code is learned only from at least this many reports whose label names it alone
SMOOTHING = 0.1  # additive smoothing of the per-code n-gram counts
CHANNELS = ("12345", "petition")
_OCCURRENCES_PER_STEP = 200_000  # bounds the (codes x occurrences) block gathered at a time


def _ngrams(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(text index, n-gram id) of every character unigram and bigram of the texts, ids numbered over the batch."""
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    chars = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    text_of_char = np.repeat(np.arange(len(texts)), lengths)
    pair = np.flatnonzero(text_of_char[1:] == text_of_char[:-1]) if len(chars) > 1 else np.zeros(0, np.int64)
    # a unigram is its code point (< 2**21); a bigram is both, above every unigram
    grams = np.concatenate([chars, (chars[pair] + 1) * (1 << 21) + chars[pair + 1]])
    text_of_gram = np.concatenate([text_of_char, text_of_char[pair]])
    _, ids = np.unique(grams, return_inverse=True)
    order = np.argsort(text_of_gram, kind="stable")
    return text_of_gram[order], ids.reshape(-1)[order]


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
    doc, gram = _ngrams(texts)
    vocabulary = int(gram.max()) + 1 if len(gram) else 0
    label = [next(iter(c)) if len(c) == 1 else "" for c in cat_l2]
    examples: dict[str, int] = {}
    for code in label:
        if code:
            examples[code] = examples.get(code, 0) + 1
    codes = sorted(code for code, count in examples.items() if count >= MIN_EXAMPLES)
    if not codes or vocabulary == 0:
        return out
    position = {code: x for x, code in enumerate(codes)}
    class_of_text = np.array([position.get(code, -1) for code in label], dtype=np.int64)
    learned = class_of_text[doc] >= 0
    counts = np.bincount(class_of_text[doc[learned]] * vocabulary + gram[learned],
                         minlength=len(codes) * vocabulary).reshape(len(codes), vocabulary).astype("float64")
    log_p = np.log((counts + SMOOTHING) / (counts.sum(axis=1, keepdims=True) + SMOOTHING * vocabulary))
    reports = np.bincount(class_of_text[class_of_text >= 0], minlength=len(codes)).astype("float64")
    log_prior = np.log(reports / reports.sum())

    is_target = np.zeros(n, bool)
    is_target[targets] = True
    chosen = np.flatnonzero(is_target[doc])
    target_doc, target_gram = doc[chosen], gram[chosen]
    starts = np.flatnonzero(np.r_[True, target_doc[1:] != target_doc[:-1]])
    scores = np.empty((len(starts), len(codes)))
    # per report, the sum of its n-grams' log-probabilities under each code, a bounded block of reports at a time
    per_step = max(1, _OCCURRENCES_PER_STEP * len(starts) // len(chosen))
    for first in range(0, len(starts), per_step):
        last = min(first + per_step, len(starts))
        lo, hi = starts[first], starts[last] if last < len(starts) else len(chosen)
        block = log_p[:, target_gram[lo:hi]]
        scores[first:last] = np.add.reduceat(block, starts[first:last] - lo, axis=1).T
    scores += log_prior
    scores -= scores.max(axis=1, keepdims=True)
    posterior = np.exp(scores)
    posterior /= posterior.sum(axis=1, keepdims=True)
    best = posterior.argmax(axis=1)
    for k, b, p in zip(target_doc[starts].tolist(), best.tolist(), posterior[np.arange(len(best)), best].tolist()):
        code = codes[b]
        if p >= MIN_POSTERIOR and (class_only[k] or code in cat_l2[k]):
            out[k] = code
    return out
