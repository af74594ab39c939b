"""Column-wise building blocks for bulk mapping (pyarrow.compute and numpy instead of Python per record).

The column-wise mappers (``api12345.map_page``) take the common, well-formed case of a whole delivery at once and
hand every record that is in any way unusual to the per-record mapper, which stays the one definition of the
mapping rules, the quarantine reasons and the odd cases. The helpers here therefore answer two questions per
column: what is the value for the regular records, and which records are not regular (``irregular`` masks).
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from connectors.pii import mask_text

# Every character Python's str.strip() removes. A value that starts or ends with one of them is irregular
# (the per-record mapper strips it), so the column-wise path never has to reproduce Python's stripping.
PY_WHITESPACE = pa.array(sorted(chr(c) for c in range(0x110000) if chr(c).isspace()), pa.string())
_PY_WHITESPACE_CHARS = "".join(PY_WHITESPACE.to_pylist())
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
# Fewer digits than this cannot hold a phone or ID-card number (pii.PHONE_PATTERN needs at least 7: a local
# number after a keyword), so such text needs no masking pass.
MIN_DIGITS_TO_MASK = 7


def column(records: Sequence[dict], name: str) -> list:
    return [r.get(name) for r in records]


def string_array(values: list) -> tuple[pa.Array, np.ndarray]:
    """(string array, irregular mask): values that are not str or None are irregular (and null here)."""
    try:
        return pa.array(values, pa.string()), np.zeros(len(values), dtype=bool)
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        irregular = np.fromiter((v is not None and type(v) is not str for v in values), bool, len(values))
        cleaned = [None if bad else v for v, bad in zip(values, irregular)]
        return pa.array(cleaned, pa.string()), irregular


def float_array(values: list) -> tuple[np.ndarray, np.ndarray]:
    """(float64 array with NaN for None, irregular mask): only int (not bool), float and None are regular."""
    irregular = np.fromiter((not (v is None or type(v) is float or type(v) is int) for v in values), bool,
                            len(values))
    out = np.fromiter((np.nan if (v is None or bad) else v for v, bad in zip(values, irregular)), np.float64,
                      len(values))
    return out, irregular


def mask_of(array: pa.Array) -> np.ndarray:
    """A boolean Arrow array as a numpy mask (null = False)."""
    return np.asarray(pc.fill_null(array, False).to_numpy(zero_copy_only=False), dtype=bool)


def blank_to_null(array: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(array, ""), pa.scalar(None, array.type), array)


def text(array: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """A stripped text field: '' -> null; irregular where Python's strip would change the value."""
    # (trimming Python's whitespace set stops at the first other character from each end: ~3x cheaper than
    # slicing off the first and last characters and looking them up)
    irregular = mask_of(pc.not_equal(pc.utf8_trim(array, characters=_PY_WHITESPACE_CHARS), array))
    return blank_to_null(array), irregular


def times(array: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """``YYYY-MM-DD HH:MM:SS`` text -> timestamp[us]; null and '' -> null. Irregular: any other shape, and
    dates or times that do not exist (Arrow would roll 2024-02-30 over into March: each written component is
    compared with the parsed one). Parsed once per distinct text (versions of an order repeat its times)."""
    encoded = pc.dictionary_encode(array)
    parsed, irregular = _distinct_times(encoded.dictionary)
    indices = encoded.indices
    if len(parsed) == 0:  # every value null
        return pa.nulls(len(array), pa.timestamp("us")), np.zeros(len(array), dtype=bool)
    return (pc.take(parsed, indices),
            irregular[np.asarray(pc.fill_null(indices, 0).to_numpy(zero_copy_only=False), dtype=np.int64)]
            & mask_of(pc.is_valid(indices)))


def times_of(arrays: list[pa.Array]) -> list[tuple[pa.Array, np.ndarray]]:
    """``times`` of each array, parsing the distinct texts of all of them once."""
    if not arrays:
        return []
    parsed, irregular = times(pa.concat_arrays([a.cast(pa.string()) for a in arrays]))
    out, start = [], 0
    for array in arrays:
        out.append((parsed.slice(start, len(array)), irregular[start:start + len(array)]))
        start += len(array)
    return out


def _distinct_times(array: pa.Array) -> tuple[pa.Array, np.ndarray]:
    array = blank_to_null(array)
    # The shape with each component in its range, so that the one rollover left to catch is a day beyond its
    # month's end (2024-02-30 parses as 2024-03-01): the parsed day must be the written one. (Cheaper than
    # comparing all six components or formatting the time back.)
    shaped = mask_of(pc.match_substring_regex(array, _TIME_IN_RANGE))
    present = mask_of(pc.is_valid(array))
    shaped_text = pc.if_else(pa.array(shaped), array, pa.scalar(None, pa.string()))
    parsed = pc.strptime(shaped_text, format=TIME_FORMAT, unit="us", error_is_null=True)
    good = shaped & ~mask_of(pc.starts_with(array, "0000"))
    written_day = pc.cast(pc.utf8_slice_codeunits(shaped_text, 8, 10), pa.int64())
    good &= mask_of(pc.equal(written_day, pc.day(parsed)))
    irregular = present & ~good
    parsed = pc.if_else(pa.array(good), parsed, pa.scalar(None, pa.timestamp("us")))
    return parsed, irregular


_TIME_IN_RANGE = (r"^[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01]) (?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$")


def map_unique(array: pa.Array, fn: Callable[[Any], Any], out_type: pa.DataType) -> pa.Array:
    """``fn`` applied once per distinct value (nulls stay null)."""
    uniques = pc.unique(array)
    mapped = pa.array([None if v is None else fn(v) for v in uniques.to_pylist()], out_type)
    return pc.take(mapped, pc.index_in(array, uniques))


def masked_text(array: pa.Array, mask_fn: Callable[[str], str] = mask_text) -> pa.Array:
    """Free text with phone and ID-card numbers masked (``pii.mask_text``), run only on distinct values that hold
    enough digits to contain one."""
    candidates = mask_of(pc.greater_equal(pc.count_substring_regex(array, "[0-9０-９]"), MIN_DIGITS_TO_MASK))
    if not candidates.any():
        return array
    selected = pa.array(candidates)
    replaced = map_unique(pc.filter(array, selected), mask_fn, pa.string())
    return pc.replace_with_mask(array, selected, replaced)


def is_in(array: pa.Array, allowed: Sequence[str]) -> np.ndarray:
    return mask_of(pc.is_in(array, value_set=pa.array(list(allowed), pa.string())))
