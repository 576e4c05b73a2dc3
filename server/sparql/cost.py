"""Cost classes: which queries may run in the request thread (light) and which wait for the bounded pool of queries
that can run long (heavy), read from the query's text alone.

A query is light when every triple pattern is anchored (its subject or an object is a constant, or a variable that
an anchored pattern or VALUES binds) and either
- nothing in it must see all its input before giving a row (no grouping, aggregate, ordering, DISTINCT, MINUS,
  EXISTS): it streams, its rows come early and it can be stopped between them; or
- no pattern is anchored by its class alone (`?x a ckg:City`): what it sorts, groups or counts is then the
  neighbourhood of the constants it names (a page's queries about one thing), not a scan of a class.
A path repeated with * + ? must walk from a constant or a bound variable, and never over a negated property set.
A sub-select, SERVICE or FROM make a query heavy. So does anything the reader is unsure of, the safe side: a
heavy query waits for a slot, a light one never does.
"""

from __future__ import annotations

from enum import Enum

from kg.sparql_text import Token, tokens


class Cost(Enum):
    LIGHT = "light"
    HEAVY = "heavy"


# Operators that read their whole input before the first row.
_BLOCKING = {"GROUP", "ORDER", "DISTINCT", "REDUCED", "HAVING", "MINUS", "EXISTS", "COUNT", "SUM", "AVG", "MIN", "MAX",
             "GROUP_CONCAT", "SAMPLE"}
# Forms this reader does not follow.
_NEVER = {"SERVICE", "LOAD", "FROM"}
_TYPE = {"a", "rdf:type", "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"}
_STRUCTURE = {"OPTIONAL", "UNION", "GRAPH", "FILTER", "BIND", "VALUES", "WHERE"}
_CONSTANT_KINDS = {"iri", "pname", "string", "number"}
_CONSTANT_WORDS = {"TRUE", "FALSE"}


def classify(text: str, toks: list[Token] | None = None) -> Cost:
    """The query's cost class; `toks` are its tokens when the caller has read them already."""
    try:
        return Cost.LIGHT if _anchored(tokens(text) if toks is None else toks) else Cost.HEAVY
    except _Unsure:
        return Cost.HEAVY


class _Unsure(Exception):
    pass


def _anchored(toks: list[Token]) -> bool:
    words = [t.text.upper() for t in toks if t.kind == "word"]
    if _NEVER.intersection(words) or words.count("SELECT") > 1:
        return False
    blocking = bool(_BLOCKING.intersection(words))
    if sum(t.kind == "open" for t in toks) != sum(t.kind == "close" for t in toks):
        raise _Unsure("unbalanced brackets")  # the parser will refuse it; no reason to guess how it runs
    start = next((i for i, t in enumerate(toks) if t.kind == "open" and t.text == "{"), None)
    if start is None:
        return True  # no pattern at all
    blocks, bound = _blocks(toks, start)
    # Anchors by a constant or a bound variable first; a class anchors only what nothing else does.
    for by_class in (False, True):
        changed = True
        while changed:
            changed = False
            for block in blocks:
                if block.anchored:
                    continue
                if (block.subject_fixed or block.subject in bound or block.objects_fixed or bound.intersection(block.objects)
                        or (by_class and (block.class_fixed or bound.intersection(block.class_vars)))):
                    block.anchored, block.by_class, changed = True, by_class, True
                    bound.update(block.variables)
    if not all(b.anchored for b in blocks) or any(b.repeated and b.by_class for b in blocks):
        return False
    return not blocking or not any(b.by_class for b in blocks)


class _Block:
    """A subject and its predicate-object list: `?s ckg:p ?o ; ckg:q "x"`."""

    def __init__(self, subject: Token):
        self.subject = subject.text if subject.kind == "var" else None
        self.subject_fixed = _constant(subject)
        self.objects: set[str] = set()
        self.objects_fixed = False  # an object is a constant, through a predicate other than rdf:type
        self.class_fixed = False  # an object is a class: `?x a ckg:City`
        self.class_vars: set[str] = set()  # an object is a variable in a class's place: `?x a ?class`
        self.variables: set[str] = {subject.text} if subject.kind == "var" else set()
        self.anchored = self.by_class = False
        self.repeated = False  # a property path repeated with * + ?: a walk from wherever the block is anchored

    def add_object(self, term: Token, typed: bool) -> None:
        if term.kind == "var":
            (self.class_vars if typed else self.objects).add(term.text)
            self.variables.add(term.text)
        elif _constant(term):
            if typed:
                self.class_fixed = True
            else:
                self.objects_fixed = True


def _constant(t: Token) -> bool:
    return t.kind in _CONSTANT_KINDS or (t.kind == "word" and t.text.upper() in _CONSTANT_WORDS)


