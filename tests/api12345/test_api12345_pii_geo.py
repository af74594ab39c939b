"""Phone normalisation, keyed hashing, masking and coordinate conversion."""
from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors import geo
from connectors.pii import (
    DEFAULT_AREA_CODE,
    ID_CARD_PATTERN,
    PHONE_PATTERN,
    PiiHasher,
    id_card_checksum_ok,
    mask_text,
    normalize_phone,
)

# -- phones ------------------------------------------------------------------------------------------------------

SAME_MOBILE = ["13805512345", "138 0551 2345", "+86-138-0551-2345", "0086 138 0551 2345", "8613805512345",
               "138.0551.2345", "(+86)13805512345", "１３８０５５１２３４５"]
SAME_LANDLINE = ["0551-63351234", "(0551)63351234", "0551 6335 1234", "+86-551-63351234", "63351234",
                 "+86 0551 63351234"]


@pytest.mark.parametrize("raw", SAME_MOBILE)
def test_mobile_formats_normalise_to_eleven_digits(raw):
    assert normalize_phone(raw) == "13805512345"


@pytest.mark.parametrize("raw", SAME_LANDLINE)
def test_landline_formats_normalise_with_area_code(raw):
    assert normalize_phone(raw) == f"{DEFAULT_AREA_CODE}-63351234"


def test_other_area_codes_keep_their_length():
    assert normalize_phone("010-62345678") == "010-62345678"
    assert normalize_phone("021 6234 5678") == "021-62345678"
    assert normalize_phone("0553-2345678") == "0553-2345678"


@pytest.mark.parametrize("raw", [None, "", "   ", "匿名", "不详", "12345", "0000000", "abc13805512345x",
                                 "+1 415 555 0100", "1380551234", 3.5, True])
def test_withheld_or_garbage_is_none(raw):
    assert normalize_phone(raw) is None


def test_all_formats_of_one_number_hash_equal_and_differ_from_others():
    hasher = PiiHasher("k1")
    assert len({hasher.caller_key(raw) for raw in SAME_MOBILE}) == 1
    assert len({hasher.caller_key(raw) for raw in SAME_LANDLINE}) == 1
    assert hasher.caller_key(SAME_MOBILE[0]) != hasher.caller_key(SAME_LANDLINE[0])
    assert hasher.caller_key("") is None
    # a different key gives unlinkable hashes
    assert PiiHasher("k2").caller_key(SAME_MOBILE[0]) != hasher.caller_key(SAME_MOBILE[0])
    assert "k1" not in repr(hasher)


def test_hash_value_separates_kinds_and_ignores_whitespace():
    hasher = PiiHasher("k")
    assert hasher.hash_value("name", "张 三") == hasher.hash_value("name", "张三")
    assert hasher.hash_value("id_card", "34011119900101123x") == hasher.hash_value("id_card", "34011119900101123X")
    assert hasher.hash_value("name", "张三") != hasher.hash_value("id_card", "张三")
    assert hasher.hash_value("name", "  ") is None and hasher.hash_value("name", None) is None


@settings(deadline=None)  # the machine is shared: no per-example time limit
@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True), st.sampled_from(["", "+86-", "0086 ", "86", "+86 "]),
       st.sampled_from(["", " ", "-", "."]))
def test_any_mobile_with_prefix_and_separators_normalises(number, prefix, sep):
    written = prefix + sep.join([number[:3], number[3:7], number[7:]])
    assert normalize_phone(written) == number


# -- masking -----------------------------------------------------------------------------------------------------

def _id_with_checksum(first17: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return first17 + "10X98765432"[sum(int(c) * w for c, w in zip(first17, weights)) % 11]


def test_checksum():
    assert id_card_checksum_ok(_id_with_checksum("34011119900101123"))
    assert not id_card_checksum_ok("340111199001011230" if _id_with_checksum("34011119900101123")[-1] != "0"
                                   else "340111199001011231")


@pytest.mark.parametrize("text", ["1.7096258591E9", "117.337285,31.802989", "2024-03-01 06:18:10",
                                  "20240301 061810", "BH12345202403010015", "共1234567元", "0.123 4567 8901"])
def test_numbers_that_are_not_phones_are_left_alone(text):
    assert mask_text(text) == text


def test_mask_text_hides_numbers_and_keeps_the_rest():
    card = _id_with_checksum("34011119850612001")
    text = (f"市民来电反映：我的电话13805512345，另一个+86-139-5600-1188，座机(0551)63351234，电话：63351234，"
            f"身份证{card}，老证340111850612001。工单BH12345202403050123，日期20240305，门牌12号。")
    masked = mask_text(text)
    for secret in ("13805512345", "139", "5600", "1188", "63351234", card, "340111850612001"):
        assert secret not in masked
    for kept in ("BH12345202403050123", "20240305", "门牌12号", "市民来电反映"):
        assert kept in masked
    assert len(masked) == len(text)
    assert not PHONE_PATTERN.search(masked) and not ID_CARD_PATTERN.search(masked)
    assert mask_text(None) is None


# Numbers are separated by at least one character: two numbers written back to back are one digit string.
_filler = st.text(alphabet="市民反映井盖缺失路口小区噪声，。：、 ", min_size=1, max_size=12)
_phone_written = st.one_of(
    st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
    st.from_regex(r"(\+86-|0086 |86)?1[3-9][0-9] ?[0-9]{4} ?[0-9]{4}", fullmatch=True),
    st.from_regex(r"1[3-9][0-9][.-][0-9]{4}[.-][0-9]{4}", fullmatch=True),
    st.from_regex(r"0[1-9][0-9]{2}\.[2-9][0-9]{7}", fullmatch=True),
    st.from_regex(r"\(?0[1-9][0-9]{2}\)?-?[2-9][0-9]{6,7}", fullmatch=True),
    st.from_regex(r"[1-9][0-9]{5}(19|20)[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9X]",
                  fullmatch=True),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_filler, _phone_written), min_size=1, max_size=4), _filler)
