"""How names are compared: folded to lower-case words without diacritics, so that "Malmo" meets "Malmö", "torino"
meets "Torino", "Łódź" meets "Lodz" and "ΔΉΜΟΣ" meets "Δήμος". The index stores names folded this way and every query is folded the same."""

from __future__ import annotations

import re
import unicodedata

# Letters NFKD does not decompose into a base letter and a mark.
_LETTERS = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i",
                          "ħ": "h", "ŧ": "t", "ŀ": "l"})
# Letters of every script stay (a Greek or Cyrillic name is found by its own letters); the rest separates words.
_NOT_WORD = re.compile(r"[\W_]+")


def fold(text: str) -> str:
    """`text` case-folded, without diacritics, its words separated by single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_LETTERS))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NOT_WORD.sub(" ", bare).strip()


def words(text: str) -> list[str]:
    return fold(text).split()
