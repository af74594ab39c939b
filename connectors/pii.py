"""Personal data: phone normalisation, keyed hashing (HMAC-SHA256) and masking of numbers inside free text.

Downstream needs to know that two reports came from the same person, not who that person is (domain.md,
"Personal data"): caller numbers become ``PiiHasher.caller_key`` and never appear in clear. Free text
(12345 ``sqnr``, quarantine content) is stored only after ``mask_text``: residents write their numbers
into what they report ("我的电话13805512345").

``PHONE_PATTERN`` and ``ID_CARD_PATTERN`` are the one definition of "looks like personal data", used both
for masking and by the test that scans the warehouse and exports.
"""
from __future__ import annotations

import hashlib
import re

# The district's landline area code (Hefei): an 8-digit local number with no area code belongs to it.
DEFAULT_AREA_CODE = "0551"
# Area codes whose digits after the leading 0 are two (010 Beijing, 02x the big cities); all others take three.
_TWO_DIGIT_AREA_CODES = re.compile(r"^0(?:10|2\d)")

MASK = "*"

_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９＋－（）", "0123456789+-()")
# Characters people put between the digits of a number: spaces, dashes, parentheses, dots.
_SEPARATORS = re.compile(r"[\s\-–—－.()（）·]")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_SHA256_BLOCK = 64  # bytes
_LOCAL_NUMBER = re.compile(r"^[2-9]\d{6,7}$")

# -- patterns for numbers written inside free text -------------------------------------------------------------
_D = r"[0-9０-９]"
_SEP = r"[\s\-－]?"  # may stand between any two digits
_GROUP_SEP = r"[\s\-－.·]?"  # dots only between the usual groups (138.0551.2345), else 1.7096258591 would match
_COUNTRY = rf"(?:(?:\+|＋|00)?86{_SEP})?"
_NOT_AFTER_DIGIT = r"(?<![0-9０-９])"
_NOT_BEFORE_DIGIT = r"(?![0-9０-９])"
_MOBILE_IN_TEXT = (
    rf"{_COUNTRY}(?:1[3-9３-９]{_D}{_GROUP_SEP}{_D}{{4}}{_GROUP_SEP}{_D}{{4}}|1{_SEP}[3-9３-９](?:{_SEP}{_D}){{9}})"
)
_LANDLINE_IN_TEXT = (
    rf"(?:(?:\+|＋|00)?86{_SEP}[(（]?0?{_D}{{2,3}}[)）]?|[(（]?0{_D}{{2,3}}[)）]?){_GROUP_SEP}"
    rf"[2-9２-９]{_D}{{2,3}}{_SEP}{_D}{{4}}"
)
# A bare 7-8 digit local number is only recognised right after a word that announces a number: on its own,
# an 8-digit string is as likely a date (20240305) as a phone number.
_KEYWORDS = ("电话", "手机", "号码", "联系方式", "座机", "热线", "tel", "Tel", "TEL")
_AFTER_KEYWORD = "(?:" + "|".join(f"(?<={k})" for k in _KEYWORDS) + r")[:：\s是为]*"
_LOCAL_IN_TEXT = rf"{_AFTER_KEYWORD}[2-9２-９]{_D}{{2,3}}{_SEP}{_D}{{4}}"

PHONE_PATTERN = re.compile(
    rf"{_NOT_AFTER_DIGIT}(?:{_MOBILE_IN_TEXT}|{_LANDLINE_IN_TEXT}|{_LOCAL_IN_TEXT}){_NOT_BEFORE_DIGIT}"
)
# 18-character resident ID (6-digit area, birth date 18xx-20xx, 3-digit sequence, check digit or X) and the
# old 15-digit form (2-digit year). Bounded by non-alphanumerics so that work-order numbers like
# BH12345202403050123 are not taken for one.
ID_CARD_PATTERN = re.compile(
    r"(?<![0-9A-Za-z０-９])(?:"
    r"[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]"
    r"|[1-9]\d{7}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}"
    r")(?![0-9A-Za-z０-９])"
)

# Every match of PHONE_PATTERN has at least 7 digits (a local number after a keyword), of ID_CARD_PATTERN 15:
# text with fewer digit characters needs no regex pass (most free text; the patterns are slow on long text).
MIN_DIGITS_IN_A_NUMBER = 7
_DIGIT_CHARS = "0123456789０１２３４５６７８９"
_DELETE_DIGITS = str.maketrans("", "", _DIGIT_CHARS)

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"


def id_card_checksum_ok(value: str) -> bool:
    """True when an 18-character ID number's last character is its ISO 7064 check character."""
    if len(value) != 18 or not value[:17].isdigit():
        return False
    total = sum(int(c) * w for c, w in zip(value[:17], _ID_WEIGHTS))
    return _ID_CHECK_CHARS[total % 11] == value[17].upper()


