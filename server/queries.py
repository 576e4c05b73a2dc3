"""The catalogue of named queries at /queries (issue 5): the list, one page per query with a form for its
parameters and its results, and each page's twins in other formats (/queries/NAME.csv?…, /queries.json).

Queries run through the app's Backend like any endpoint query, so the timeout, memory bound and row limit apply.
Parameters are bound by kg.queries.catalogue, which never pastes the user's text into the query.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import pyoxigraph as ox
from flask import Blueprint, Response, abort, current_app, render_template, request, url_for

from kg.queries import catalogue as named_queries
from kg.queries.catalogue import NamedQuery, Param, ParameterError
from kg.namespaces import compact
from kg.queries.run import RESULT_FORMATS

from .http.responses import plain_text
from .pages.iris import href
from .sparql import limits
from .sparql.backend import BackendError
from .sparql.executor import Answer, QueryJob

bp = Blueprint("queries", __name__)

# The twins: every result format of the endpoint but the terminal's text table, by file extension.
TWINS = {name: f for name, f in RESULT_FORMATS.items() if name != "table"}
LABEL_SUFFIX = "Label"  # a column ?xLabel names the IRI in column ?x: the page links ?x with that text


def _catalogue() -> dict[str, NamedQuery]:
    # Read once per app: the queries ship with the code, like the templates.
    queries = current_app.extensions.get("kg-named-queries")
    if queries is None:
        queries = current_app.extensions["kg-named-queries"] = named_queries.catalogue()
    return queries


def named_query(name: str) -> NamedQuery | None:
    """The catalogue's query of that name, or None (for other concerns: shared views check what they keep)."""
    return _catalogue().get(name)


def _query(name: str) -> NamedQuery:
    query = _catalogue().get(name)
    if query is None:
        abort(plain_text(f"no query named {name!r} in the catalogue; /queries lists them", 404))
    return query


@bp.get("/queries")
def index():
    return render_template("queries.html", queries=list(_catalogue().values()))


@bp.get("/queries.json")
def index_json():
    listing = [
        {
            **q.describe(),
            "url": url_for("queries.page", name=q.name, _external=True),
            "formats": {ext: url_for("queries.twin", name=q.name, ext=ext, _external=True) for ext in TWINS},
        }
        for q in _catalogue().values()
    ]
    return Response(json.dumps(listing, indent=2, ensure_ascii=False) + "\n", content_type="application/json; charset=utf-8")


@bp.get("/queries/<name>.<ext>")
def twin(name: str, ext: str):
    """The results in another format; errors as plain text with the status that says what went wrong."""
    query = _query(name)
    if ext not in TWINS:
        return plain_text(f"no format {ext!r}; use one of: {', '.join(TWINS)}", 404)
    try:
        text = query.bind(_values())
    except ParameterError as e:
        return plain_text(str(e), 400)
    answer = _run(text, ext)
    if answer.status != 200:
        return limits.error_text(answer)
    return limits.flag(Response(answer.body, content_type=f"{answer.media_type}; charset=utf-8"), answer)


@bp.get("/queries/<name>")
def page(name: str):
    query = _query(name)
    values = {p.name: request.args.get(p.name, "") for p in query.params}
    context = {"query": query, "error": None, "table": None, "results": None, "text": None, "links": {}}
    status = 200
    # A first visit to a query that needs a value it has no default for shows the form and runs nothing.
    if request.args or not any(p.required for p in query.params):
        try:
            text = query.bind(_values())
        except ParameterError as e:
            context["error"], status = str(e), 400
        else:
            context["text"], context["links"] = text, _links(query, text)
            answer = _run(text, "json")
            if answer.status == 200:
                # The results also go to the page's script as they are, for the chart, map and network views.
                context["results"] = json.loads(answer.body)
                context["table"] = _table(context["results"], limits.truncated(answer))
            else:
                context["error"], status = answer.body.decode("utf-8", "replace").strip(), answer.status
    fields = [_field(p, values[p.name], _label_lang(query)) for p in query.params]
    return render_template("query.html", fields=fields, **context), status


