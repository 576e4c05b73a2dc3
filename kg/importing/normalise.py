"""Named value normalisers: the small functions a mapping applies to a cell before it becomes RDF.

A mapping names a normaliser and its arguments (`normalise: date`, `order: mdy`); the engine calls
`apply(name, value, **args)` on every cell. A blank cell gives None (the caller writes nothing), a value that
cannot be normalised raises `NormaliseError(reason)`, which the caller turns into a reject naming file, sheet,
row and column. Typed results are `(lexical form, datatype IRI)` tuples; codes, slugs and text are plain str.

They run on every cell of every import (tens of thousands), so patterns are compiled once and lookups that
repeat (countries, roles, NUTS codes, dates) are cached.
"""

from __future__ import annotations

import datetime as dt
import gettext
import inspect
import re
import unicodedata
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from urllib.parse import quote, urlsplit, urlunsplit

import pycountry

XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_DATE, XSD_GYEARMONTH, XSD_GYEAR = XSD + "date", XSD + "gYearMonth", XSD + "gYear"
XSD_DECIMAL, XSD_INTEGER, XSD_BOOLEAN = XSD + "decimal", XSD + "integer", XSD + "boolean"


class NormaliseError(ValueError):
    """A value a normaliser cannot turn into what the mapping asked for; `reason` says why, naming the value."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


NORMALISERS: dict[str, Callable] = {}


def normaliser(func: Callable) -> Callable:
    """Register `func` under its own name; its docstring and keyword arguments are what `describe` shows."""
    NORMALISERS[func.__name__] = func
    return func


def apply(name: str, value, *, nulls=(), **args):
    """Normalise `value` with the normaliser `name`: None for a blank cell (or one of `nulls`, such as "NA"),
    else the normaliser's result. Raises NormaliseError for a value it cannot normalise, an unknown normaliser
    or arguments it does not take.

    >>> apply("date", "2015/09/15")
    ('2015-09-15', 'http://www.w3.org/2001/XMLSchema#date')
    >>> apply("decimal", "NA", nulls=("NA",)) is None
    True
    """
    func = NORMALISERS.get(name)
    if func is None:
        raise NormaliseError(f"unknown normaliser {name!r} (known: {', '.join(sorted(NORMALISERS))})")
    if is_blank(value) or (nulls and isinstance(value, str) and value.strip() in nulls):
        return None
    try:
        return func(value, **args)
    except TypeError:
        # Only a mistake in the mapping's arguments becomes a NormaliseError; any other TypeError is a bug here.
        check(name, args)
        raise


def is_blank(value) -> bool:
    """True for what a cell holds when the source says nothing: None, "", spaces, NaN."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, float) and value != value


def check(name: str, args: dict) -> None:
    """Raise NormaliseError unless `name` is a normaliser that takes `args`: for a mapping loader, so that a
    misspelt argument is reported once, at load time, and not as a reject on every row."""
    func = NORMALISERS.get(name)
    if func is None:
        raise NormaliseError(f"unknown normaliser {name!r} (known: {', '.join(sorted(NORMALISERS))})")
    try:
        inspect.signature(func).bind(None, **args)
    except TypeError as e:
        accepted = list(inspect.signature(func).parameters)[1:]
        raise NormaliseError(f"normaliser {name!r}: {e} (it takes: {', '.join(accepted) or 'no arguments'})") from None


def describe() -> list[dict]:
    """Every normaliser with its summary (the docstring's first paragraph), full docstring and arguments with their
    defaults: what docs/importing.md and `kg import --help` list."""
    out = []
    for name, func in sorted(NORMALISERS.items()):
        doc = inspect.getdoc(func) or ""
        params = list(inspect.signature(func).parameters.values())[1:]
        out.append({"name": name, "summary": doc.split("\n\n", 1)[0].replace("\n", " "), "doc": doc,
                    "arguments": {p.name: p.default for p in params}})
    return out


# --- text ---------------------------------------------------------------------------------------------------

