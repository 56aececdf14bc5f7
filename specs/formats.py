"""String and number format detection for inferred schemas, usable on its own.

`detect_string_formats(value)` names every format a string value has, most specific first
(`("unix-time", "integer-string")` for Flickr's `"1399380000"`); `()` means free text.
`detect_integer_formats(value)` does the same for JSON integers (unix timestamps).
`FORMAT_ORDER` ranks formats from most to least specific, so a consumer holding counts per format
can pick the most specific one that covers every value (`best_covering_format`).

Invariants:
1. Pure and deterministic: the result depends only on the value.
2. Cheap: one dispatch on the first character and the length, then at most a few regexes; the
   string detector is memoised (bounded cache), so repeated values cost a dict lookup.
3. A format is only claimed when the whole value matches it (no partial matches).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache, lru_cache
from operator import itemgetter

# most specific first; a value's formats always come out in this order
FORMAT_ORDER: tuple[str, ...] = (
    "flickr-nsid",
    "uuid",
    "date-time",
    "sql-datetime",
    "date",
    "time",
    "unix-time-ms",
    "unix-time",
    "boolean-string",
    "integer-string",
    "decimal-string",
    "email",
    "uri",
    "ipv4",
    "ipv6",
    "hostname",
    "currency-code",
    "country-code",
    "language-code",
    "hex",
    "base64",
)
_RANK = {name: i for i, name in enumerate(FORMAT_ORDER)}

# plausible unix timestamps: 2001-09-09 .. 2286-11-20 in seconds; same range in milliseconds
UNIX_SECONDS = (1_000_000_000, 9_999_999_999)
UNIX_MILLIS = (1_000_000_000_000, 9_999_999_999_999)

_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)\Z")
_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)\.[0-9]+\Z")
_DATE_TIME = re.compile(
    r"[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])[Tt](?:[01][0-9]|2[0-3]):[0-5][0-9]:"
    r"(?:[0-5][0-9]|60)(?:\.[0-9]+)?(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])\Z"
)
_SQL_DATETIME = re.compile(
    r"[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01]) (?:[01][0-9]|2[0-3]):[0-5][0-9]:"
    r"[0-5][0-9](?:\.[0-9]+)?\Z"
)
_DATE = re.compile(r"[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])\Z")
_TIME = re.compile(
    r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]+)?(?:[Zz]|[+-][0-9]{2}:[0-9]{2})?\Z"
)
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
_NSID = re.compile(r"[0-9]{1,15}@N[0-9]{2}\Z")
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}\Z")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s]+\Z|(?:mailto|urn|tel|data):[^\s]+\Z")
_IPV4 = re.compile(r"(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}"
                   r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\Z")
_IPV6_CHARS = re.compile(r"[0-9A-Fa-f:.]+\Z")
_HOSTNAME = re.compile(r"(?=.{4,253}\Z)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\Z")
_HEX = re.compile(r"[0-9a-f]{8,}\Z|[0-9A-F]{8,}\Z")
_BASE64 = re.compile(r"(?:[A-Za-z0-9+/]{4}){4,}(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?\Z")



def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# ISO 4217 (common), ISO 3166-1 alpha-2, ISO 639-1: the lists that matter in API payloads
CURRENCIES = _words(
    "AED ARS AUD BGN BRL CAD CHF CLP CNY COP CZK DKK EGP EUR GBP HKD HUF IDR ILS INR ISK JPY "
    "KES KRW MAD MXN MYR NGN NOK NZD PEN PHP PKR PLN QAR RON RSD RUB SAR SEK SGD THB TRY TWD "
    "UAH USD VND ZAR"
)
COUNTRIES = _words(
    "AD AE AF AG AL AM AO AR AT AU AZ BA BB BD BE BF BG BH BI BJ BN BO BR BS BT BW BY BZ CA CD "
    "CF CG CH CI CL CM CN CO CR CU CV CY CZ DE DJ DK DM DO DZ EC EE EG ER ES ET FI FJ FM FR GA "
    "GB GD GE GH GM GN GQ GR GT GW GY HK HN HR HT HU ID IE IL IN IQ IR IS IT JM JO JP KE KG KH "
    "KI KM KN KP KR KW KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MG MH MK ML MM MN MR MT "
    "MU MV MW MX MY MZ NA NE NG NI NL NO NP NR NZ OM PA PE PG PH PK PL PT PW PY QA RO RS RU RW "
    "SA SB SC SD SE SG SI SK SL SM SN SO SR SS ST SV SY SZ TD TG TH TJ TL TM TN TO TR TT TV TW "
    "TZ UA UG US UY UZ VA VC VE VN VU WS YE ZA ZM ZW"
)
LANGUAGES = _words(
    "ar bg bn ca cs cy da de el en eo es et eu fa fi fr ga gl gu he hi hr hu hy id is it ja ka "
    "kk km kn ko lt lv mk ml mn mr ms mt nb ne nl nn no pa pl pt ro ru sk sl sq sr sv sw ta te "
    "th tl tr uk ur uz vi zh"
)
_LANGUAGE_TAG = re.compile(r"([a-z]{2})[-_]([A-Z]{2}|[A-Z][a-z]{3})\Z")


def _integer_formats(number: int) -> tuple[str, ...]:
    if UNIX_SECONDS[0] <= number <= UNIX_SECONDS[1]:
        return ("unix-time",)
    if UNIX_MILLIS[0] <= number <= UNIX_MILLIS[1]:
        return ("unix-time-ms",)
    return ()


def detect_integer_formats(value: int) -> tuple[str, ...]:
    """Formats of a JSON integer: `unix-time` / `unix-time-ms` when in a plausible range."""
    return _integer_formats(value)


def _digits(value: str) -> tuple[str, ...]:
    """Formats of a string starting with a digit or '-'."""
    digits = value[1:] if value[0] == "-" else value
    if digits.isascii() and digits.isdigit():  # the whole of _INTEGER, without a regex
        if digits[0] == "0" and len(digits) > 1:
            return _textual(value)  # leading zeros: not an integer ("007"), maybe hex
        found = _integer_formats(int(value))
        if value in ("0", "1"):
            found = ("boolean-string",)
        return (*found, "integer-string")
    if "." in value and _DECIMAL.match(value):
        return ("decimal-string",)
    if len(value) >= 10 and value[4:5] == "-":
        if _DATE_TIME.match(value):
            return ("date-time",)
        if _SQL_DATETIME.match(value):
            return ("sql-datetime",)
        if len(value) == 10 and _DATE.match(value):
            return ("date",)
    if value[2:3] == ":" and _TIME.match(value):
        return ("time",)
    if "@N" in value and _NSID.match(value):
        return ("flickr-nsid",)
    if len(value) == 36 and _UUID.match(value):
        return ("uuid",)
    if "." in value and _IPV4.match(value):
        return ("ipv4",)
    if ":" in value and _is_ipv6(value):
        return ("ipv6",)
    return _textual(value)


def _is_ipv6(value: str) -> bool:
    if not _IPV6_CHARS.match(value) or value.count(":") < 2:
        return False
    import ipaddress

    try:
        ipaddress.IPv6Address(value)
    except ValueError:
        return False
    return True


def _textual(value: str) -> tuple[str, ...]:
    """Formats of a string that is not a number, date or id by its first character."""
    length = len(value)
    if length <= 7:
        if length == 3 and value in CURRENCIES:
            return ("currency-code",)
        if length == 2:
            if value in COUNTRIES:
                return ("country-code",)
            if value in LANGUAGES:
                return ("language-code",)
        if length == 5 and _LANGUAGE_TAG.match(value):
            return ("language-code",)
        if ":" in value and _is_ipv6(value):
            return ("ipv6",)
        return ()
    if " " in value:
        return ()
    if ":" in value:
        if _URI.match(value):
            return ("uri",)
        if _is_ipv6(value):
            return ("ipv6",)
        return ()
    if "@" in value:
        if "@N" in value and _NSID.match(value):
            return ("flickr-nsid",)
        return ("email",) if _EMAIL.match(value) else ()
    if length == 36 and _UUID.match(value):
        return ("uuid",)
    if _HEX.match(value) and not value.isalpha():  # hex digits only: not all letters
        return ("hex",)
    if "." in value and _HOSTNAME.match(value):
        return ("hostname",)
    if length >= 16 and _BASE64.match(value) and _looks_random(value):
        return ("base64",)
    return ()


def _looks_random(value: str) -> bool:
    """Base64 of binary data mixes cases and digits; plain words do not."""
    return (any(c.isdigit() for c in value) and any(c.isupper() for c in value)
            and any(c.islower() for c in value))


@lru_cache(maxsize=1 << 16)
def detect_string_formats(value: str) -> tuple[str, ...]:
    """Every format `value` has, most specific first; `()` for free text."""
    if not value:
        return ()
    first = value[0]
    if first.isdigit() or (first == "-" and len(value) > 1 and value[1].isdigit()):
        return _digits(value)
    if first in "tf" and value in ("true", "false"):
        return ("boolean-string",)
    return _textual(value)


# Column patterns: for a formats tuple, a regex every match of which has exactly those formats
# (a sufficient condition, property-tested against detect_string_formats). A whole column of
# distinct values is checked with one C-level fullmatch over the values joined by _SEP; columns
# of digit strings and of NSIDs are checked with str methods alone (faster still).
_SEP = "\x1f"
_DATE_PART = r"[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
COLUMN_PATTERNS: dict[tuple[str, ...], str] = {
    ("integer-string",): r"-(?:0|[1-9][0-9]{0,4000}+)|[2-9]|[1-9][0-9]{1,8}+(?![0-9])"
                         r"|[1-9][0-9]{10,11}+(?![0-9])|[1-9][0-9]{13,4000}+",
    ("unix-time", "integer-string"): r"[1-9][0-9]{9}",
    ("unix-time-ms", "integer-string"): r"[1-9][0-9]{12}",
    ("flickr-nsid",): r"[0-9]{1,15}+@N[0-9]{2}",
    ("hex",): r"(?=[0-9]*+[a-f])(?=[a-f]*+[0-9])[0-9a-f]{8,}+"
              r"|(?=[0-9]*+[A-F])(?=[A-F]*+[0-9])[0-9A-F]{8,}+",
    ("uri",): r"(?=[^\x1f]{8})[A-Za-z][A-Za-z0-9+.-]*+://[^\s]++",
    ("date",): _DATE_PART,
    ("sql-datetime",): _DATE_PART + r" (?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]++)?",
    ("date-time",): _DATE_PART + r"[Tt](?:[01][0-9]|2[0-3]):[0-5][0-9]:(?:[0-5][0-9]|60)"
                    r"(?:\.[0-9]++)?(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])",
    (): r"(?=[^\x1f ]*+ )[^0-9\x1f-][^\x1f]{7,}+",  # 8+ characters with a space: free text
}


@cache
def _column_regexes(formats: tuple[str, ...]) -> tuple[re.Pattern[str], re.Pattern[str]] | None:
    """(whole-column regex, one-value regex) for a formats tuple, compiled on first use."""
    pattern = COLUMN_PATTERNS.get(formats)
    if pattern is None:
        return None
    return re.compile(f"(?:(?:{pattern}){_SEP})*+(?:{pattern})"), re.compile(pattern)


COLUMN_MIN = 4  # fewer distinct values are looked up one by one
_INTEGER_STRING = ("integer-string",)
_UNIX = ("unix-time", "integer-string")
_UNIX_MS = ("unix-time-ms", "integer-string")
_NSID_FORMATS = ("flickr-nsid",)
_NSID_MARK = itemgetter(slice(-4, -2))


def _digit_column(values: list[str], lengths: set[int]) -> tuple[str, ...] | None:
    """The shared formats of distinct ASCII digit strings, when lengths alone decide them."""
    joined = "".join(values)
    if not (joined.isdigit() and joined.isascii()):
        return None
    if 0 in lengths or min(values)[0] == "0":  # empty, "0" or leading zeros
        return None
    if lengths == {10}:
        return _UNIX
    if lengths == {13}:
        return _UNIX_MS
    if 10 in lengths or 13 in lengths or max(lengths) > 4000 or "1" in values:
        return None
    return _INTEGER_STRING


def _nsid_column(values: list[str], lengths: set[int]) -> bool:
    """Whether every value is 1-15 ASCII digits, '@N' and two ASCII digits."""
    if min(lengths) < 5 or max(lengths) > 19:
        return False
    if "".join(map(_NSID_MARK, values)) != "@N" * len(values):
        return False
    joined = _SEP.join(values)
    if joined.count("@N") != len(values):
        return False
    digits = joined.replace("@N", "").replace(_SEP, "")
    return digits.isdigit() and digits.isascii()


def detect_column_formats(
    values: list[str], lengths: set[int] | None = None,
) -> tuple[tuple[str, ...] | None, list[tuple[str, ...]]]:
    """Formats of many distinct strings: `(shared, [])` when every value has the formats
    `shared` (`()`: free text or empty), else `(None, per-value formats)`; the same answers
    as `detect_string_formats` on each value, mostly without a Python call per value.
    `lengths` is `set(map(len, values))` when the caller has it."""
    first = detect_string_formats(values[0])
    if len(values) >= COLUMN_MIN:
        if lengths is None:
            lengths = set(map(len, values))
        if first[-1:] == _INTEGER_STRING and _digit_column(values, lengths) == first:
            return first, []
        if first == _NSID_FORMATS and _nsid_column(values, lengths):
            return first, []
        regexes = _column_regexes(first)
        if regexes is not None and first != _NSID_FORMATS:
            joined = _SEP.join(values)
            if joined.count(_SEP) == len(values) - 1 and regexes[0].fullmatch(joined):
                return first, []
        if regexes is not None:  # most values still have the first one's formats
            single = regexes[1].fullmatch
            each = [first if single(value) else detect_string_formats(value)
                    for value in values]
        else:
            each = list(map(detect_string_formats, values))
    else:
        each = list(map(detect_string_formats, values))
    if each.count(first) == len(each):
        return first, []
    return None, each


def best_covering_format(counts: Mapping[str, int], total: int) -> str | None:
    """The most specific format seen on all `total` values, or None."""
    covering = [name for name, n in counts.items() if n >= total and name in _RANK]
    if not covering or total <= 0:
        return None
    return min(covering, key=_RANK.__getitem__)


def format_rank(name: str) -> int:
    """Position of a format in FORMAT_ORDER (unknown names, such as plugin hints, rank first)."""
    return _RANK.get(name, -1)