def _values() -> dict[str, str]:
    """The parameters of the request; a repeated one is an error, as the query binds one value."""
    values = {}
    for key in request.args:
        given = request.args.getlist(key)
        if len(given) > 1:
            raise ParameterError(key, "given more than once")
        values[key] = given[0]
    return values


def _run(text: str, format_name: str) -> Answer:
    job = QueryJob(text=text, result_format=format_name, row_limit=current_app.config["ROW_LIMIT"])
    return current_app.config["KG_BACKEND"].run(job)


def _links(query: NamedQuery, text: str) -> dict[str, str]:
    given = {k: v for k, v in request.args.items() if v.strip()}
    suffix = ("?" + urlencode(given)) if given else ""
    links = {ext.upper(): url_for("queries.twin", name=query.name, ext=ext) + suffix for ext in ("csv", "json")}
    links["SPARQL endpoint (CSV)"] = url_for("sparql.sparql") + "?" + urlencode({"query": text, "format": "csv"})
    # The editor (YASGUI) reads a query from the fragment, so the page itself stays the editor.
    links["SPARQL editor"] = url_for("sparql.sparql") + "#" + urlencode({"query": text}, quote_via=quote)
    return links


@dataclass(frozen=True)
class Cell:
    text: str
    link: str | None = None
    title: str | None = None


@dataclass(frozen=True)
class Table:
    columns: list[str]
    rows: list[list[Cell]]
    truncated: bool


def _table(results: dict, truncated: bool) -> Table:
    """SPARQL JSON results as cells; a ?xLabel column becomes the text of the link in column ?x."""
    names = results["head"]["vars"]
    labelled = {n: n + LABEL_SUFFIX for n in names if n + LABEL_SUFFIX in names}
    shown = [n for n in names if n not in labelled.values()]
    rows = []
    for binding in results["results"]["bindings"]:
        row = []
        for n in shown:
            term = binding.get(n)
            label = binding.get(labelled[n]) if n in labelled else None
            row.append(_cell(term, label))
        rows.append(row)
    return Table(shown, rows, truncated)


def _cell(term: dict | None, label: dict | None) -> Cell:
    if term is None:
        return Cell("")
    if term["type"] == "uri":
        iri = term["value"]
        text = label["value"] if label else (compact(iri) or iri)
        return Cell(text, href(iri), iri)
    if term["type"] == "bnode":
        return Cell("_:" + term["value"])
    return Cell(term["value"])


@dataclass(frozen=True)
class Field:
    param: Param
    value: str  # what the form shows: the value given, else the default
    choices: list[tuple[str, str]] | None  # (IRI, label) for an IRI parameter of a known class
    selected: str | None  # the IRI among the choices that the value names


def _field(p: Param, given: str, lang: str) -> Field:
    value = given or p.default or ""
    if p.type != "iri" or p.cls is None:
        return Field(p, value, None, None)
    try:
        selected = p.term(value).value if value else None
    except ParameterError:
        selected = None
    return Field(p, value, _choices(p.cls, lang), selected)


def _choices(cls: str, lang: str) -> list[tuple[str, str]] | None:
    """The instances of a class with their labels, for a <select>; built from terms pyoxigraph writes."""
    text = f"""
        PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        SELECT ?item ?label WHERE {{
          ?item a {ox.NamedNode(cls)} .
          OPTIONAL {{ ?item rdfs:label ?l1 FILTER (langMatches(lang(?l1), {ox.Literal(lang)})) }}
          OPTIONAL {{ ?item rdfs:label ?l2 FILTER (langMatches(lang(?l2), "en")) }}
          BIND (COALESCE(?l1, ?l2, STR(?item)) AS ?label)
        }} ORDER BY LCASE(STR(?label))"""
    try:
        rows = current_app.config["KG_BACKEND"].select(text)
    except BackendError:  # the form still works without the list: the field becomes a text box
        return None
    return [(r["item"]["value"], r["label"]["value"]) for r in rows]


def _label_lang(query: NamedQuery) -> str:
    """The language asked for the labels, for the choices too; English when none or not a tag."""
    p = query.param("lang")
    if p is None:
        return "en"
    try:
        return p.term(request.args.get("lang") or p.default or "en").value
    except ParameterError:
        return "en"
