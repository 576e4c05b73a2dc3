"""Where things are in a source file: the line of each subject's statement, the line and column of each literal.

Neither rdflib nor Oxigraph tells where a parsed triple came from (Oxigraph's parser gives positions only in its
errors), so a file that results point into is read once more by a tokeniser of the Turtle family (Turtle, TriG,
N-Triples, N-Quads; N3 as far as it is Turtle). The tokeniser is one compiled regular expression run over the
text and a small state machine for subject, verb and object: a subject is only ever recorded where a statement
begins, never where a name starts an object-list line. One pass per file, kept per file version (path, size,
modification time), so placing ten thousand results costs one pass, not ten thousand.

N-Triples and N-Quads put one statement on a line with the subject first, so their subject index is one look at
the start of each line. JSON-LD and RDF/XML have no index: a result in them is placed in the file (line 0).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import urljoin

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD = "http://www.w3.org/2001/XMLSchema#"

TURTLE_LIKE = {".ttl", ".trig", ".n3"}
LINE_BASED = {".nt", ".nq"}

# Turtle 1.1 terminals (https://www.w3.org/TR/turtle/#sec-grammar-grammar), close enough to find where terms are
# in a file a real parser has already accepted.
_ECHAR_UCHAR = r"\\(?:[tbnrf\"'\\]|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8})"
_STRING = (
    r'"""(?:(?:""?)?(?:[^"\\]|\\.))*"""'
    r"|'''(?:(?:''?)?(?:[^'\\]|\\.))*'''"
    r'|"(?:[^"\\\n\r]|\\.)*"'
    r"|'(?:[^'\\\n\r]|\\.)*'"
)
_LCHAR = r"(?:[\w:\-\u00B7]|%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%])"
_PNAME = rf"(?:[^\W\d_](?:[\w.\-\u00B7]*[\w\-\u00B7])?)?:(?:{_LCHAR}(?:{_LCHAR}|\.(?=\.*{_LCHAR}))*)?"
_IRI = r"<[^<>\"{}|^`\\\x00-\x20]*(?:\\u[0-9A-Fa-f]{4}[^<>\"{}|^`\\\x00-\x20]*|\\U[0-9A-Fa-f]{8}[^<>\"{}|^`\\\x00-\x20]*)*>"
_LANG = r"@[A-Za-z]+(?:-[A-Za-z0-9]+)*"
_NUMBER = r"[+-]?(?:\d+\.\d*[eE][+-]?\d+|\.?\d+[eE][+-]?\d+|\d*\.\d+|\d+)"

TOKEN = re.compile(
    r"(?:\s+|#[^\n]*)*"
    r"(?:"
    rf"(?P<literal>(?P<string>{_STRING})(?:\s*(?P<lang>{_LANG})|\s*\^\^\s*(?P<datatype>{_IRI}|{_PNAME}))?)"
    rf"|(?P<iri>{_IRI})"
    r"|(?P<bnode>_:[\w\-.]*[\w\-])"
    rf"|(?P<pname>{_PNAME})"
    rf"|(?P<number>{_NUMBER})"
    r"|(?P<word>[A-Za-z][\w\-]*)"
    r"|(?P<directive>@[A-Za-z]+)"
    r"|(?P<punct>[.;,\[\](){}])"
    r"|(?P<other>\S)"
    r")"
)
_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_ESCAPE = re.compile(_ECHAR_UCHAR)
_ECHARS = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}
_LOCAL_ESCAPE = re.compile(r"\\(.)")


@dataclass(frozen=True)
class LiteralAt:
    """A literal as written in a file: its place (1-based line and column of its opening quote), its lexical form,
    datatype IRI or language tag, and the subject and verb it is the object of (None inside a blank node or a
    collection, whose subject has no name)."""

    line: int
    column: int
    lexical: str
    datatype: str | None
    language: str | None
    subject: str | None
    verb: str | None


@dataclass
class FileIndex:
    """Per file: subject IRI -> line of the first statement it is the subject of."""

    subjects: dict[str, int] = field(default_factory=dict)

    def line(self, iri: str) -> int:
        return self.subjects.get(iri, 0)


def index(path: Path) -> FileIndex:
    """The file's subject index, made in one pass and kept while the file is unchanged."""
    key = _version(path)
    if key is None:
        return FileIndex()
    if key[0].suffix in TURTLE_LIKE:
        return _scan(*key)[0]
    return _index_lines(*key)


def literals(path: Path) -> list[LiteralAt]:
    """Every literal of a Turtle-family file with its place (also made in one pass and kept); [] for other formats."""
    key = _version(path)
    if key is None or key[0].suffix not in TURTLE_LIKE | LINE_BASED:
        return []
    return _scan(*key)[1]


def forget() -> None:
    """Drop every kept index (a benchmark's cold start; a long-lived process that wants its memory back)."""
    _index_lines.cache_clear()
    _scan.cache_clear()


def _version(path: Path) -> tuple[Path, int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return path.resolve(), stat.st_size, stat.st_mtime_ns


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


@lru_cache(maxsize=64)
def _index_lines(path: Path, size: int, mtime: int) -> FileIndex:
    """N-Triples and N-Quads: the subject opens its line. Read as bytes and split into lines, which at a million
    lines is several times faster than a multi-line regular expression over the decoded text."""
    try:
        data = path.read_bytes()
    except OSError:
        return FileIndex()
    subjects: dict[str, int] = {}
    previous = None
    for number, line in enumerate(data.split(b"\n"), start=1):
        if not line.startswith(b"<"):
            line = line.lstrip(b" \t")
            if not line.startswith(b"<"):
                continue
        raw = line[1:line.find(b">")]
        if raw != previous:  # a subject's triples are usually written together: one look-up for the run
            previous = raw
            iri = _iri(raw)
            if iri not in subjects:
                subjects[iri] = number
    return FileIndex(subjects)


def _iri(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace")
    return _unescape(text) if "\\" in text else text


@lru_cache(maxsize=64)
def _scan(path: Path, size: int, mtime: int) -> tuple[FileIndex, list[LiteralAt]]:
    return _tokenise(_read(path), path.as_uri())


class _Frame:
    """What the tokeniser expects next at one nesting level: a subject, a verb or an object."""

    __slots__ = ("subject", "verb", "expect")

    def __init__(self, subject: str | None, expect: str):
        self.subject, self.verb, self.expect = subject, None, expect


def _tokenise(text: str, base: str) -> tuple[FileIndex, list[LiteralAt]]:
    found, literals = FileIndex(), []
    subjects = found.subjects
    prefixes: dict[str, str] = {}
    stack = [_Frame(None, "subject")]
    pending: tuple[str, int] | None = None  # a subject not yet known not to be a TriG graph name
    directive: list | None = None  # ["prefix"|"base", collected terms]
    line, last = 1, 0

    def line_at(pos: int) -> int:
        nonlocal line, last
        line += text.count("\n", last, pos)
        last = pos
        return line

    def resolve(kind: str, raw: str) -> str | None:
        if kind == "iri":
            iri = raw[1:-1]
            if "\\" in iri:
                iri = _unescape(iri)
            return iri if _ABSOLUTE.match(iri) else urljoin(base, iri)
        if kind == "pname":
            prefix, _, local = raw.partition(":")
            ns = prefixes.get(prefix)
            return None if ns is None else ns + (_LOCAL_ESCAPE.sub(r"\1", local) if "\\" in local else local)
        return None

    for m in TOKEN.finditer(text):
        kind = m.lastgroup
        raw = m.group(kind)
        if directive is not None:
            if kind == "pname" and directive[0] == "prefix" and not directive[1]:
                directive[1].append(raw[:-1])
                continue
            if kind == "iri":
                iri = urljoin(base, raw[1:-1])
                if directive[0] == "prefix" and directive[1]:
                    prefixes[directive[1][0]] = iri
                else:
                    base = iri
                directive = None
                continue
            directive = None
        frame = stack[-1]
        if kind == "punct":
            if raw == ".":
                if len(stack) == 1:
                    frame.expect, frame.subject, frame.verb = "subject", None, None
            elif raw == ";":
                frame.expect = "verb"
            elif raw == ",":
                frame.expect = "object"
            elif raw == "[":
                if frame.expect == "subject":
                    frame.expect, frame.subject = "verb", None
                stack.append(_Frame(None, "verb"))
            elif raw == "(":
                if frame.expect == "subject":
                    frame.expect, frame.subject = "verb", None
                stack.append(_Frame(None, "object"))
            elif raw in "])":
                if len(stack) > 1:
                    stack.pop()
            elif raw == "{":  # a TriG graph (or an N3 formula): what came before it named the graph
                pending = None
                stack = [_Frame(None, "subject")]
            elif raw == "}":
                stack = [_Frame(None, "subject")]
            continue
        if kind == "directive" or (kind == "word" and raw.upper() in ("PREFIX", "BASE") and frame.expect == "subject"):
            name = raw.lstrip("@").lower()
            if name in ("prefix", "base"):
                directive = [name, []]
            continue
        if kind == "word" and raw.upper() == "GRAPH" and frame.expect == "subject":
            continue
        if frame.expect == "subject":
            term = resolve(kind, raw)
            frame.subject, frame.expect = term, "verb"
            if term is not None and len(stack) == 1:
                pending = (term, line_at(m.start(kind)))
            continue
        if frame.expect == "verb":
            verb = RDF_TYPE if kind == "word" and raw == "a" else resolve(kind, raw)
            frame.verb, frame.expect = verb, "object"
            if pending is not None:
                subjects.setdefault(*pending)
                pending = None
            continue
        if kind == "literal":
            start = m.start("literal")
            at = line_at(start)
            column = start - text.rfind("\n", 0, start)
            datatype = m.group("datatype")
            literals.append(
                LiteralAt(
                    at, column, _lexical(m.group("string")),
                    resolve("iri" if datatype.startswith("<") else "pname", datatype) if datatype else None,
                    m.group("lang")[1:] if m.group("lang") else None,
                    frame.subject, frame.verb,
                )
            )
    return found, literals


def _lexical(quoted: str) -> str:
    inner = quoted[3:-3] if quoted[:3] in ('"""', "'''") and len(quoted) >= 6 else quoted[1:-1]
    return _unescape(inner) if "\\" in inner else inner


def _unescape(text: str) -> str:
    def one(m: re.Match) -> str:
        s = m.group()
        return chr(int(s[2:], 16)) if s[1] in "uU" else _ECHARS[s[1]]

    return _ESCAPE.sub(one, text)