def _blocks(toks: list[Token], i: int) -> tuple[list[_Block], set[str]]:
    """The triple blocks of the query's pattern from token i on, and the variables VALUES binds."""
    blocks: list[_Block] = []
    bound: set[str] = set()
    n = len(toks)
    while i < n:
        t = toks[i]
        word = t.text.upper() if t.kind == "word" else None
        if t.depth == 0 and t.text not in "{}" and word != "VALUES":
            i += 1  # outside the pattern: a solution modifier (GROUP BY, ORDER BY, HAVING, LIMIT)
        elif t.kind in ("open", "close") and t.text in "{}" or t.text == ".":
            i += 1
        elif word == "FILTER" and i + 1 < n and toks[i + 1].text.upper() in ("NOT", "EXISTS"):
            i += 1  # FILTER [NOT] EXISTS { … }: its group's patterns are read as the others
        elif word in ("NOT", "EXISTS"):
            i += 1
        elif word in ("FILTER", "BIND"):
            i = _skip_brackets(toks, i + 1)
        elif word == "VALUES":
            i += 1
            while i < n and (toks[i].kind == "var" or toks[i].text == "("):
                if toks[i].kind == "var":
                    bound.add(toks[i].text)
                    i += 1
                else:
                    j = _skip_brackets(toks, i)
                    bound.update(x.text for x in toks[i:j] if x.kind == "var")
                    i = j
            i = _skip_brackets(toks, i)
        elif word == "GRAPH":
            i += 2  # the graph's name, then its group
        elif word in ("OPTIONAL", "UNION", "WHERE"):
            i += 1
        elif word in ("LIMIT", "OFFSET"):
            i += 2
        elif t.kind in ("var", "iri", "pname", "string", "number") or t.text == "[" or word in _CONSTANT_WORDS:
            i = _block(toks, i, blocks)
        elif word is not None and word not in _STRUCTURE:
            raise _Unsure(word)
        else:
            raise _Unsure(t.text)
    return blocks, bound


def _block(toks: list[Token], i: int, blocks: list[_Block]) -> int:
    if toks[i].text == "[":  # a blank node subject: anchored by nothing of its own
        j = _skip_brackets(toks, i)
        block = _Block(Token("var", f"?_:{i}", 0, 0, 0))
        i = j
    else:
        block = _Block(toks[i])
        i = _after_term(toks, i)
    blocks.append(block)
    n = len(toks)
    while i < n:
        typed = toks[i].text in _TYPE and i + 1 < n and toks[i + 1].text not in ("/", "|")
        i = _predicate(toks, i, block)
        while True:  # objects
            if i >= n:
                raise _Unsure("end")
            if toks[i].text in "[(":
                j = _skip_brackets(toks, i)
                block.variables.update(x.text for x in toks[i:j] if x.kind == "var")
                i = j
            else:
                block.add_object(toks[i], typed)
                i = _after_term(toks, i)
            if i < n and toks[i].text == ",":
                i += 1
                continue
            break
        if i < n and toks[i].text == ";":
            while i < n and toks[i].text == ";":
                i += 1
            if i < n and (toks[i].text in ".}"):
                return i
            continue
        return i
    return i


def _predicate(toks: list[Token], i: int, block: _Block) -> int:
    """Past a predicate or property path. A path repeated with * + ? marks the block (it must be anchored by a
    constant or a bound variable, not by a class); repeating a negated property set makes the query heavy."""
    n = len(toks)
    while True:
        start = i
        while i < n and toks[i].text in ("^", "!"):
            i += 1
        if i >= n:
            raise _Unsure("end")
        t = toks[i]
        if t.text == "(":
            i = _skip_brackets(toks, i)
        elif t.kind in ("iri", "pname", "var") or (t.kind == "word" and t.text == "a"):
            i += 1
        else:
            raise _Unsure(t.text)
        if i < n and toks[i].text in ("*", "+", "?"):
            if any(x.text == "!" for x in toks[start:i]):
                raise _Unsure("a repeated negated property set")  # a walk over every edge
            block.repeated = True
            i += 1
        if i < n and toks[i].text in ("/", "|"):
            i += 1
            continue
        return i


def _after_term(toks: list[Token], i: int) -> int:
    """Past a term and, for a literal, its language tag or datatype."""
    i += 1
    n = len(toks)
    if toks[i - 1].kind != "string":
        return i
    if i < n and toks[i].text == "@":
        i += 2
        while i + 1 < n and toks[i].text == "-" and toks[i].end == toks[i + 1].start:
            i += 2
    elif i + 2 < n and toks[i].text == "^" and toks[i + 1].text == "^":
        i += 3
    return i


def _skip_brackets(toks: list[Token], i: int) -> int:
    """Past the bracketed group opening at token i."""
    if i >= len(toks) or toks[i].kind != "open":
        raise _Unsure("expected a bracket")
    depth = toks[i].depth
    for j in range(i + 1, len(toks)):
        if toks[j].kind == "close" and toks[j].depth == depth:
            return j + 1
    raise _Unsure("unclosed bracket")