def test_masking_finds_every_number_in_generated_text(parts, tail):
    text = "".join(f + n for f, n in parts) + tail
    masked = mask_text(text)
    assert not any(ch.isdigit() for ch in masked), masked  # the filler has no digits: every digit was a number's
    assert len(masked) == len(text)


# -- coordinates -------------------------------------------------------------------------------------------------

def _metres(a, b):
    lat = math.radians((a[1] + b[1]) / 2)
    dx = (a[0] - b[0]) * 111_320 * math.cos(lat)
    dy = (a[1] - b[1]) * 110_540
    return math.hypot(dx, dy)


_lon = st.floats(min_value=73.5, max_value=135.0)
_lat = st.floats(min_value=18.0, max_value=53.5)


@settings(deadline=None)
@given(_lon, _lat)
def test_gcj02_round_trip_within_half_a_metre(lon, lat):
    gcj = geo.wgs84_to_gcj02(lon, lat)
    assert 1 < _metres(gcj, (lon, lat)) < 1500  # the offset is real, and bounded
    assert _metres(geo.gcj02_to_wgs84(*gcj), (lon, lat)) < 0.5


@settings(deadline=None)
@given(_lon, _lat)
def test_bd09_round_trip_within_half_a_metre(lon, lat):
    bd = geo.wgs84_to_bd09(lon, lat)
    assert _metres(geo.bd09_to_wgs84(*bd), (lon, lat)) < 0.5
    assert _metres(geo.to_wgs84(*bd, "BD-09"), (lon, lat)) < 0.5


def test_known_point_in_hefei():
    # 包河区: the GCJ-02 offset there is roughly +500 m east / -200 m south... within the published magnitude
    gcj = geo.wgs84_to_gcj02(117.2897, 31.7432)
    assert 0.004 < gcj[0] - 117.2897 < 0.007 and -0.004 < gcj[1] - 31.7432 < 0.0
    assert geo.to_wgs84(117.2897, 31.7432, "wgs84") == (117.2897, 31.7432)


@pytest.mark.parametrize("lon,lat", [(0, 0), (None, None), (117.3, None), (0, 31.7), ("x", "y"),
                                     (float("nan"), 31.7), (2.35, 48.85), (-117.3, 31.7)])
def test_unknown_points_are_none(lon, lat):
    for crs in geo.CRS_NAMES:
        assert geo.to_wgs84(lon, lat, crs) == (None, None)
    assert geo.wgs84_to_gcj02(lon, lat) == (None, None)
    assert geo.wgs84_to_bd09(lon, lat) == (None, None)


def test_unknown_crs_is_an_error():
    with pytest.raises(ValueError):
        geo.to_wgs84(117.3, 31.7, "epsg3857")


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=100), st.text(max_size=40))
def test_keyed_hash_is_rfc_2104_hmac_sha256_and_survives_pickling(key, value):
    import hashlib
    import hmac
    import pickle

    hasher = PiiHasher(key)
    expected = hmac.new(key.encode("utf-8"), f"name\x1f{value}".encode("utf-8"), hashlib.sha256).hexdigest()
    cleaned = "".join(value.split()).upper()
    if cleaned == value and value:
        assert hasher.hash_value("name", value) == expected
    assert pickle.loads(pickle.dumps(hasher)).hash_value("name", value) == hasher.hash_value("name", value)


@given(st.text(alphabet="0123456789１３８ +-", min_size=0, max_size=14))
def test_mobile_fast_path_agrees_with_the_full_rules(raw):
    from connectors import pii

    # a leading blank takes every value through the full rules (separators are removed first)
    assert pii.normalize_phone(raw) == pii.normalize_phone(" " + raw)