# A whole number as a sheet's float reads back, and as readers pass it on as text: "103.0".
_WHOLE_FLOAT = re.compile(r"(\d+)\.0+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"\s+")
_LINE_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def _plain(value) -> str:
    """A cell as the text the source meant: a whole number read back from a sheet as 103.0 is "103"."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise NormaliseError(f"not a value: {value!r}")
        if value.is_integer():
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    if isinstance(value, (dt.date, dt.time, dt.timedelta)):
        return value.isoformat() if not isinstance(value, dt.timedelta) else str(value)
    raise NormaliseError(f"not a text value: {value!r}")


@normaliser
def text(value, multiline=False) -> str:
    """Text trimmed, with runs of spaces collapsed and control characters dropped (Unicode NFC).

    With `multiline`, line breaks stay (runs of blank lines become one) and spaces collapse within each line.

    >>> text("  Municipality   of\\u00a0Maribor ")
    'Municipality of Maribor'
    >>> text(2020.0), text("2020.0")
    ('2020', '2020')
    >>> text("First.\\r\\n\\n\\n\\nSecond  line", multiline=True)
    'First.\\n\\nSecond line'
    """
    s = _CONTROL.sub("", unicodedata.normalize("NFC", _plain(value)))
    if m := _WHOLE_FLOAT.fullmatch(s.strip()):  # a number cell, passed on as text
        s = m[1]
    if multiline:
        s = s.replace("\r\n", "\n").replace("\r", "\n")
        s = "\n".join(line.strip() for line in _LINE_SPACES.sub(" ", s).split("\n"))
        s = _BLANK_LINES.sub("\n\n", s).strip()
    else:
        s = _SPACES.sub(" ", s).strip()
    if not s:
        raise NormaliseError(f"no text in {value!r}")
    return s


@normaliser
def text_id(value) -> str:
    """An identifier or code as text: a number a sheet read back as 103.0 (or "103.0") is "103"; an id on
    several lines is refused. Use it, not `text`, for acronyms and codes read from a workbook.

    >>> text_id(103.0), text_id("103.0")
    ('103', '103')
    >>> text_id(" CB005.1 ")
    'CB005.1'
    """
    s = _plain(value).strip()
    if m := _WHOLE_FLOAT.fullmatch(s):
        s = m[1]
    if any(c in s for c in "\n\r\t"):
        raise NormaliseError(f"an identifier cannot span lines or hold tabs: {value!r}")
    s = _SPACES.sub(" ", s)
    if not s:
        raise NormaliseError(f"no identifier in {value!r}")
    return s


@normaliser
def lower(value) -> str:
    """Text (see `text`) in lower case.

    >>> lower(" Lead  PARTNER ")
    'lead partner'
    """
    return text(value).lower()


# Letters NFKD does not decompose into an ASCII letter and a mark.
_ASCII_EXTRA = str.maketrans({"ß": "ss", "ẞ": "SS", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "œ": "oe",
                              "Œ": "OE", "đ": "d", "Đ": "D", "ł": "l", "Ł": "L", "þ": "th", "Þ": "Th",
                              "ð": "d", "Ð": "D", "ı": "i", "ħ": "h", "Ħ": "H", "ŀ": "l", "Ŀ": "L"})
_NON_SLUG = re.compile(r"[^a-z0-9]+")
_NON_WORD = re.compile(r"[\W_]+")


def ascii_fold(s: str) -> str:
    """`s` without accents, in ASCII letters where there is one (København -> Kobenhavn, Łódź -> Lodz);
    letters with no ASCII form (Greek, Cyrillic) are dropped."""
    s = unicodedata.normalize("NFKD", s.translate(_ASCII_EXTRA))
    return s.encode("ascii", "ignore").decode("ascii")


@normaliser
def slug(value, max_length=None, script="latin") -> str:
    """A slug for an IRI: ASCII, lower case, words joined by "-"; cut at a word boundary to `max_length`.
    Letters with no ASCII form are dropped; a value with no Latin letter or digit at all is refused, unless
    `script="any"`: then it keeps its own letters without their accents (an IRI can hold them, RFC 3987), so a
    project whose only id is a Greek acronym still gets a stable, readable IRI. Values with a Latin letter or
    digit give the same slug with either `script`, so switching a mapping to "any" moves no existing IRI.

    >>> slug("Łódź – Città di Torino")
    'lodz-citta-di-torino'
    >>> slug("2014 - 2020 INTERREG VB Central Europe", max_length=20)
    '2014-2020-interreg'
    >>> slug("ΑΓΡΟ-ΤΑΥΤΌΤΗΤΑ", script="any"), slug("Città di Torino", script="any")
    ('αγρο-ταυτοτητα', 'citta-di-torino')
    """
    if script not in ("latin", "any"):
        raise NormaliseError(f"script is 'latin' or 'any', not {script!r}")
    s = _NON_SLUG.sub("-", ascii_fold(_plain(value)).lower()).strip("-")
    if not s and script == "any":
        decomposed = unicodedata.normalize("NFKD", _plain(value))
        s = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
        s = unicodedata.normalize("NFC", _NON_WORD.sub("-", s)).strip("-")
    if max_length is not None and len(s) > int(max_length):
        cut = s[: int(max_length) + 1]
        s = cut[: cut.rfind("-")] if "-" in cut else cut[: int(max_length)]
    if not s:
        letters = "letters or digits" if script == "any" else "Latin letters or digits"
        raise NormaliseError(f"no {letters} to make a slug from {value!r}")
    return s


def date_span(lexical: str, datatype: str) -> tuple[dt.date, dt.date] | None:
    """The first and last day an xsd:date, xsd:gYearMonth or xsd:gYear names (None for other values), so that
    "2019" and "2018-10-04" can be put in order: a year ends on 31 December.

    >>> date_span("2019", XSD_GYEAR)
    (datetime.date(2019, 1, 1), datetime.date(2019, 12, 31))
    >>> date_span("2018-02", XSD_GYEARMONTH)[1]
    datetime.date(2018, 2, 28)
    """
    try:
        if datatype == XSD_DATE:
            day = dt.date.fromisoformat(lexical[:10])
            return day, day
        if datatype == XSD_GYEARMONTH:
            first = dt.date(int(lexical[:4]), int(lexical[5:7]), 1)
            following = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
            return first, following - dt.timedelta(days=1)
        if datatype == XSD_GYEAR:
            return dt.date(int(lexical[:4]), 1, 1), dt.date(int(lexical[:4]), 12, 31)
    except ValueError:
        return None
    return None


def ends_before(end, start) -> bool:
    """Whether the date literal `end` (anything with .value and .datatype, as pyoxigraph's) names a period that
    is over before the one `start` names begins: "2018-10-04" ends before "2019" starts; "2019-06" does not."""
    end_span = date_span(end.value, getattr(end.datatype, "value", ""))
    start_span = date_span(start.value, getattr(start.datatype, "value", ""))
    return end_span is not None and start_span is not None and end_span[1] < start_span[0]


# --- numbers ------------------------------------------------------------------------------------------------

_CURRENCY = re.compile(r"(?i)€|\beur(?:os?)?\b")
_GROUPING = re.compile(r"[\s'’]")  # spaces (any width) and apostrophes group thousands: 1 032,00, 1'234.50
_NUMBER = re.compile(r"([+-]?)(\d[\d.,]*|[.,]\d+)")
_FLOAT_TEXT = re.compile(r"[+-]?\d+(?:\.\d+)?[eE][+-]?\d+")  # str(1e16) and str(1.5e-07), as readers pass floats
_DIGITS = re.compile(r"\d+")
_GROUPED = {",": re.compile(r"\d{1,3}(?:,\d{3})+"), ".": re.compile(r"\d{1,3}(?:\.\d{3})+")}
_MARKS = {".", ","}


def _decimal(value, decimal_mark, three_digits_group: bool) -> Decimal:
    """Parse a number written with either decimal mark and any thousands grouping.

    With no `decimal_mark`, the last of "," and "." is the mark when both occur; a separator that occurs twice
    groups thousands; a single one is the mark, unless `three_digits_group` and exactly three digits follow it
    (750,000 is an amount of three quarters of a million, not of 750)."""
    if isinstance(value, bool):
        raise NormaliseError(f"not a number: {value!r}")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise NormaliseError(f"not a number: {value!r}")
        return Decimal(repr(value))
    if not isinstance(value, str):
        raise NormaliseError(f"not a number: {value!r}")
    if decimal_mark not in (None, ".", ","):
        raise NormaliseError(f"decimal_mark must be '.' or ',', not {decimal_mark!r}")
    s = _GROUPING.sub("", _CURRENCY.sub("", value))
    if _FLOAT_TEXT.fullmatch(s):
        return Decimal(s)
    m = _NUMBER.fullmatch(s)
    if not m:
        raise NormaliseError(f"not a number: {value!r}")
    sign, body = m.groups()
    mark = decimal_mark
    if mark is None:
        commas, dots = body.count(","), body.count(".")
        if commas and dots:
            mark = "," if body.rfind(",") > body.rfind(".") else "."
        elif commas + dots == 1:
            sep = "," if commas else "."
            mark = ({",", "."} - {sep}).pop() if three_digits_group and len(body) - body.index(sep) == 4 else sep
        elif commas + dots > 1:
            mark = "." if commas else ","
    whole, _, fraction = body.partition(mark) if mark else (body, "", "")
    if fraction and not _DIGITS.fullmatch(fraction):
        raise NormaliseError(f"not a number: {value!r} (digits after the decimal mark {mark!r} are not digits)")
    group = ({",", "."} - {mark}).pop() if mark else None
    if group and group in whole:
        if not _GROUPED[group].fullmatch(whole):
            raise NormaliseError(f"not a number: {value!r} (thousands grouped wrongly)")
        whole = whole.replace(group, "")
    if whole and not _DIGITS.fullmatch(whole):
        raise NormaliseError(f"not a number: {value!r}")
    return Decimal(f"{sign}{whole or '0'}.{fraction}" if fraction else f"{sign}{whole or '0'}")


def _bounded(d: Decimal, value, min, max) -> Decimal:
    try:
        if min is not None and d < Decimal(str(min)):
            raise NormaliseError(f"{value!r} is below the least allowed value {min}")
        if max is not None and d > Decimal(str(max)):
            raise NormaliseError(f"{value!r} is above the greatest allowed value {max}")
    except InvalidOperation:
        raise NormaliseError(f"min and max must be numbers, not {min!r} and {max!r}") from None
    return d


@normaliser
def decimal(value, decimal_mark=None, min=None, max=None) -> tuple[str, str]:
    """An xsd:decimal from a number written with a decimal point or a decimal comma, thousands grouped or not.

    A single "," or "." is the decimal mark; where both occur, the last is. `decimal_mark` fixes it instead.

    >>> decimal("-8,61099")
    ('-8.61099', 'http://www.w3.org/2001/XMLSchema#decimal')
    >>> decimal("1.234.567,5")[0]
    '1234567.5'
    >>> decimal(41.14961, min=-90, max=90)[0]
    '41.14961'
    """
    return format(_bounded(_decimal(value, decimal_mark, False), value, min, max), "f"), XSD_DECIMAL


@normaliser
def amount(value, decimal_mark=None, min=0, max=None) -> tuple[str, str]:
    """An amount of money as xsd:decimal: "750,000.00", "1.234,56 €", 758394.29; negative amounts are refused
    unless `min` allows them.

    A single separator followed by exactly three digits groups thousands ("750,000" is 750000); pass
    `decimal_mark` when a source writes three decimals.

    >>> amount("750,000.00")
    ('750000.00', 'http://www.w3.org/2001/XMLSchema#decimal')
    >>> amount("€ 1.234,56")[0]
    '1234.56'
    >>> amount(1.732084396E7)[0], amount("1e+16")[0]
    ('17320843.96', '10000000000000000')
    """
    return format(_bounded(_decimal(value, decimal_mark, True), value, min, max), "f"), XSD_DECIMAL


@normaliser
def integer(value, min=None, max=None) -> tuple[str, str]:
    """A whole number as xsd:integer: 103, 103.0, "1,032", "1 032"; 103.5 is refused.

    >>> integer("1 032")
    ('1032', 'http://www.w3.org/2001/XMLSchema#integer')
    >>> integer(11.0)[0]
    '11'
    """
    d = _bounded(_decimal(value, None, True), value, min, max)
    if d != d.to_integral_value():
        raise NormaliseError(f"not a whole number: {value!r}")
    return str(int(d)), XSD_INTEGER


_TRUE = frozenset({"true", "t", "yes", "y", "1", "1.0", "ja", "oui", "si", "sì", "sí", "vero", "x"})
_FALSE = frozenset({"false", "f", "no", "n", "0", "0.0", "nein", "non", "falso"})


@normaliser
def boolean(value) -> tuple[str, str]:
    """An xsd:boolean from yes/no, true/false, 1/0 (and ja/nein, oui/non, sì/no), in any case.

    >>> boolean("Yes")
    ('true', 'http://www.w3.org/2001/XMLSchema#boolean')
    >>> boolean(0.0)[0]
    'false'
    """
    if isinstance(value, bool):
        return ("true" if value else "false"), XSD_BOOLEAN
    key = _plain(value).strip().lower()
    if key in _TRUE:
        return "true", XSD_BOOLEAN
    if key in _FALSE:
        return "false", XSD_BOOLEAN
    raise NormaliseError(f"not a yes/no value: {value!r}")


@normaliser
def geolocation(value, part=None, refuse=None) -> tuple:
    """A "lat,lon" text (CORDIS) as two xsd:decimal: (latitude, longitude), or one of them with `part`
    "lat" or "long". Decimal commas are read when the two are separated by ";" or spaces. `refuse` lists points
    ("lat,lon") that are not where the thing is: the centre of a country or region that a geocoder gives for an
    address it could not find (CORDIS places organisations of seven Italian towns at 42.6384261,12.674297).

    >>> geolocation("44.4816891,26.1217839", part="long")
    ('26.1217839', 'http://www.w3.org/2001/XMLSchema#decimal')
    >>> [lex for lex, _ in geolocation("41,14961; -8,61099")]
    ['41.14961', '-8.61099']
    >>> try:
    ...     geolocation("42.6384261, 12.674297", refuse=["42.6384261,12.674297"])
    ... except NormaliseError as error:
    ...     print(error.reason)
    '42.6384261, 12.674297' is a point the mapping refuses: a geocoder's fallback, not an address
    """
    if part not in (None, "lat", "long"):
        raise NormaliseError(f"part must be 'lat' or 'long', not {part!r}")
    point = _point(value)
    if refuse:
        if isinstance(refuse, str) or not isinstance(refuse, (list, tuple)):
            raise NormaliseError(f"refuse is a list of 'lat,lon' points, not {refuse!r}")
        numbers = tuple(Decimal(lex) for lex, _ in point)
        for other in refuse:
            if tuple(Decimal(lex) for lex, _ in _point(other)) == numbers:
                raise NormaliseError(f"{value!r} is a point the mapping refuses: a geocoder's fallback, not an address")
    return {"lat": point[0], "long": point[1]}[part] if part else point


def _point(value) -> tuple:
    s = _plain(value).strip()
    if ";" in s:
        pieces, mark = s.split(";"), None
    elif s.count(",") == 1:
        pieces, mark = s.split(","), "."
    else:
        pieces, mark = s.split(), None
    if len(pieces) != 2:
        raise NormaliseError(f"not a 'latitude,longitude' pair: {value!r}")
    try:
        lat = decimal(pieces[0].strip(), decimal_mark=mark, min=-90, max=90)
        long = decimal(pieces[1].strip(), decimal_mark=mark, min=-180, max=180)
    except NormaliseError as e:
        raise NormaliseError(f"not a 'latitude,longitude' pair: {value!r} ({e.reason})") from None
    return lat, long


# --- dates --------------------------------------------------------------------------------------------------

_TIME = re.compile(r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)$")
_DMY = re.compile(r"(\d{1,4})\s*([-/.])\s*(\d{1,2})\s*\2\s*(\d{1,4})\.?")
_YM = re.compile(r"(\d{4})\s*[-/.]\s*(\d{1,2})")
_MY = re.compile(r"(\d{1,2})\s*[-/.]\s*(\d{4})")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_YEAR = re.compile(r"\d{4}")
_YEAR_FLOAT = re.compile(r"(\d{4})\.0+")
_SERIAL_FLOAT = re.compile(r"\d{1,7}\.\d+")  # a sheet's date cell without a date format, as text: "42262.0"
_D_MONTH_Y = re.compile(r"(\d{1,2})\.?\s*([A-Za-z]+)\.?,?\s*(\d{4})")
_MONTH_D_Y = re.compile(r"([A-Za-z]+)\.?\s*(\d{1,2}),?\s*(\d{4})")
_MONTH_Y = re.compile(r"([A-Za-z]+)\.?,?\s*(\d{4})")
_MONTHS = {name: i for i, names in enumerate(
    [("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",), ("june", "jun"),
     ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"), ("october", "oct"),
     ("november", "nov"), ("december", "dec")], start=1) for name in names}
_EXCEL_EPOCH = dt.date(1899, 12, 30)


def _day(y: int, m: int, d: int, value, min_year, max_year) -> tuple[str, str]:
    _year_in_range(y, value, min_year, max_year)
    try:
        return dt.date(y, m, d).isoformat(), XSD_DATE
    except ValueError:
        raise NormaliseError(f"no such day: {value!r} (year {y}, month {m}, day {d})") from None


def _year_in_range(y: int, value, min_year, max_year) -> None:
    if not int(min_year) <= y <= int(max_year):
        raise NormaliseError(f"year {y} of {value!r} is outside {min_year}-{max_year}")


def _month(name: str, value) -> int:
    m = _MONTHS.get(name.lower())
    if m is None:
        raise NormaliseError(f"not a date: {value!r} (unknown month {name!r})")
    return m


@lru_cache(maxsize=8192)
def _date_text(s: str, order: str, min_year: int, max_year: int) -> tuple[str, str]:
    value = s
    s = _TIME.sub("", s.strip()).strip()
    if m := _DMY.fullmatch(s):
        a, _, b, c = m.groups()
        if len(a) == 4:
            return _day(int(a), int(b), int(c), value, min_year, max_year)
        if len(c) != 4:
            raise NormaliseError(f"not a date: {value!r} (write the year with four digits)")
        if len(a) > 2:
            raise NormaliseError(f"not a date: {value!r}")
        day, month = (a, b) if order == "dmy" else (b, a)
        if int(month) > 12:
            raise NormaliseError(f"no month {int(month)} in {value!r} (read as {order}; is it another order?)")
        return _day(int(c), int(month), int(day), value, min_year, max_year)
    if m := _COMPACT.fullmatch(s):
        return _day(int(m[1]), int(m[2]), int(m[3]), value, min_year, max_year)
    if _YEAR.fullmatch(s):
        _year_in_range(int(s), value, min_year, max_year)
        return s, XSD_GYEAR
    if (m := _YEAR_FLOAT.fullmatch(s)) and min_year <= int(m[1]) <= max_year:  # else an Excel serial, below
        return m[1], XSD_GYEAR
    if (m := _YM.fullmatch(s)) or (m := _MY.fullmatch(s)):
        y, mo = (m[1], m[2]) if len(m[1]) == 4 else (m[2], m[1])
        if not (_SERIAL_FLOAT.fullmatch(s) and not min_year <= int(y) <= max_year):  # 9863.0: a serial
            return _year_month(int(y), int(mo), value, min_year, max_year)
    if _SERIAL_FLOAT.fullmatch(s):
        return _serial(float(s), value, min_year, max_year)
    if m := _D_MONTH_Y.fullmatch(s):
        return _day(int(m[3]), _month(m[2], value), int(m[1]), value, min_year, max_year)
    if m := _MONTH_D_Y.fullmatch(s):
        return _day(int(m[3]), _month(m[1], value), int(m[2]), value, min_year, max_year)
    if m := _MONTH_Y.fullmatch(s):
        return _year_month(int(m[2]), _month(m[1], value), value, min_year, max_year)
    raise NormaliseError(f"not a date: {value!r}")


def _serial(n: float, value, min_year, max_year) -> tuple[str, str]:
    """The day of an Excel serial number (1900 date system; a fraction is the time of day, dropped)."""
    if not 1 <= n < 2_958_466:  # Excel's last day is 9999-12-31
        raise NormaliseError(f"not a date: {value!r}")
    # Excel's 1900 system counts a 29 February 1900 that never was: serials after it are one day ahead.
    d = _EXCEL_EPOCH + dt.timedelta(days=int(n) if n >= 61 else int(n) + 1)
    return _day(d.year, d.month, d.day, value, min_year, max_year)


def _year_month(y: int, mo: int, value, min_year, max_year) -> tuple[str, str]:
    _year_in_range(y, value, min_year, max_year)
    if not 1 <= mo <= 12:
        raise NormaliseError(f"no month {mo} in {value!r}")
    return f"{y:04d}-{mo:02d}", XSD_GYEARMONTH


@normaliser
def date(value, order="dmy", min_year=1900, max_year=2100) -> tuple[str, str]:
    """An xsd:date, or xsd:gYearMonth / xsd:gYear when the source gives no day (a day is never invented).

    Reads ISO dates, Y/m/d, d/m/Y (or m/d/Y with `order` "mdy") with "-", "/" or "." as separator, 20150915,
    "15 September 2015", "Sep 2015", a time after the date (dropped), the dates and Excel serial numbers
    python-calamine reads from a sheet; a whole number from `min_year` to `max_year` is a year. Days that do
    not exist (2019-02-31), two-digit years and years outside `min_year`-`max_year` are refused.

    >>> date("2015/09/15")
    ('2015-09-15', 'http://www.w3.org/2001/XMLSchema#date')
    >>> date("09/15/2015", order="mdy")[0]
    '2015-09-15'
    >>> date("15.09.2015")[0], date("2015-09")[0], date(42262)[0], date("42262.0")[0], date("2015-09-15T00:00:00")[0]
    ('2015-09-15', '2015-09', '2015-09-15', '2015-09-15', '2015-09-15')
    >>> date(2015.0), date("2015.0")[0]
    (('2015', 'http://www.w3.org/2001/XMLSchema#gYear'), '2015')
    """
    if order not in ("dmy", "mdy"):
        raise NormaliseError(f"order must be 'dmy' or 'mdy', not {order!r}")
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return _day(value.year, value.month, value.day, value, min_year, max_year)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value != value or value in (float("inf"), float("-inf")):
            raise NormaliseError(f"not a date: {value!r}")
        if float(value).is_integer() and int(min_year) <= value <= int(max_year):
            return f"{int(value):04d}", XSD_GYEAR
        if float(value).is_integer() and 10_000_000 <= value <= 99_999_999:
            return _date_text(str(int(value)), order, int(min_year), int(max_year))
        return _serial(value, value, min_year, max_year)
    if not isinstance(value, str):
        raise NormaliseError(f"not a date: {value!r}")
    return _date_text(value, order, int(min_year), int(max_year))


# --- countries ----------------------------------------------------------------------------------------------

# The EU writes Greece and the United Kingdom as EL and UK; ISO 3166-1 as GR and GB.
_EU_CODES = {"GR": "EL", "GB": "UK"}
_ISO_CODES = {v: k for k, v in _EU_CODES.items()}
# Kosovo has no ISO 3166-1 code (so no pycountry record); the EU and CORDIS use XK.
_EXTRA = {"XK": ("XKX", "Kosovo")}
# Names in common use that are neither pycountry's names nor one of their translations.
_ALIASES = {"russia": "RU", "turkey": "TR", "kosovo": "XK", "great britain": "GB", "england": "GB",
            "scotland": "GB", "wales": "GB", "northern ireland": "GB", "vatican": "VA", "vatican city": "VA",
            "macedonia": "MK", "fyrom": "MK", "former yugoslav republic of macedonia": "MK", "holland": "NL",
            "the netherlands": "NL", "czech republic": "CZ", "slovak republic": "SK", "bosnia": "BA",
            "moldavia": "MD", "south korea": "KR", "korea": "KR", "united states of america": "US", "usa": "US"}
_LEADING_CODE = re.compile(r"([A-Z]{2})\s+.*")
_FOLD = re.compile(r"[\W_]+")


def _fold(s: str) -> str:
    """A key for a name: case, accents and punctuation do not count (ΕΛΛΆΔΑ and Ελλάδα are one key)."""
    s = unicodedata.normalize("NFKD", s.translate(_ASCII_EXTRA))
    s = "".join(c for c in s if not unicodedata.combining(c))
    return _FOLD.sub(" ", s.casefold()).strip()


@lru_cache(maxsize=1)
def _english_names() -> dict[str, str]:
    index = {}
    for c in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            if name := getattr(c, attr, None):
                index[_fold(name)] = c.alpha_2
    index.update({_fold(k): v for k, v in _ALIASES.items()})
    return index


@lru_cache(maxsize=1)
def _translated_names() -> dict[str, str]:
    """Every country name in every language pycountry ships (Deutschland, ΕΛΛΑΔΑ, Suomi); names that mean
    two countries in two languages are left out rather than guessed."""
    import os

    index: dict[str, set[str]] = {}
    for lang in sorted(os.listdir(pycountry.LOCALES_DIR)):
        t = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang], fallback=True)
        for c in pycountry.countries:
            for attr in ("name", "official_name", "common_name"):
                if name := getattr(c, attr, None):
                    index.setdefault(_fold(t.gettext(name)), set()).add(c.alpha_2)
    return {k: next(iter(v)) for k, v in index.items() if len(v) == 1 and k}


def _iso_alpha2(s: str) -> str | None:
    """The ISO 3166-1 alpha-2 code (XK for Kosovo) of a code or name, None when unknown."""
    if len(s) == 2 and s.isalpha():
        code = _ISO_CODES.get(s.upper(), s.upper())
        return code if code in _EXTRA or pycountry.countries.get(alpha_2=code) else None
    if len(s) == 3 and s.isalpha():
        if s.upper() == _EXTRA["XK"][0]:
            return "XK"
        c = pycountry.countries.get(alpha_3=s.upper())
        return c.alpha_2 if c else None
    if m := _LEADING_CODE.fullmatch(s):  # keep.eu: "DE Germany / DEUTSCHLAND", "AD  / Andorra"
        if code := _iso_alpha2(m[1]):
            return code
    key = _fold(s)
    return _english_names().get(key) or _translated_names().get(key)


@lru_cache(maxsize=4096)
def _country(s: str, scheme: str) -> str:
    s = s.strip()
    # CORDIS repeats a code per activity: "FI;FI". Split first: no country's name holds a ";", and looking the
    # whole text up among every language's names first loaded them all for nothing (a second per import).
    if ";" in s:
        codes = {_country(part, "iso") for part in s.split(";") if part.strip()}
        if len(codes) > 1:
            raise NormaliseError(f"several countries in {s!r}")
        code = codes.pop() if codes else None
    else:
        code = _iso_alpha2(s)
    if code is None and "/" in s:  # "Switzerland / SCHWEIZ/SUISSE/SVIZZERA": any part that names a country
        codes = {c for part in s.split("/") if (c := _iso_alpha2(part.strip()))}
        code = codes.pop() if len(codes) == 1 else None
    if code is None:
        raise NormaliseError(f"unknown country {s!r}")
    return _EU_CODES.get(code, code) if scheme == "eu" else code


@normaliser
def country(value, scheme="eu") -> str:
    """An ISO 3166-1 alpha-2 code, upper case, from a code (DE, DEU, de), a name in English or another language
    (Germany, GERMANY, Deutschland, Ελλάδα) or keep.eu's "DE Germany / DEUTSCHLAND".

    `scheme` "eu" (the default) writes Greece and the United Kingdom as the EU does, EL and UK; "iso" writes
    GR and GB. Either accepts both. Kosovo is XK.

    >>> country("DE Germany / DEUTSCHLAND"), country("GREECE"), country("GB"), country("Deutschland")
    ('DE', 'EL', 'UK', 'DE')
    >>> country("EL", scheme="iso")
    'GR'
    """
    if scheme not in ("eu", "iso"):
        raise NormaliseError(f"scheme must be 'eu' or 'iso', not {scheme!r}")
    return _country(_plain(value), scheme)


@lru_cache(maxsize=1024)
def country_name(code: str, lang: str = "en") -> str:
    """The name of a country (any code or name `country` reads) in language `lang`, from pycountry's
    translations: for reference data's labels. Falls back to English where a language lacks a name.

    >>> country_name("EL"), country_name("UK", "it"), country_name("DE", "it"), country_name("XK", "it")
    ('Greece', 'Regno Unito', 'Germania', 'Kosovo')
    """
    iso = _country(code, "iso")
    if iso in _EXTRA:
        return _EXTRA[iso][1]
    c = pycountry.countries.get(alpha_2=iso)
    name = getattr(c, "common_name", None) or c.name
    if lang == "en":
        return name
    return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang], fallback=True).gettext(name)


# --- NUTS, postcodes, roles, addresses ----------------------------------------------------------------------

_NUTS = re.compile(r"[A-Z]{2}[A-Z0-9]{0,3}")


@lru_cache(maxsize=4096)
def _nuts(s: str, level) -> str:
    code = s.split("/", 1)[0].strip().upper()  # keep.eu: "DEG01  / Erfurt, Kreisfreie Stadt"
    if not _NUTS.fullmatch(code):
        raise NormaliseError(f"not a NUTS code: {s!r}")
    try:
        _country(code[:2], "eu")
    except NormaliseError:
        raise NormaliseError(f"not a NUTS code: {s!r} ({code[:2]!r} is not a country)") from None
    if level is not None and len(code) - 2 != int(level):
        raise NormaliseError(f"{code} is a NUTS level {len(code) - 2} code, not level {level}")
    return code


@normaliser
def nuts(value, level=None) -> str:
    """A NUTS code (or a non-EU country's equivalent), upper case, from "DEG01" or keep.eu's
    "DEG01  / Erfurt, Kreisfreie Stadt"; with `level` (0-3) a code of another level is refused.

    >>> nuts("DEG01  / Erfurt, Kreisfreie Stadt"), nuts("ith57", level=3)
    ('DEG01', 'ITH57')
    """
    return _nuts(_plain(value), level)


# Digits of postcodes that are numbers only, so that a leading zero a sheet dropped can be put back.
_POSTCODE_DIGITS = {"AT": 4, "BE": 4, "BG": 4, "CH": 4, "CY": 4, "CZ": 5, "DE": 5, "DK": 4, "EE": 5, "EL": 5,
                    "ES": 5, "FI": 5, "FR": 5, "HR": 5, "HU": 4, "IT": 5, "LI": 4, "LU": 4, "NO": 4, "PL": 5,
                    "RO": 6, "SE": 5, "SI": 4, "SK": 5, "TR": 5, "US": 5}


@normaliser
def postcode(value, country=None) -> str:
    """A postcode as text: 8010.0 and 8010 (a number in a sheet or in JSON) are "8010"; spaces collapse and a
    trailing comma goes. With `country` (a code or name), the leading zeros a number lost come back
    (Finland's 912 is "00912").

    >>> postcode(8010.0), postcode("8010.0"), postcode("  GU14 0LX, "), postcode(912, country="FI")
    ('8010', '8010', 'GU14 0LX', '00912')
    """
    s = _SPACES.sub(" ", _plain(value)).strip().rstrip(",;").strip()
    if m := _WHOLE_FLOAT.fullmatch(s):
        s = m[1]
    if not s:
        raise NormaliseError(f"no postcode in {value!r}")
    if country is not None and s.isdigit():
        width = _POSTCODE_DIGITS.get(_country(_plain(country), "eu"))
        if width and len(s) < width:
            s = s.zfill(width)
    return s


# Role names and codes the sources use, folded (see _role_key), to our role concepts in
# data/vocabularies/roles.ttl. CORDIS "participant" is a beneficiary, a formal partner, and so is its "partner"
# (the word cannot be told from URBACT's Partner). Associated partners (Interreg) and CORDIS third parties take
# part without signing the grant: technical-support is the concept that says so. A new concept for either means
# a new entry here and in roles.ttl; tests check that every target exists there.
ROLES = {
    "coordinator": "coordinator", "coordinatore": "coordinator", "leadpartner": "coordinator",
    "lp": "coordinator", "lead": "coordinator", "leadbeneficiary": "coordinator", "capofila": "coordinator",
    "mainurbanauthority": "coordinator", "projectcoordinator": "coordinator", "leadapplicant": "coordinator",
    "partner": "partner", "participant": "partner", "projectpartner": "partner", "pp": "partner",
    "beneficiary": "partner", "citypartner": "partner", "partnercity": "partner",
    "regionalpartner": "regional-partner", "partnerregionale": "regional-partner",
    "expertorganisation": "expert-organisation", "expertorganization": "expert-organisation",
    "expertpartner": "expert-organisation", "organizzazioneesperta": "expert-organisation",
    "leadexpert": "lead-expert", "urbactleadexpert": "lead-expert", "espertoprincipale": "lead-expert",
    "localsupportgroup": "local-support-group", "localsupportgroupmanager": "local-support-group",
    "lsg": "local-support-group",
    "technicalsupport": "technical-support", "thirdparty": "technical-support",
    "linkedthirdparty": "technical-support", "associatedpartner": "technical-support",
    "associatedorganisation": "technical-support", "associatedorganization": "technical-support",
    "mentorcity": "mentor-city", "mentor": "mentor-city", "cittamentore": "mentor-city",
    "associatedcity": "associated-city", "cittaassociata": "associated-city",
    "fellowcity": "fellow-city", "cittaaffiliata": "fellow-city",
}
_ROLE_SLUGS = frozenset(ROLES.values())
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def _role_key(s: str) -> str:
    return _NON_ALNUM.sub("", ascii_fold(s).lower())


@lru_cache(maxsize=1024)
def _role(s: str) -> str:
    slug_ = ROLES.get(_role_key(s))
    if slug_ is None:
        raise NormaliseError(f"unknown role {s.strip()!r} (known: {', '.join(sorted(_ROLE_SLUGS))})")
    return slug_


@normaliser
def role(value, mapping=None) -> str:
    """The slug of one of our role concepts (id/role/<slug>) from a source's role: "Lead Partner", "LP",
    "coordinator", "participant", "thirdParty", "associatedPartner", ... An unknown role is an error.

    `mapping` gives a source's own values first, e.g. keep.eu's Lead Partner column: {Yes: coordinator,
    No: partner}; its keys are matched ignoring case, spaces and punctuation, its values are roles.

    >>> role("Lead Partner"), role("participant"), role("thirdParty")
    ('coordinator', 'partner', 'technical-support')
    >>> role("Yes", mapping={"yes": "coordinator", "no": "partner"})
    'coordinator'
    """
    s = _plain(value)
    if mapping:
        for key, target in mapping.items():
            if _role_key(str(key)) == _role_key(s):
                return _role(str(target))
    return _role(s)


_SEVERAL_URLS = re.compile(r"\s*[;|]\s*|,\s+|\s+/\s+|\s+")
_URL_SCHEMES = frozenset({"http", "https", "ftp"})
_HOST = re.compile(r"(?:[\w-]+\.)+[\w-]{2,}(?::\d{1,5})?|localhost(?::\d{1,5})?", re.UNICODE)


@normaliser
def url(value) -> str:
    """A web address: "http://" is added where the source left it out ("www.tugraz.at"), scheme and host go to
    lower case, characters an IRI cannot hold are percent-encoded; text with spaces or no host is refused.

    >>> url("www.tugraz.at"), url("HTTPS://Keep.eu/programmes/207/")
    ('http://www.tugraz.at', 'https://keep.eu/programmes/207/')
    """
    s = _plain(value).strip()
    if len(_SEVERAL_URLS.split(s)) > 1 and all("." in part for part in _SEVERAL_URLS.split(s)):
        raise NormaliseError(f"several web addresses in {value!r}; a cell must hold one")
    if not s or any(c.isspace() for c in s):
        raise NormaliseError(f"not a web address: {value!r}")
    if "://" not in s:
        s = "http:" + s if s.startswith("//") else "http://" + s
    try:
        parts = urlsplit(s)
        scheme, host = parts.scheme.lower(), parts.netloc.lower()
    except ValueError:
        raise NormaliseError(f"not a web address: {value!r}") from None
    if scheme not in _URL_SCHEMES or not _HOST.fullmatch(host):
        raise NormaliseError(f"not a web address: {value!r}")
    safe = "/:@!$&'()*+,;=%~-._?"
    return urlunsplit((scheme, host, quote(parts.path, safe=safe), quote(parts.query, safe=safe),
                       quote(parts.fragment, safe=safe)))


_EMAIL = re.compile(r"[^@\s<>\"]+@([^@\s<>\"]+\.[^@\s<>\".]+)")


@normaliser
def email(value) -> str:
    """An e-mail address, without "mailto:" and with its domain in lower case.

    >>> email(" mailto:Info@Example.EU ")
    'Info@example.eu'
    """
    s = _plain(value).strip()
    if s.lower().startswith("mailto:"):
        s = s[7:]
    m = _EMAIL.fullmatch(s)
    if not m:
        raise NormaliseError(f"not an e-mail address: {value!r}")
    return s[: m.start(1)] + m[1].lower()
