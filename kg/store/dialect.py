"""What a SPARQL server needs besides SPARQL 1.1, in one place: RemoteStore (kg.store.remote) passes every query it
sends, every request and every answer through the dialect of the server's kind (`for_kind`).

`oxigraph serve` and generic servers speak SPARQL 1.1 as written (the base Dialect changes nothing); `oxigraph
serve` also writes its answers with the writers of the embedded store (pyoxigraph's), so they can be passed on as
they come (Oxigraph.verbatim; a generic server's writers are unknown, its answers are parsed). Virtuoso
(7.2.5, as tests/test_remote_store.py and bench checks found it) departs from it; each behaviour met by the KG's
queries is handled below, by one rewrite or one mapping that means the same on Virtuoso as the original means
under SPARQL 1.1:

  V1  booleans come back as integers: `BIND (EXISTS {…} AS ?b)` gives "1"^^xsd:integer. An expression that is
      boolean by its form (a comparison, &&, ||, !, IN, EXISTS, BOUND, isIRI, REGEX, …) bound with AS is cast
      with xsd:boolean(…), which Virtuoso answers as "1"^^xsd:boolean; the answers then spell xsd:boolean values
      canonically, "true" and "false" (Virtuoso writes every xsd:boolean, stored ones too, as 1 and 0).
  V2  GROUP_CONCAT drops language tags: it is given back the one tag its values share, as SPARQL's CONCAT keeps
      it (and the embedded store does), from two helper columns the rewrite adds beside it (for a GROUP_CONCAT
      of the outermost SELECT clause: Virtuoso fails to compile an aggregate inside IF).
  V3  a variable left UNDEF in a VALUES row stays unbound in the answer even where the patterns bind it (the
      named queries' optional parameters): a column that is UNDEF in every row is left out of the block, which
      is the same solution sequence.
  V4  every graph of the request's dataset is echoed as a response header (X-SPARQL-default-graph, …), and past
      about fifty graphs the answer has more headers than Python's http.client accepts (100): the dataset is
      sent as Virtuoso's `DEFINE input:default-graph-uri` pragmas in the query instead of protocol parameters.
  V5  DATATYPE of a language-tagged literal is unbound (SPARQL 1.0), where SPARQL 1.1 gives rdf:langString (the
      shapes' sh:datatype rdf:langString): DATATYPE(e) is written IF(isLiteral(e) && LANG(e) != "",
      rdf:langString, …).
  V6  a geo:wktLiteral is stored as Virtuoso's own geometry, its numbers in single precision: the cities' WKT
      "POINT(13.3636 38.1166)"^^geo:wktLiteral comes back as "POINT(13.363599777222 38.116600036621)"^^
      virtrdf:Geometry, and its DATATYPE is virtrdf:Geometry. DATATYPE gives geo:wktLiteral for it (in the same
      IF as V5), and answers give the literal back as a geo:wktLiteral, each number written with the fewest
      digits that single precision keeps apart (13.3636): the text as written wherever it had no more digits
      than that (every point of the curated KG), the same point to about a metre elsewhere. Inside a query
      (STR of the literal) the numbers are Virtuoso's; the shapes compare coordinates to 0.00001 degree.

  V8  an update request is one transaction with a bounded log (TransactionAfterImageLimit, 50 MB by default): the
      switch of a build of 4M triples was refused; updates are sent with `DEFINE sql:log-enable 3` (row autocommit).
  V9  a query's plan is chosen for the data held when it is first compiled, then cached by the query's text and
      reused however the data has grown: the count of a build's staging graphs (VALUES ?g … GROUP BY ?g), asked
      once while they were empty and again, the same text, after the upload, took past 60 s at 100k generated
      triples (25 s for four graphs of 190k triples in all, where the same query with one more space took
      0.03 s). No rewrite here: kg.store.remote asks nothing whose plan depends on the sizes of graphs it is
      about to fill (one count per graph, which has no join to order), and finds its staging graphs from a list
      it keeps rather than by a scan of every quad, whose time grows with the store (`SELECT DISTINCT ?g WHERE
      { GRAPH ?g { ?s ?p ?o } }` took 45 s at 100k, 390k quads; `GRAPH ?g {}` lists no graphs on Virtuoso).

What no rewrite here can mend is written portably where the query is made, and checked on Virtuoso by
tests/test_remote_store.py:
  - a `*` (zero-or-more) property path joined with other patterns loses solutions, its zero-length step
    most of them (`?x a/rdfs:subClassOf* C` after a pattern binding ?x matched 1 of 41 geometries): the compiled
    shapes (kg.validation.compiled.instance_of) and the named queries write the zero-length step apart from a `+`
    path;
  - a variable a BIND leaves unbound (its expression failed) matches nothing in the patterns after it, where
    SPARQL lets them bind it (projects-by-sdg with no goal gave no rows): the named queries filter instead.
What is not mended: a `+` path joined with other patterns loses solutions too, depending on the patterns beside
it and their order (partners-by-programme: 1 row of 19 however the path was written apart, in a subquery or
after the participations; the same subquery gave all 19 once `ckg:role ?role` was left out). That named query
differs on Virtuoso (tests/test_remote_store.py, DIFFERENT_ON_VIRTUOSO); the others answer as on Oxigraph.
"""