def normalize_phone(raw: str | None) -> str | None:
    """Canonical form of a Chinese phone number, or None when withheld, empty or not a phone number.

    Mobiles become 11 digits (``13805512345``); landlines ``0551-63351234`` (area code, dash, local number);
    a bare 7-8 digit local number gets ``DEFAULT_AREA_CODE``. Country codes (+86, 0086, 86) are removed.
    """
    if raw is None:
        return None
    if type(raw) is str and len(raw) == 11 and raw.isascii() and _MOBILE.match(raw):
        return raw  # the common case, as the steps below would find it (~5x cheaper)
    if not isinstance(raw, str):
        if isinstance(raw, bool) or not isinstance(raw, int):
            return None
        raw = str(raw)  # some exports deliver numbers as integers
    s = _SEPARATORS.sub("", raw.translate(_FULLWIDTH_DIGITS))
    if s.startswith("+"):
        s = s[1:]
        if not s.startswith("86"):
            return None  # a foreign number: not one we can normalise
        s = s[2:]
    elif s.startswith("0086"):
        s = s[4:]
    elif s.startswith("86") and len(s) >= 11:
        s = s[2:]
    if not s.isdigit() or not s.isascii():
        return None
    if _MOBILE.match(s):
        return s
    if s.startswith("0") and len(s) > 1 and s[1] != "0":
        landline = s
    elif s[:1] in "23456789" and len(s) >= 9:
        landline = "0" + s  # area code written after the country code without its 0: 86 551 63351234
    elif _LOCAL_NUMBER.match(s):
        return f"{DEFAULT_AREA_CODE}-{s}"
    else:
        return None
    area_len = 3 if _TWO_DIGIT_AREA_CODES.match(landline) else 4
    area, local = landline[:area_len], landline[area_len:]
    if not _LOCAL_NUMBER.match(local):
        return None
    return f"{area}-{local}"


_MISSING = object()


class PiiHasher:
    """Keyed hashes of personal data: the same value always gives the same key, nobody without the key can
    reverse it. The key comes from ``GONGZHI_PII_KEY`` (gongzhi.settings), never from the repository."""

    _CACHE_LIMIT = 1 << 17  # remembered caller keys (the same caller recurs across versions and deliveries)

    def __init__(self, key: str):
        if not key:
            raise ValueError("PII hashing key must not be empty")
        self._key = key.encode("utf-8")
        # HMAC-SHA256 (RFC 2104) with the key's inner and outer pads hashed once: each value then costs two copies
        # of a started SHA-256 (2.3 CPU us) where hmac.digest / hmac.new set the key up again (5-6 us).
        block = hashlib.sha256(self._key).digest() if len(self._key) > _SHA256_BLOCK else self._key
        block = block.ljust(_SHA256_BLOCK, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))
        self._caller_keys: dict[str | None, str | None] = {}

    def __reduce__(self):  # (hashlib objects do not pickle: a copy is built again from the key)
        return PiiHasher, (self._key.decode("utf-8"),)

    def __repr__(self) -> str:  # never show the key
        return "PiiHasher(<key hidden>)"

    def _hmac(self, message: str) -> str:
        inner = self._inner.copy()
        inner.update(message.encode("utf-8"))
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()

    def caller_key(self, raw_phone: str | None) -> str | None:
        """HMAC-SHA256 hex of the normalised number; None when the number is withheld or not a number."""
        if type(raw_phone) is str:
            cached = self._caller_keys.get(raw_phone, _MISSING)
            if cached is not _MISSING:
                return cached
        normalised = normalize_phone(raw_phone)
        key = None if normalised is None else self._hmac(normalised)
        if type(raw_phone) is str:
            if len(self._caller_keys) >= self._CACHE_LIMIT:
                self._caller_keys.clear()
            self._caller_keys[raw_phone] = key
        return key

    def hash_value(self, kind: str, value: object) -> str | None:
        """Linkable key for a name, ID-card number etc. ``kind`` separates the domains (a name never collides
        with an ID number). Whitespace is removed and letters upper-cased first; empty values give None."""
        if value is None:
            return None
        cleaned = re.sub(r"\s+", "", str(value)).upper()
        if not cleaned:
            return None
        return self._hmac(f"{kind}\x1f{cleaned}")


def _mask_match(match: re.Match[str]) -> str:
    # Keep separators and any announcing keyword text, hide every digit (and the X of an ID card).
    return re.sub(r"[0-9０-９Xx]", MASK, match.group(0))


def mask_text(text: str | None) -> str | None:
    """``text`` with every phone number and ID-card number replaced by ``*`` (one per character)."""
    if text is None:
        return None
    if len(text) - len(text.translate(_DELETE_DIGITS)) < MIN_DIGITS_IN_A_NUMBER:
        return text
    text = ID_CARD_PATTERN.sub(_mask_match, text)
    return PHONE_PATTERN.sub(_mask_match, text)
