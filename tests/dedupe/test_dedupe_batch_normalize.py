"""The column-wise normalisation (records.prepare's fast path) gives exactly what the per-string functions give."""
import numpy as np
from hypothesis import given, settings, strategies as st

from dedupe import normalize, records
from dedupe.normalize import (Gazetteer, clean_text, clean_texts, parse_address, problem_text, problem_texts,
                              relayed_from_110, simplify)

# characters the rules care about: boilerplate, traditional forms, full-width forms, punctuation, spaces, digits,
# place words, the relay marker, and a character whose lower case is two characters
ALPHABET = list("市民来电反映称请尽快处理谢謝井蓋沒了路与口交号栋社区小区街道1１0０转轉來来ＡＢab，。：! \t\u3000İ٣徽州大道南宁")
texts = st.lists(st.one_of(st.none(), st.text(alphabet=ALPHABET, max_size=24)), max_size=30)


@settings(max_examples=150, deadline=None)
@given(texts)
def test_clean_texts_equals_clean_text(values):
    assert clean_texts(values) == [clean_text(v) for v in values]


@settings(max_examples=100, deadline=None)
@given(texts, st.lists(st.text(alphabet=ALPHABET, max_size=4), min_size=1, max_size=3),
       st.frozensets(st.text(alphabet=ALPHABET, min_size=1, max_size=4), max_size=3))
def test_problem_texts_equals_problem_text(values, names, roads):
    cleaned = clean_texts(values)
    assert problem_texts(cleaned, [tuple(names)] * len(cleaned), roads) == [
        problem_text(c, tuple(names), roads) for c in cleaned]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=list(" \t\u30001１0０转轉来來x"), max_size=10))
def test_relay_marker_as_simplify_would_read_it(content):
    assert relayed_from_110(content) == simplify(content).replace(" ", "").startswith(normalize.RELAY_FROM_110)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(alphabet=list(" \t\n\u3000\u2003\x1c1１0０转轉来來x"), max_size=10)),
                max_size=12))
def test_relay_marker_column_wise_equals_per_text(contents):
    import pyarrow as pa

    column = pa.chunked_array([pa.array(contents, type=pa.string())])
    assert normalize.relayed_from_110_many(column).tolist() == [relayed_from_110(c) for c in contents]


def test_linked_orders_point_at_the_12345_order_in_the_batch():
    import pyarrow as pa

    table = pa.table({"channel": ["12345", "12345", "110", "12345", "12345"],
                      "source_id": ["A", "B", "A", "C", "D"],
                      "linked_source_id": [None, "A", "B", "Z", ""]})
    is_12345 = np.array([True, True, False, True, True])
    # B links to the 12345 order A (not the 110 call A); a 110 call carries no link; Z is not in the batch
    assert records._linked_orders(table, is_12345).tolist() == [-1, 0, -1, -1, -1]


def test_gazetteer_batch_finds_the_leftmost_longest_name_like_find():
    gazetteer = Gazetteer(["阳光府", "阳光府二期", "滨湖国际", "国际花园"])
    samples = ["住在阳光府二期门口", "滨湖国际花园旁", "没有地名", "", "国际花园和阳光府", "阳光"]
    assert gazetteer.find_many(samples) == [gazetteer.find(s) for s in samples]
    assert gazetteer.find_many(samples)[:2] == ["阳光府二期", "滨湖国际"]
    assert Gazetteer([]).find_many(["阳光府"]) == [""]


def test_encode_numbers_in_order_of_first_appearance_with_unknown_minus_one():
    values = ["b", "", "a", "b", "", "c", "a"]
    first_appearance: dict[str, int] = {}
    reference = [first_appearance.setdefault(v, len(first_appearance)) if v else -1 for v in values]
    assert records.encode(values).tolist() == reference == [0, -1, 1, 0, -1, 2, 1]
    assert records.encode(["", ""]).tolist() == [-1, -1]


def test_borrowed_point_is_the_median_of_the_place_located_reports():
    named = ["e:a", "e:a", "e:a", "e:a", "e:b", "e:b", "", "e:c"]
    lon = np.array([117.0, 117.4, 117.1, np.nan, 117.2, np.nan, np.nan, np.nan])
    lat = np.array([31.0, 31.3, 31.2, np.nan, 31.5, np.nan, np.nan, np.nan])
    has_point = ~np.isnan(lon)
    filled = records._place_points(named, lon, lat, has_point)
    assert filled.tolist() == [False, False, False, True, False, True, False, False]
    assert lon[3] == np.median([117.0, 117.4, 117.1]) and lat[3] == np.median([31.0, 31.3, 31.2])
    assert (lon[5], lat[5]) == (117.2, 31.5)
    assert np.isnan(lon[6]) and np.isnan(lon[7])


def test_a_two_character_estate_is_found_with_its_xiaoqu():
    """Session 12: an estate key of two characters (迎河小区 -> 迎河) is found where the text writes it with its 小区,
    and not inside other words (迎河路 is a road)."""
    assert parse_address("迎河小区3栋").estate == "迎河"
    gazetteer = Gazetteer(["迎河", "阳光府"])
    texts = ["有住户养大型犬夜里狂叫地点在包河区迎河小区西侧", "迎河路边垃圾堆积", "阳光府门口"]
    assert gazetteer.find_many(texts) == ["迎河", "", "阳光府"]
    assert [gazetteer.find(text) for text in texts] == ["迎河", "", "阳光府"]