from __future__ import annotations

import re
import struct
from decimal import Decimal

from kg.sparql_text import Token, tokens

XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_BOOLEAN = XSD + "boolean"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
WKT_LITERAL = "http://www.opengis.net/ont/geosparql#wktLiteral"
VIRTUOSO_GEOMETRY = "http://www.openlinksw.com/schemas/virtrdf#Geometry"
KINDS_WITH_DIALECT = ("virtuoso",)


class Dialect:
    """SPARQL 1.1 as written: what is asked is sent, what comes back is kept."""

    kind = "sparql11"
    # Media types of answers the server writes as the embedded store writes them: passed on without parsing.
    verbatim: frozenset[str] = frozenset()

    def query(self, text: str) -> str:
        """The text of a query to send, once Oxigraph has parsed the original (so errors are the embedded store's)."""
        return text

    def request(self, text: str, dataset: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """The form fields of a query request: the query and its dataset (the protocol's graph parameters)."""
        return [("query", text), *dataset]

    def solutions(self, document: dict) -> dict:
        """SPARQL JSON results as the embedded store would give them."""
        return document

    def triples(self, triples: list) -> list:
        """A graph answer (pyoxigraph Triples) as the embedded store would give it."""
        return triples

    def update(self, text: str) -> str:
        """The text of an update request to send."""
        return text


class Oxigraph(Dialect):
    """`oxigraph serve`: SPARQL 1.1 as written, answered by the same writers as pyoxigraph's (Turtle without the
    KG's prefixes: the same graph, in longer lines)."""

    kind = "oxigraph"
    verbatim = frozenset({
        "application/sparql-results+json", "application/sparql-results+xml", "text/csv", "text/tab-separated-values",
        "text/turtle", "application/n-triples", "application/rdf+xml", "application/ld+json",
    })


class Virtuoso(Dialect):
    kind = "virtuoso"

    def query(self, text: str) -> str:
        text = _without_undef_columns(text)  # V3
        text = _group_concat_with_language(text)  # V2
        text = _datatype_as_written(text)  # V5, V6
        return _booleans_cast(text)  # V1

    def request(self, text: str, dataset: list[tuple[str, str]]) -> list[tuple[str, str]]:
        # V4: the dataset as pragmas ahead of the query, which Virtuoso reads as it reads the protocol's
        # parameters, without echoing each graph back as a header.
        pragma = {"default-graph-uri": "input:default-graph-uri", "named-graph-uri": "input:named-graph-uri"}
        defines = "".join(f"DEFINE {pragma[name]} <{iri}>\n" for name, iri in dataset if name in pragma)
        others = [(name, value) for name, value in dataset if name not in pragma]
        return [("query", defines + text), *others]

    def solutions(self, document: dict) -> dict:
        _language_back(document)  # V2
        for row in document.get("results", {}).get("bindings", ()):
            for term in row.values():
                datatype = term.get("datatype")
                if datatype == XSD_BOOLEAN or datatype == VIRTUOSO_GEOMETRY:
                    term["datatype"], term["value"] = _literal_as_written(datatype, term.get("value", ""))
        return document

    def update(self, text: str) -> str:
        # V8: one update request is one transaction, refused past TransactionAfterImageLimit ("SR325: Transaction
        # aborted because it's log after image size went above the limit": the switch of a 1M build, 4M triples).
        # Row autocommit instead: Virtuoso's readers see an update as it goes in any case, which is why kg.store.remote
        # brackets the switch with a marker.
        return "DEFINE sql:log-enable 3\n" + text

    def triples(self, triples: list) -> list:
        import pyoxigraph as ox

        out = []
        for t in triples:
            o = t.object
            if isinstance(o, ox.Literal) and o.datatype.value in (XSD_BOOLEAN, VIRTUOSO_GEOMETRY):
                datatype, value = _literal_as_written(o.datatype.value, o.value)
                t = ox.Triple(t.subject, t.predicate, ox.Literal(value, datatype=ox.NamedNode(datatype)))
            out.append(t)
        return out


def _literal_as_written(datatype: str, value: str) -> tuple[str, str]:
    """(datatype, lexical form) of a literal Virtuoso gave back, as the KG wrote it."""
    if datatype == XSD_BOOLEAN:  # V1: xsd:boolean values written as 1 and 0, in answers and in the data held
        return datatype, {"1": "true", "0": "false"}.get(value, value)
    if datatype == VIRTUOSO_GEOMETRY:  # V6
        return WKT_LITERAL, re.sub(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?", lambda m: _single(m.group()), value)
    return datatype, value


def _single(number: str) -> str:
    """A number Virtuoso kept in single precision, with the fewest significant digits that give back the same single:
    the number as written, where it had no more digits than single precision keeps apart."""
    kept = struct.unpack("f", struct.pack("f", float(number)))[0]
    for digits in range(1, 10):
        text = f"{kept:.{digits}g}"
        if struct.unpack("f", struct.pack("f", float(text)))[0] == kept:
            break
    if "e" in text:  # WKT numbers are written out in full
        text = format(Decimal(text), "f")
    return text


_DIALECTS = {"virtuoso": Virtuoso(), "oxigraph": Oxigraph()}
_SPARQL11 = Dialect()


def for_kind(kind: str | None) -> Dialect:
    """The dialect of a server of `kind` (kg.store.remote.KINDS); SPARQL 1.1 as written when unknown."""
    return _DIALECTS.get(kind or "", _SPARQL11)


#################################################################
# Rewrites: each reads the query's tokens (kg.sparql_text) and edits the text at their offsets, so strings,
# IRIs and comments are never touched.
#################################################################


def _edited(text: str, edits: list[tuple[int, int, str]]) -> str:
    """`text` with each (start, end, replacement) applied; edits do not overlap (insertions may share a place)."""
    for start, end, replacement in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        text = text[:start] + replacement + text[end:]
    return text


def _closing(toks: list[Token], i: int) -> int:
    """Index of the bracket closing the one opened at toks[i]."""
    for j in range(i + 1, len(toks)):
        if toks[j].kind == "close" and toks[j].depth == toks[i].depth:
            return j
    raise ValueError("unbalanced brackets")


# --- V3: UNDEF columns of VALUES ------------------------------------------------------------------------------


def _terms(toks: list[Token]) -> list[list[Token]]:
    """The RDF terms (and UNDEF) of a VALUES row, each as its tokens: "x"@en-GB and "1"^^xsd:int are one term."""
    out, i = [], 0
    while i < len(toks):
        j = i + 1
        if toks[i].kind == "other" and toks[i].text in "+-" and j < len(toks) and toks[j].kind == "number":
            j += 1
        elif toks[i].kind == "string":
            if j < len(toks) and toks[j].text == "@":  # a language tag: letters, digits and '-', written together
                j += 1
                while j < len(toks) and toks[j].start == toks[j - 1].end and toks[j].kind in ("word", "number", "other") \
                        and (toks[j].kind != "other" or toks[j].text == "-"):
                    j += 1
            elif j + 2 < len(toks) and toks[j].text == "^" and toks[j + 1].text == "^":
                j += 3
        out.append(toks[i:j])
        i = j
    return out


def _without_undef_columns(text: str) -> str:
    toks = tokens(text)
    edits = []
    for i, t in enumerate(toks):
        if t.kind != "word" or t.text.upper() != "VALUES" or i + 1 >= len(toks):
            continue
        try:
            if toks[i + 1].kind == "var":  # VALUES ?x { … }
                names, data_open = [toks[i + 1].text], i + 2
                close = _closing(toks, data_open)
                rows = [[term] for term in _terms(toks[data_open + 1:close])]
            elif toks[i + 1].text == "(":  # VALUES (?x ?y) { (…) (…) }
                names_close = _closing(toks, i + 1)
                names, data_open = [x.text for x in toks[i + 2:names_close]], names_close + 1
                close = _closing(toks, data_open)
                rows, k = [], data_open + 1
                while k < close:
                    end = _closing(toks, k)
                    rows.append(_terms(toks[k + 1:end]))
                    k = end + 1
            else:
                continue
        except ValueError:
            return text  # not a query Oxigraph accepted: left to the server to refuse
        if toks[data_open].text != "{" or not rows or any(len(row) != len(names) for row in rows):
            continue
        undef = [c for c in range(len(names)) if all(len(r[c]) == 1 and r[c][0].text.upper() == "UNDEF" for r in rows)]
        if not undef:
            continue
        kept = [c for c in range(len(names)) if c not in undef]
        if not kept:
            if len(rows) == 1:  # one solution binding nothing: the same as no block at all
                edits.append((t.start, toks[close].end, ""))
            continue  # several such rows repeat every solution: rare, left as written
        spell = lambda term: text[term[0].start:term[-1].end]
        block = "VALUES (" + " ".join(names[c] for c in kept) + ") { " + " ".join(
            "(" + " ".join(spell(r[c]) for c in kept) + ")" for r in rows) + " }"
        edits.append((t.start, toks[close].end, block))
    return _edited(text, edits)


# --- V2: GROUP_CONCAT and language tags -----------------------------------------------------------------------

_LANGS, _LANG = "_kg_langs_", "_kg_lang_"  # helper columns: how many languages the values had, and one of them


def _group_concat_with_language(text: str) -> str:
    """Each `(GROUP_CONCAT(E …) AS ?v)` of the outermost SELECT clause followed by two helper columns, the number of
    E's languages and one of them, from which the answer gives ?v its language (_language_back). Written as columns:
    Virtuoso fails to compile an aggregate inside IF(…) ("Bad dfe in sqlo_place_exp")."""
    toks = tokens(text)
    select = next((i for i, t in enumerate(toks) if t.kind == "word" and t.text.upper() == "SELECT" and t.depth == 0), None)
    if select is None:
        return text
    edits = []
    for i in range(select + 1, len(toks) - 1):
        t = toks[i]
        if t.depth == 0 and (t.text == "{" or t.kind == "word" and t.text.upper() in ("WHERE", "FROM")):
            break
        if not (t.text == "(" and t.depth == 0 and toks[i + 1].kind == "word" and toks[i + 1].text.upper() == "GROUP_CONCAT"):
            continue
        close = _closing(toks, i)
        call_open = i + 2
        if call_open >= close or toks[call_open].text != "(":
            continue
        call_close = _closing(toks, call_open)
        rest = toks[call_close + 1:close]
        if len(rest) != 2 or rest[0].text.upper() != "AS" or rest[1].kind != "var":
            continue  # GROUP_CONCAT within a larger expression: left as written
        inside = toks[call_open + 1:call_close]
        first = 1 if inside and inside[0].kind == "word" and inside[0].text.upper() == "DISTINCT" else 0
        end = next((k for k, x in enumerate(inside) if x.text == ";" and x.depth == toks[call_open].depth + 1), len(inside))
        if end <= first:
            continue
        value, name = text[inside[first].start:inside[end - 1].end], rest[1].text[1:]
        edits.append((toks[close].end, toks[close].end,
                      f" (COUNT(DISTINCT LANG({value})) AS ?{_LANGS}{name}) (SAMPLE(LANG({value})) AS ?{_LANG}{name})"))
    return _edited(text, edits)


def _language_back(document: dict) -> None:
    """V2 in an answer: each GROUP_CONCAT column whose values all had one language gets it; the helpers go."""
    head = document.get("head", {})
    names = head.get("vars") or []
    helped = [n[len(_LANGS):] for n in names if n.startswith(_LANGS)]
    if not helped:
        return
    for row in document.get("results", {}).get("bindings", ()):
        for name in helped:
            count, language = row.pop(_LANGS + name, {}), row.pop(_LANG + name, {})
            term = row.get(name)
            if term is not None and count.get("value") == "1" and language.get("value"):
                term.pop("datatype", None)
                term["type"], term["xml:lang"] = "literal", language["value"]
    head["vars"] = [n for n in names if not n.startswith((_LANGS, _LANG))]


# --- V5, V6: DATATYPE of a language-tagged literal, of a geometry --------------------------------------------------------------


def _datatype_as_written(text: str) -> str:
    toks = tokens(text)
    out, at, i = [], 0, 0
    while i < len(toks) - 1:
        t = toks[i]
        if t.kind == "word" and t.text.upper() == "DATATYPE" and toks[i + 1].text == "(":
            close = _closing(toks, i + 1)
            if close > i + 2:
                e = _datatype_as_written(text[toks[i + 2].start:toks[close - 1].end])  # a DATATYPE inside, if any
                out += [text[at:t.start], f'IF(isLiteral({e}) && LANG({e}) != "", <{RDF_LANG_STRING}>, '
                                          f'IF(DATATYPE({e}) = <{VIRTUOSO_GEOMETRY}>, <{WKT_LITERAL}>, DATATYPE({e})))']
                at, i = toks[close].end, close + 1
                continue
        i += 1
    return "".join(out) + text[at:]


# --- V1: booleans ---------------------------------------------------------------------------------------------

_BOOLEAN_CALLS = {"EXISTS", "BOUND", "ISIRI", "ISURI", "ISBLANK", "ISLITERAL", "ISNUMERIC", "REGEX", "SAMETERM",
                  "LANGMATCHES", "STRSTARTS", "STRENDS", "CONTAINS"}


def _is_boolean(toks: list[Token], depth: int) -> bool:
    """Whether the expression made of `toks` (its top level at `depth`) is boolean by its form."""
    if not toks:
        return False
    top = [t for t in toks if t.depth == depth]
    for t in top:
        if t.kind == "other" and t.text in "|&=<>":
            return True
        if t.kind == "word" and t.text.upper() == "IN":
            return True
    arithmetic = any(t.kind == "other" and t.text in "+-*/" for t in top[1:])
    if arithmetic:
        return False
    head = toks[0]
    if head.kind == "other" and head.text == "!":
        return True
    if head.kind == "word" and head.text.upper() in ("TRUE", "FALSE") and len(toks) == 1:
        return True
    word = head.text.upper() if head.kind == "word" else ""
    call_at = 1
    if word == "NOT" and len(toks) > 1 and toks[1].kind == "word" and toks[1].text.upper() == "EXISTS":
        word, call_at = "EXISTS", 2
    if word in _BOOLEAN_CALLS and call_at < len(toks) and toks[call_at].kind == "open":
        return _closing(toks, call_at) == len(toks) - 1  # one call spanning the whole expression
    return False


def _booleans_cast(text: str) -> str:
    toks = tokens(text)
    edits = []
    for i, t in enumerate(toks):
        if t.kind != "word" or t.text.upper() != "AS" or t.depth == 0:
            continue
        opening = next((k for k in range(i - 1, -1, -1) if toks[k].kind == "open" and toks[k].depth == t.depth - 1), None)
        if opening is None or toks[opening].text != "(" or opening + 1 >= i:
            continue
        expression = toks[opening + 1:i]
        if _is_boolean(expression, t.depth):
            edits.append((expression[0].start, expression[0].start, f"<{XSD_BOOLEAN}>("))
            edits.append((expression[-1].end, expression[-1].end, ")"))
    return _edited(text, edits)
