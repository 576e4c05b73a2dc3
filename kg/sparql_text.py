"""What the endpoint must know about a query's text before it runs it, found by a small SPARQL lexer.

Oxigraph parses and evaluates queries but exposes no algebra to Python, and it would follow SERVICE calls to any
host. This module finds, at the top level of the query text, the few things the endpoint acts on: SERVICE
targets (refused unless allow-listed), and where a row limit can be imposed (the outermost LIMIT, or the place
before a trailing VALUES block). Strings, comments and IRIs are skipped so that a keyword inside them never
counts. Oxigraph remains the judge of syntax: a rewritten query that does not parse is never run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(
    r"""
      (?P<ws>\s+)
    | (?P<comment>\#[^\n]*)
    | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")
    | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
    | (?P<var>[?$][A-Za-z0-9_\u00B7-\uFFFF]+)
    | (?P<pname>[A-Za-z\u00C0-\uFFFF][\w.\-\u00B7-\uFFFF]{0,127}?:(?:[\w\-\u00B7-\uFFFF:%.\\]*[\w\-:%\u00B7-\uFFFF])?|:[\w\-\u00B7-\uFFFF:%.]*)
    | (?P<number>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?)
    | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<open>[{(\[])
    | (?P<close>[})\]])
    | (?P<other>.)
    """,
    re.X | re.S,
)


# The prefix of a prefixed name is bounded: unbounded, every position of a long run such as "a.a.a.…" rescans
# the rest of the run for a colon, and lexing 64 KB takes tens of seconds in the web worker. A longer prefix lexes
# as other tokens, which only makes the checks stricter (a SERVICE target it names counts as unknown).


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    start: int
    end: int
    depth: int  # nesting of { ( [ before this token


def tokens(text: str) -> list[Token]:
    out, depth = [], 0
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        if kind in ("ws", "comment"):
            continue
        if kind == "close":
            depth = max(0, depth - 1)
        out.append(Token(kind, m.group(), m.start(), m.end(), depth))
        if kind == "open":
            depth += 1
    return out


def prefixes(toks: list[Token]) -> dict[str, str]:
    declared = {}
    for i, t in enumerate(toks[:-2]):
        if t.kind == "word" and t.text.upper() == "PREFIX" and toks[i + 1].kind == "pname" and toks[i + 2].kind == "iri":
            declared[toks[i + 1].text.rstrip(":")] = toks[i + 2].text[1:-1]
    return declared


@dataclass(frozen=True)
class Service:
    target: str | None  # the IRI called, or None when it is a variable (cannot be checked)
    position: int


def services(toks: list[Token], known_prefixes: dict[str, str]) -> list[Service]:
    declared = {**known_prefixes, **prefixes(toks)}
    found = []
    for i, t in enumerate(toks):
        if t.kind != "word" or t.text.upper() != "SERVICE":
            continue
        j = i + 1
        if j < len(toks) and toks[j].kind == "word" and toks[j].text.upper() == "SILENT":
            j += 1
        target = toks[j] if j < len(toks) else None
        iri = None
        if target is not None and target.kind == "iri":
            iri = target.text[1:-1]
        elif target is not None and target.kind == "pname":
            prefix, _, local = target.text.partition(":")
            iri = declared.get(prefix, "") + local if prefix in declared else None
        found.append(Service(iri, t.start))
    return found


_SOLUTION_KEYWORDS = {"SELECT", "CONSTRUCT", "DESCRIBE", "ASK"}


def with_row_limit(text: str, limit: int, toks: list[Token] | None = None) -> tuple[str, bool]:
    """Return the query with its outermost LIMIT capped, and whether a cap was applied.

    A SELECT is capped at `limit + 1`: its caller returns `limit` solutions and knows the result was cut only
    when one more came back (capped at `limit`, a complete result of exactly `limit` rows looked cut). A
    CONSTRUCT or DESCRIBE is capped at `limit`: its triples cannot be told apart by solution, so it is not
    flagged. ASK queries are returned unchanged. A query with a LIMIT of its own within `limit` keeps it. `toks`
    are the text's tokens when the caller has read them already.
    """
    toks = tokens(text) if toks is None else toks
    form = next((t.text.upper() for t in toks if t.kind == "word" and t.text.upper() in _SOLUTION_KEYWORDS), None)
    if form in (None, "ASK"):
        return text, False
    asked = limit + 1 if form == "SELECT" else limit
    top = [i for i, t in enumerate(toks) if t.depth == 0]
    # The outermost LIMIT is the last top-level LIMIT keyword (sub-selects are inside braces).
    limit_at = next((i for i in reversed(top) if toks[i].kind == "word" and toks[i].text.upper() == "LIMIT"), None)
    if limit_at is not None and limit_at + 1 < len(toks) and toks[limit_at + 1].kind == "number":
        number = toks[limit_at + 1]
        if not number.text.isdigit():  # LIMIT takes an integer only: Oxigraph refuses the query as written
            return text, False
        if int(number.text) <= limit:
            return text, False
        return text[: number.start] + str(asked) + text[number.end :], True
    # No LIMIT: add one after the solution modifiers, i.e. before a trailing VALUES block or at the end.
    values_at = next(
        (i for i in reversed(top) if toks[i].kind == "word" and toks[i].text.upper() == "VALUES" and _after_where(toks, i)),
        None,
    )
    if values_at is not None:
        cut = toks[values_at].start
        return text[:cut] + f"LIMIT {asked}\n" + text[cut:], True
    return text + f"\nLIMIT {asked}\n", True


def _after_where(toks: list[Token], i: int) -> bool:
    """A top-level VALUES after the query's closing brace is the trailing ValuesClause."""
    return any(t.kind == "close" and t.text == "}" and t.depth == 0 for t in toks[:i])
