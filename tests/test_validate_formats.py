"""`kg validate` as the gate of a CI pipeline: the real data broken in many ways, each run checked for its exit
code, and for the file, line, node, shape, severity and message of every expected result in every output
format (text, json, junit, github, turtle); the JUnit against a published JUnit schema; input that cannot be
read (data, a given file, shapes, ontology; Turtle, TriG, N-Triples, JSON-LD) exits 2 naming file:line:column.

Most runs call `kg.cli.main` in this process, writing the four machine formats with -o beside the text on
standard output (one validation per case; start-up would dominate otherwise). The real command runs as a
subprocess once per format, on standard output, with the same expectations.
"""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import xmlschema
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SH

from kg import cli
from kg.validation.checks import CHECKS
from kg.config import ROOT
from kg.namespaces import PREFIXES, SHAPES
from kg.validation.formats import escape_data, escape_property, github_command, render
from kg.validation.results import Report, Result

from .conftest import FIXTURES

FORMATS = ("text", "json", "junit", "github", "turtle")
MACHINE_FORMATS = FORMATS[1:]
JUNIT_SCHEMA = xmlschema.XMLSchema(FIXTURES / "junit" / "junit-10.xsd")
CHECK_FIXTURES = FIXTURES / "invalid-checks"


#################################################################
# What a case expects, and how each format is read back
#################################################################


def iri(name: str) -> str:
    """project:conet -> https://w3id.org/cohesion-kg/id/project/conet; an IRI written whole stays as it is"""
    if name.startswith("https://"):
        return name
    prefix, local = name.split(":", 1)
    return PREFIXES[prefix] + local


@dataclass(frozen=True)
class Expect:
    """One result a run must report: where (file, and the node whose line is looked up), what and how bad."""

    file: str  # as displayed: relative to the folder the command runs in
    focus: str  # prefixed name
    shape: str  # full IRI of the shape, SPARQL constraint or check
    severity: str  # Violation, Warning
    message: str  # a part of the message
    value: str | None = None  # a part of the value, as the json report shows it

    @property
    def local(self) -> str:
        return self.shape.rsplit("/", 1)[-1]


def shape(name: str) -> str:
    return str(SHAPES[name])


def check(name: str) -> str:
    return str(CHECKS[name])


def line_of(path: Path, focus: str) -> int:
    """The line where `focus` (a prefixed name or <IRI>) begins a statement: where a curator would look."""
    forms = (focus, f"<{iri(focus)}>")
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        stripped = line.lstrip()
        if any(re.match(rf"{re.escape(f)}(\s|$)", stripped) for f in forms):
            return number
    raise AssertionError(f"{focus} does not begin a statement in {path}")


@dataclass
class Run:
    code: int
    outputs: dict[str, str]  # format -> what it wrote
    stderr: str
    cwd: Path
    fail_on: str = "violation"


GITHUB_COMMAND = re.compile(r"^::(?P<level>error|warning|notice)(?: (?P<props>[^:]*))?::(?P<message>.*)$")


def unescape_data(s: str) -> str:
    return s.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def unescape_property(s: str) -> str:
    return unescape_data(s.replace("%3A", ":").replace("%2C", ","))


def github_annotations(text: str) -> list[dict]:
    found = []
    for line in text.splitlines():
        m = GITHUB_COMMAND.match(line)
        if m:
            props = dict(p.split("=", 1) for p in m["props"].split(",")) if m["props"] else {}
            found.append({"level": m["level"], **{k: unescape_property(v) for k, v in props.items()}, "message": unescape_data(m["message"])})
    return found


def junit_tree(text: str) -> ET.Element:
    JUNIT_SCHEMA.validate(text)  # raises with the reason when the XML does not fit the schema
    return ET.fromstring(text)


def assert_reported(run: Run, e: Expect) -> None:
    """`e` is in every format the run wrote, at the file and line where its node is described."""
    line = line_of(run.cwd / e.file, e.focus)
    fails = e.severity == "Violation" or run.fail_on == "warning"
    for fmt, text in run.outputs.items():
        CHECKERS[fmt](text, e, line, fails)


def _text(text: str, e: Expect, line: int, fails: bool) -> None:
    pattern = rf"^  {re.escape(e.file)}:{line}: {e.severity.lower()}: .*{re.escape(e.message)}.*\n(      .*\n)*?      node  {re.escape(e.focus)}\b"
    assert re.search(pattern, text, re.M), f"text: no {e} at line {line} in\n{text}"
    assert re.search(rf"^      shape {re.escape(e.shape)} \(", text, re.M), text


def _json(text: str, e: Expect, line: int, fails: bool) -> None:
    results = json.loads(text)["results"]
    hits = [
        r for r in results
        if r["file"] == e.file and r["line"] == line and r["focus"] == iri(e.focus) and r["shape"] == e.shape
        and r["severity"] == e.severity and e.message in r["message"] and (e.value is None or e.value in r["value"])
    ]
    assert hits, f"json: no {e} at line {line} in {json.dumps(results, indent=1, ensure_ascii=False)}"
    assert hits[0]["label"], "the node's label is given"


def _junit(text: str, e: Expect, line: int, fails: bool) -> None:
    root = junit_tree(text)
    suites = [s for s in root.iter("testsuite") if s.get("name") == e.file]
    assert len(suites) == 1, f"junit: one testsuite for {e.file}"
    suite = suites[0]
    assert suite.get("file") == e.file
    cases = [c for c in suite.iter("testcase") if c.get("name") == f"{e.focus} {e.local}"]
    assert len(cases) == 1, f"junit: one testcase '{e.focus} {e.local}' in {e.file}:\n{text}"
    case = cases[0]
    assert case.get("classname") == e.file.rsplit(".", 1)[0].replace("/", ".")
    failure, out = case.find("failure"), case.find("system-out")
    if fails:
        assert failure is not None, f"junit: {e} should fail its testcase"
        assert failure.get("type") == e.severity and e.message in failure.get("message")
        body = failure.text
    else:
        assert failure is None and out is not None, f"junit: {e} should pass with the warning in system-out"
        body = out.text
    assert re.search(rf"^{re.escape(e.file)}:{line}: {e.severity.lower()}: .*{re.escape(e.message)}", body, re.M), body
    # The counts are those of the elements.
    testcases = list(suite.iter("testcase"))
    assert int(suite.get("tests")) == len(testcases)
    assert int(suite.get("failures")) == sum(1 for c in testcases if c.find("failure") is not None)
    assert int(root.get("tests")) == len(list(root.iter("testcase")))
    assert int(root.get("failures")) == len(list(root.iter("failure")))


def _github(text: str, e: Expect, line: int, fails: bool) -> None:
    level = {"Violation": "error", "Warning": "warning"}[e.severity]
    hits = [
        a for a in github_annotations(text)
        if a["level"] == level and a.get("file") == e.file and a.get("line") == str(line)
        and a.get("title", "").startswith(e.local) and e.message in a["message"] and e.focus in a["message"]
    ]
    assert hits, f"github: no {level} for {e} at line {line} in\n{text}"


def _turtle(text: str, e: Expect, line: int, fails: bool) -> None:
    g = Graph().parse(data=text, format="turtle")
    (report,) = g.subjects(RDF.type, SH.ValidationReport)
    conforms = g.value(report, SH.conforms)
    if e.severity == "Violation":
        assert conforms == Literal(False)
    shape_iri = URIRef(e.shape)
    hits = [
        r for r in g.objects(report, SH.result)
        if g.value(r, SH.focusNode) == URIRef(iri(e.focus))
        and shape_iri in (g.value(r, SH.sourceShape), g.value(r, SH.sourceConstraint))
        and g.value(r, SH.resultSeverity) == SH[e.severity]
        and any(e.message in str(m) for m in g.objects(r, SH.resultMessage))
        and (r, RDF.type, SH.ValidationResult) in g
    ]
    assert hits, f"turtle: no sh:ValidationResult for {e} in\n{text}"


CHECKERS = {"text": _text, "json": _json, "junit": _junit, "github": _github, "turtle": _turtle}


def assert_verdict(run: Run, conforms: bool, violations: int | None = None) -> None:
    """The summary line (text and github) and the machine verdicts agree with the exit code."""
    counts = json.loads(run.outputs["json"])["counts"] if "json" in run.outputs else None
    for fmt in ("text", "github"):
        if fmt in run.outputs:
            last = run.outputs[fmt].rstrip("\n").splitlines()[-1]
            assert re.fullmatch(r"(does not conform|conforms|conforms, but warnings fail this run \(--fail-on warning\)): \d+ violations?, \d+ warnings?, \d+ info", last), last
            assert last.startswith("conforms") == conforms
    if "json" in run.outputs:
        doc = json.loads(run.outputs["json"])
        assert doc["conforms"] == conforms and doc["passed"] == (run.code == 0)
        if violations is not None:
            assert counts["violation"] == violations
    if "turtle" in run.outputs:
        g = Graph().parse(data=run.outputs["turtle"], format="turtle")
        assert g.value(next(g.subjects(RDF.type, SH.ValidationReport)), SH.conforms) == Literal(conforms)


#################################################################
# Running the command
#################################################################


@pytest.fixture()
def run_kg(monkeypatch, capsys, tmp_path):
    """`kg validate ARGS` in this process, in folder `cwd`, with KG_* variables from `env`: text on standard
    output, the other formats through -o files."""

    def run(*args: str, cwd: Path, env: dict | None = None, fail_on: str = "violation") -> Run:
        for name in ("KG_DATA", "KG_SHAPES", "KG_ONTOLOGY"):
            monkeypatch.delenv(name, raising=False)
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)
        monkeypatch.chdir(cwd)
        reports = tmp_path / "reports"
        files = {fmt: reports / f"report.{fmt}" for fmt in MACHINE_FORMATS}
        outputs = [a for fmt, path in files.items() for a in ("-o", f"{fmt}={path}")]
        capsys.readouterr()
        code = cli.main(["validate", *args, "--fail-on", fail_on, *outputs])
        captured = capsys.readouterr()
        written = {fmt: path.read_text(encoding="utf-8") for fmt, path in files.items() if path.exists()}
        return Run(code, {"text": captured.out, **written}, captured.err, cwd, fail_on)

    return run


@pytest.fixture()
def data_copy(tmp_path) -> Path:
    """A copy of data/ in tmp_path/data; commands run in tmp_path, so files show as data/..."""
    shutil.copytree(ROOT / "data", tmp_path / "data")
    return tmp_path


def edit(root: Path, file: str, old: str, new: str) -> None:
    path = root / file
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} is not once in {file}"
    path.write_text(text.replace(old, new), encoding="utf-8")


#################################################################
# The real data, broken one way at a time
#################################################################

CONET, CITIES, COUNTRIES, ORGANISATIONS = "data/projects/conet.ttl", "data/places/cities.ttl", "data/places/countries.ttl", "data/organisations.ttl"

SECOND_MUNICIPALITY_OF_PALERMO = """
organisation:palermo-municipality
    a ckg:Municipality ;
    rdfs:label "City of  PALERMO"@en , "Comune di Palermo (doppione)"@it ;
    ckg:nativeName "Comune di Palermo"@it ;
    ckg:basedIn city:palermo ;
    ckg:country country:it ;
    dct:source source:seed000 .
"""


@dataclass(frozen=True)
class Case:
    id: str
    edits: tuple[tuple[str, str, str], ...]  # (file, old text, new text)
    expect: tuple[Expect, ...]
    exit: int
    fail_on: str = "violation"
    absent: tuple[str, ...] = ()  # shapes that must not fire
    args: tuple[str, ...] = field(default=())


CASES = [
    Case(
        "english-label-removed",
        ((CONET, '"CoNet\'s Guide to Social Cohesion"@en , "Guida', '"Guida'),),
        (Expect(CONET, "output:conet-guide-to-social-cohesion", shape("LabelEnglish"), "Violation", "needs an English label"),),
        exit=1,
    ),
    Case(
        "coordinator-dropped",
        ((CONET, "ckg:role role:coordinator ;", "ckg:role role:partner ;"),),
        (Expect(CONET, "project:conet", shape("Project-oneCoordinator"), "Violation", "exactly one coordinator; found 0", '"0"'),),
        exit=1,
    ),
    Case(
        "second-coordinator",
        ((CONET, "ckg:participant organisation:city-of-palermo ;\n    ckg:role role:partner ;", "ckg:participant organisation:city-of-palermo ;\n    ckg:role role:coordinator ;"),),
        (Expect(CONET, "project:conet", shape("Project-oneCoordinator"), "Violation", "exactly one coordinator; found 2", '"2"'),),
        exit=1,
    ),
    Case(
        "end-before-start",
        ((CONET, 'ckg:endDate "2011-05-20"^^xsd:date ;', 'ckg:endDate "2007-05-20"^^xsd:date ;'),),
        (Expect(CONET, "project:conet", shape("DatesInOrder"), "Violation", "ends (2007-05-20) before it starts", "2007-05-20"),),
        exit=1,
    ),
    Case(
        "dangling-link",
        ((CONET, "ckg:participant organisation:city-of-palermo ;", "ckg:participant organisation:city-of-palermmo ;"),),
        (
            Expect(CONET, "participation:conet-city-of-palermo", check("dangling-iri"), "Violation",
                   "links to organisation:city-of-palermmo, which nothing in the KG describes", "city-of-palermmo"),
            Expect(CONET, "participation:conet-city-of-palermo", check("dangling-iri"), "Violation", "did you mean organisation:city-of-palermo?"),
            Expect(CONET, "participation:conet-city-of-palermo", shape("Participation-participant"), "Violation", "exactly one participant"),
        ),
        exit=1,
    ),
    Case(
        # With OWL RL, the range of ckg:participant makes the typo an inferred ckg:Organisation, which satisfies the
        # participation's sh:class: only the dangling-IRI check, run on the asserted triples, still sees it.
        "dangling-link-owlrl",
        ((CONET, "ckg:participant organisation:city-of-palermo ;", "ckg:participant organisation:city-of-palermmo ;"),),
        (Expect(CONET, "participation:conet-city-of-palermo", check("dangling-iri"), "Violation", "links to organisation:city-of-palermmo"),),
        exit=1,
        absent=(shape("Participation-participant"),),
        args=("--inference", "owlrl"),
    ),
    Case(
        "duplicate-entity-warns",
        ((ORGANISATIONS, "\n######################################################################\n# Municipalities", SECOND_MUNICIPALITY_OF_PALERMO + "\n######################################################################\n# Municipalities"),),
        (
            Expect(ORGANISATIONS, "organisation:palermo-municipality", check("duplicate-entity"), "Warning",
                   'same English label ("City of  PALERMO") and class (ckg:Municipality) as organisation:city-of-palermo'),
            Expect(ORGANISATIONS, "organisation:city-of-palermo", check("duplicate-entity"), "Warning", "as organisation:palermo-municipality"),
        ),
        exit=0,
    ),
    Case(
        "duplicate-entity-fails-on-warning",
        ((ORGANISATIONS, "\n######################################################################\n# Municipalities", SECOND_MUNICIPALITY_OF_PALERMO + "\n######################################################################\n# Municipalities"),),
        (Expect(ORGANISATIONS, "organisation:palermo-municipality", check("duplicate-entity"), "Warning", "as organisation:city-of-palermo"),),
        exit=1,
        fail_on="warning",
    ),
    Case(
        "shared-wikidata-link",
        ((CITIES, "schema:sameAs wd:Q2656 ;", "schema:sameAs wd:Q64 ;"),),
        (
            Expect(CITIES, "city:palermo", check("shared-wikidata-link"), "Violation", "shares its Wikidata entity Q64 with city:berlin", "entity/Q64"),
            Expect(CITIES, "city:berlin", check("shared-wikidata-link"), "Violation", "shares its Wikidata entity Q64 with city:palermo", "entity/Q64"),
        ),
        exit=1,
    ),
    Case(
        "wrong-datatype",
        ((CONET, 'ckg:acronym "CoNet" ;', 'ckg:acronym "CoNet"@en ;'),),
        (Expect(CONET, "project:conet", shape("Project-acronym"), "Violation", "exactly one acronym (plain string)", '"CoNet"@en'),),
        exit=1,
    ),
    Case(
        "italian-label-missing-warns",
        ((CONET, '"CoNet partner meeting in Palermo"@en , "Incontro dei partner CoNet a Palermo"@it ;', '"CoNet partner meeting in Palermo"@en ;'),),
        (Expect(CONET, "event:conet-palermo-partner-meeting", shape("LabelItalian"), "Warning", "should have an Italian label"),),
        exit=0,
    ),
    Case(
        "participation-not-listed",
        ((CONET, "participation:conet-cesie ,\n        participation:conet-weeber-partner ;", "participation:conet-cesie ;"),),
        (Expect(CONET, "participation:conet-weeber-partner", shape("Participation-listed"), "Violation", "does not list this participation"),),
        exit=1,
    ),
    Case(
        "country-code-lower-case",
        ((COUNTRIES, 'ckg:iso3166Alpha2 "AL" ;', 'ckg:iso3166Alpha2 "al" ;'),),
        (Expect(COUNTRIES, "country:al", shape("Country-alpha2"), "Violation", "two capital letters", '"al"'),),
        exit=1,
    ),
    Case(
        "source-removed",
        ((CONET, "    ckg:location city:palermo ;\n    dct:source source:p-cesie-conet-palermo .", "    ckg:location city:palermo ."),),
        (Expect(CONET, "event:conet-palermo-partner-meeting", shape("Source"), "Violation", "must cite at least one source document"),),
        exit=1,
    ),
    Case(
        "wikidata-web-page-instead-of-entity",
        ((CITIES, "schema:sameAs wd:Q64 ;", "schema:sameAs <https://www.wikidata.org/wiki/Q64> ;"),),
        (Expect(CITIES, "city:berlin", shape("WikidataLink"), "Violation", "at most one Wikidata entity IRI", "wiki/Q64"),),
        exit=1,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_broken_data_is_reported_in_every_format(run_kg, data_copy, case):
    for file, old, new in case.edits:
        edit(data_copy, file, old, new)
    run = run_kg(*case.args, cwd=data_copy, env={"KG_DATA": str(data_copy / "data")}, fail_on=case.fail_on)
    assert run.code == case.exit, run.outputs["text"] + run.stderr
    assert set(run.outputs) == set(FORMATS)
    for e in case.expect:
        assert_reported(run, e)
    results = json.loads(run.outputs["json"])["results"]
    for absent in case.absent:
        assert not [r for r in results if r["shape"] == absent], f"{absent} should not fire"
    violations = any(e.severity == "Violation" for e in case.expect)
    assert_verdict(run, conforms=not violations)
    assert "Traceback" not in run.stderr


def test_the_real_data_passes_in_every_format(run_kg):
    run = run_kg(cwd=ROOT, fail_on="warning")
    assert run.code == 0, run.outputs["text"]
    assert_verdict(run, conforms=True, violations=0)
    assert json.loads(run.outputs["json"])["results"] == []
    assert not github_annotations(run.outputs["github"])
    # A clean run still tells a CI system what it checked: one passing testcase per data file.
    root = junit_tree(run.outputs["junit"])
    data_files = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "data").rglob("*.ttl"))
    assert sorted(s.get("name") for s in root.iter("testsuite")) == data_files
    assert root.get("failures") == "0" and root.get("tests") == str(len(data_files))


#################################################################
# One fixture per extra check, validated with the KG as context (as a pull request's new file is)
#################################################################

CHECK_CASES = {
    "dangling-iri": (
        1, "violation",
        [Expect("tests/fixtures/invalid-checks/dangling-iri.ttl", "event:fixture-cocity-turin-meeting", check("dangling-iri"), "Violation",
                "links to city:turn, which nothing in the KG describes (no triple has it as subject); did you mean city:turin?", "city/turn")],
    ),
    "duplicate-entity": (
        1, "warning",
        [Expect("tests/fixtures/invalid-checks/duplicate-entity.ttl", "organisation:comune-di-torino", check("duplicate-entity"), "Warning",
                'has the same English label ("City of  turin") and class (ckg:Municipality) as organisation:city-of-turin'),
         Expect("data/organisations.ttl", "organisation:city-of-turin", check("duplicate-entity"), "Warning", "as organisation:comune-di-torino")],
    ),
    "shared-wikidata-link": (
        1, "violation",
        [Expect("tests/fixtures/invalid-checks/shared-wikidata-link.ttl", "city:fixture-torino", check("shared-wikidata-link"), "Violation",
                "shares its Wikidata entity Q495 with city:turin", "entity/Q495"),
         Expect("data/places/cities.ttl", "city:turin", check("shared-wikidata-link"), "Violation", "with city:fixture-torino")],
    ),
}


def test_every_check_has_a_failing_fixture():
    from kg.validation.checks import ALL

    assert sorted(c.name for c in ALL) == sorted(CHECK_CASES) == sorted(p.stem for p in CHECK_FIXTURES.glob("*.ttl"))


@pytest.mark.parametrize("name", sorted(CHECK_CASES))
def test_check_fires_on_its_fixture_in_every_format(run_kg, name):
    code, fail_on, expected = CHECK_CASES[name]
    run = run_kg(f"tests/fixtures/invalid-checks/{name}.ttl", cwd=ROOT, fail_on=fail_on)
    assert run.code == code, run.outputs["text"]
    for e in expected:
        assert_reported(run, e)
    # Only the fixture's own problem: the rest of the KG, loaded as context, is clean.
    shapes = {r["shape"] for r in json.loads(run.outputs["json"])["results"]}
    assert check(name) in shapes and shapes <= {check(name), shape("Event-location")}


#################################################################
# Every shape's fixture, all at once, in every format
#################################################################


def test_every_shape_fixture_is_reported_in_every_format(run_kg):
    """The 48 shape fixtures validated in one run (with the KG as context): each fixture's shape fires on its file
    in every format. Which node fires is read from the json report; everything else must agree with it."""
    from .test_shapes import shape_names, warning_shapes

    run = run_kg("tests/fixtures/invalid/", cwd=ROOT, fail_on="warning")
    assert run.code == 1
    results = json.loads(run.outputs["json"])["results"]
    warnings = warning_shapes()
    checked = 0
    for name in shape_names():
        file = f"tests/fixtures/invalid/{name}.ttl"
        severity = "Warning" if name in warnings else "Violation"
        fired = [r for r in results if r["file"] == file and r["shape"] == shape(name)]
        assert fired, f"{name} did not fire on its fixture"
        r = fired[0]
        focus = next((f"{p}:{r['focus'][len(ns):]}" for p, ns in PREFIXES.items() if r["focus"].startswith(ns) and p != "id"),
                     r["focus"])  # an IRI of a kind without a prefix (a geometry) is written whole
        assert_reported(run, Expect(file, focus, shape(name), severity, r["message"]))
        checked += 1
    assert checked >= 48


#################################################################
# Other RDF syntaxes as input: the file and line of the node
#################################################################

PREFIXES_TTL = """@prefix ckg: <https://w3id.org/cohesion-kg/ontology/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix output: <https://w3id.org/cohesion-kg/id/output/> .
@prefix project: <https://w3id.org/cohesion-kg/id/project/> .
@prefix source: <https://w3id.org/cohesion-kg/id/source/> .
"""
OUTPUT = "https://w3id.org/cohesion-kg/id/output/fixture-italian-only"
NEW_FILES = {
    "new.trig": PREFIXES_TTL + """
<https://w3id.org/cohesion-kg/graph/external/new> {
    output:fixture-italian-only
        a ckg:Output ;
        rdfs:label "Solo in italiano"@it ;
        ckg:outputOf project:conet ;
        dct:source source:seed001 .
}
""",
    "new.nt": "\n".join(
        f"<{OUTPUT}> {p} {o} ."
        for p, o in (
            ("<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>", "<https://w3id.org/cohesion-kg/ontology/Output>"),
            ("<http://www.w3.org/2000/01/rdf-schema#label>", '"Solo in italiano"@it'),
            ("<https://w3id.org/cohesion-kg/ontology/outputOf>", "<https://w3id.org/cohesion-kg/id/project/conet>"),
            ("<http://purl.org/dc/terms/source>", "<https://w3id.org/cohesion-kg/id/source/seed001>"),
        )
    ) + "\n",
    "new.jsonld": json.dumps(
        {
            "@context": {"ckg": "https://w3id.org/cohesion-kg/ontology/", "rdfs": "http://www.w3.org/2000/01/rdf-schema#", "dct": "http://purl.org/dc/terms/"},
            "@id": OUTPUT,
            "@type": "ckg:Output",
            "rdfs:label": {"@value": "Solo in italiano", "@language": "it"},
            "ckg:outputOf": {"@id": "https://w3id.org/cohesion-kg/id/project/conet"},
            "dct:source": {"@id": "https://w3id.org/cohesion-kg/id/source/seed001"},
        },
        indent=2,
    ),
}


@pytest.mark.parametrize("name", sorted(NEW_FILES))
def test_other_rdf_syntaxes_are_validated_with_the_kg_as_context(run_kg, tmp_path, name):
    (tmp_path / name).write_text(NEW_FILES[name], encoding="utf-8")
    run = run_kg(name, cwd=tmp_path, env={"KG_DATA": str(ROOT / "data")})
    assert run.code == 1, run.outputs["text"] + run.stderr
    results = [r for r in json.loads(run.outputs["json"])["results"] if r["shape"] == shape("LabelEnglish")]
    assert [(r["file"], r["focus"]) for r in results] == [(name, OUTPUT)]
    if name == "new.jsonld":
        return  # JSON-LD: the file is named, but the line finder reads Turtle-like files only (line 0)
    assert_reported(run, Expect(name, "output:fixture-italian-only", shape("LabelEnglish"), "Violation", "needs an English label"))


#################################################################
# The real command, once per format, on standard output
#################################################################


@pytest.fixture(scope="module")
def two_coordinators(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("two-coordinators")
    shutil.copytree(ROOT / "data", root / "data")
    edit(root, CONET, "ckg:participant organisation:city-of-palermo ;\n    ckg:role role:partner ;", "ckg:participant organisation:city-of-palermo ;\n    ckg:role role:coordinator ;")
    edit(root, CITIES, "schema:sameAs wd:Q2656 ;", "schema:sameAs wd:Q64 ;")
    return root


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_command_writes_each_format_on_standard_output(kg_cmd, two_coordinators, fmt):
    done = kg_cmd("validate", "--format", fmt, cwd=two_coordinators, env={"KG_DATA": str(two_coordinators / "data")})
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stderr == ""
    run = Run(done.returncode, {fmt: done.stdout}, done.stderr, two_coordinators)
    assert_reported(run, Expect(CONET, "project:conet", shape("Project-oneCoordinator"), "Violation", "exactly one coordinator; found 2", '"2"'))
    assert_reported(run, Expect(CITIES, "city:palermo", check("shared-wikidata-link"), "Violation", "with city:berlin"))
    if fmt == "text":
        assert "\033[" not in done.stdout, "no colour when standard output is not a terminal"


def test_color_always_paints_the_text_report(kg_cmd, two_coordinators):
    done = kg_cmd("validate", "--color", "always", cwd=two_coordinators, env={"KG_DATA": str(two_coordinators / "data")})
    assert done.returncode == 1
    assert "\033[31mviolation\033[0m" in done.stdout


#################################################################
# Input that cannot be read: exit 2, file:line:column, in every format
#################################################################

BROKEN_LINE = 'ckg:Broken ckg:acronym "CoNet" "again" .\n'  # the error: a second object without a comma
BROKEN_COLUMN = BROKEN_LINE.index('"again"') + 1


def insert_broken_statement(path: Path) -> tuple[int, int]:
    """Put BROKEN_LINE before the first statement that starts at column 1; return where the parser must stop."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    at = next(i for i, l in enumerate(lines) if re.match(r"[a-z][\w-]*:[\w-]*\s*$|[a-z][\w-]*:[\w-]* a ", l))
    lines.insert(at, "\n" + BROKEN_LINE)
    path.write_text("".join(lines), encoding="utf-8")
    return at + 2, BROKEN_COLUMN


def assert_unreadable(run: Run, file: str, line: int, column: int) -> None:
    assert run.code == 2, run.outputs.get("text", "") + run.stderr
    where = f"{file}:{line}:{column}"
    assert re.search(rf"^kg: error: {re.escape(where)}: \S", run.stderr, re.M), run.stderr
    assert "Traceback" not in run.stderr
    assert run.outputs["text"] == "", "the error goes to standard error"
    doc = json.loads(run.outputs["json"])
    assert doc["passed"] is False and doc["results"] == []
    assert (doc["error"]["file"], doc["error"]["line"], doc["error"]["column"]) == (file, line, column)
    root = junit_tree(run.outputs["junit"])
    errors = list(root.iter("error"))
    assert len(errors) == 1 and where in errors[0].text and root.get("errors") == "1"
    (annotation,) = github_annotations(run.outputs["github"])
    assert annotation["level"] == "error" and (annotation["file"], annotation["line"], annotation["col"]) == (file, str(line), str(column))
    assert len(Graph().parse(data=run.outputs["turtle"], format="turtle")) == 0 and where in run.outputs["turtle"]


@pytest.mark.parametrize(
    "variable, folder, file",
    [("KG_DATA", "data", "data/projects/conet.ttl"), ("KG_SHAPES", "shapes", "shapes/cohesion.ttl"), ("KG_ONTOLOGY", "ontology", "ontology/cohesion.ttl")],
)
def test_syntax_error_in_data_shapes_or_ontology_exits_2_with_line_and_column(run_kg, tmp_path, variable, folder, file):
    shutil.copytree(ROOT / folder, tmp_path / folder)
    line, column = insert_broken_statement(tmp_path / file)
    run = run_kg(cwd=tmp_path, env={variable: str(tmp_path / folder)})
    assert_unreadable(run, file, line, column)


BROKEN_FILES = {
    # name: (content, line, column)
    "broken.ttl": (PREFIXES_TTL + "\n" + BROKEN_LINE, 8, BROKEN_COLUMN),
    "broken.trig": (PREFIXES_TTL + "\n<https://w3id.org/cohesion-kg/graph/external/x> {\n    " + BROKEN_LINE + "}\n", 9, 4 + BROKEN_COLUMN),
    "broken.nt": (f'<{OUTPUT}> <http://www.w3.org/2000/01/rdf-schema#label> "a"@en .\n<{OUTPUT}> <http://www.w3.org/2000/01/rdf-schema#label> "b"@en junk .\n', 2, None),
    "broken.jsonld": ('{\n  "@id": "https://w3id.org/cohesion-kg/id/output/x",\n  "http://www.w3.org/2000/01/rdf-schema#label": "x"\n  "oops": 1\n}\n', 4, 3),
}


@pytest.mark.parametrize("name", sorted(BROKEN_FILES))
def test_syntax_error_in_a_given_file_exits_2_with_line_and_column(run_kg, tmp_path, name):
    content, line, column = BROKEN_FILES[name]
    (tmp_path / name).write_text(content, encoding="utf-8")
    run = run_kg(name, cwd=tmp_path, env={"KG_DATA": str(ROOT / "data")})
    if column is None:  # where on the line the parser gives up is its own affair; the line is ours
        column = json.loads(run.outputs["json"])["error"]["column"]
        assert isinstance(column, int) and column > 1
    assert_unreadable(run, name, line, column)


def test_syntax_error_from_the_command_itself(kg_cmd, tmp_path):
    (tmp_path / "broken.ttl").write_text(BROKEN_FILES["broken.ttl"][0], encoding="utf-8")
    done = kg_cmd("validate", "broken.ttl", "--format", "github", cwd=tmp_path)
    assert done.returncode == 2
    assert f"kg: error: broken.ttl:8:{BROKEN_COLUMN}: " in done.stderr
    assert done.stdout.startswith(f"::error file=broken.ttl,line=8,col={BROKEN_COLUMN},title=kg validate%3A syntax error::")


@pytest.mark.parametrize(
    "args, message",
    [
        (["validate", "no/such/file.ttl"], "no/such/file.ttl: no such file or folder"),
        (["validate", "--format", "yaml"], "invalid choice: 'yaml'"),
        (["validate", "-o", "yaml=report.yaml"], "unknown format 'yaml'"),
        (["validate", "-o", "junit"], "expected FORMAT=PATH"),
        (["validate", "--frobnicate"], "unrecognized arguments: --frobnicate"),
    ],
)
def test_unreadable_input_and_bad_usage_exit_2(monkeypatch, capsys, args, message):
    monkeypatch.chdir(ROOT)
    try:
        code = cli.main(args)
    except SystemExit as e:  # argparse's own exit for usage errors
        code = e.code
    assert code == 2
    assert message in capsys.readouterr().err


def test_missing_file_is_reported_in_machine_formats(run_kg, tmp_path):
    run = run_kg("nothing-here.ttl", cwd=tmp_path)
    assert run.code == 2
    assert json.loads(run.outputs["json"])["error"]["file"] == "nothing-here.ttl"
    assert "nothing-here.ttl: no such file or folder" in list(junit_tree(run.outputs["junit"]).iter("error"))[0].text


def test_help_documents_formats_and_exit_codes(capsys):
    with pytest.raises(SystemExit):
        cli.main(["validate", "--help"])
    text = capsys.readouterr().out
    for fmt in FORMATS:
        assert re.search(rf"^  {fmt}\s+\S", text, re.M), f"--help does not describe {fmt}"
    assert re.search(r"^  0  conforms", text, re.M) and re.search(r"^  1  violations", text, re.M)
    assert re.search(r"^  2  the input could not be read: a syntax error \(reported as file:line:column\)", text, re.M)


#################################################################
# The formats' own rules
#################################################################


def test_github_escapes_as_the_actions_toolkit_does():
    assert escape_data("100% done\r\nnext: a, b") == "100%25 done%0D%0Anext: a, b"
    assert escape_property("data/a,b:c%.ttl\n") == "data/a%2Cb%3Ac%25.ttl%0A"
    line = github_command("warning", "50%: a\nb, c", file="x, y:z.ttl", line=3, title="T: 1, 2")
    assert line == "::warning file=x%2C y%3Az.ttl,line=3,title=T%3A 1%2C 2::50%25: a%0Ab, c"
    (a,) = github_annotations(line)
    assert (a["file"], a["line"], a["title"], a["message"]) == ("x, y:z.ttl", "3", "T: 1, 2", "50%: a\nb, c")
    assert github_command("error", "no place", file="", line=0) == "::error::no place"


def _report(*results: Result) -> Report:
    return Report(sorted(results), Graph())


def _result(**overrides) -> Result:
    base = dict(file="data/x.ttl", line=3, focus=iri("project:x"), severity="Violation", path="", value="",
                shape=shape("Project-acronym"), component="MinCountConstraintComponent", message="m", label="X")
    return Result(**{**base, **overrides})


def test_junit_stays_valid_xml_with_control_characters_and_markup_in_values():
    report = _report(_result(message='bad \x01 value <b>&"quoted"</b>', value='"a\x0bb"'))
    root = junit_tree(render(report, "junit"))
    failure = next(root.iter("failure"))
    assert failure.get("message") == 'bad \\u0001 value <b>&"quoted"</b>'
    assert "\\u000b" in failure.text


def test_junit_groups_results_by_node_and_shape_and_counts_them():
    report = _report(
        _result(value='"a"', message="first"),
        _result(value='"b"', message="second", line=3),
        _result(focus=iri("project:y"), line=9, severity="Warning", shape=shape("LabelItalian"), message="warned"),
        _result(file="", line=0, focus="_:b0", message="inferred"),
    )
    for fail_on, failures in (("violation", 2), ("warning", 3)):
        root = junit_tree(render(report, "junit", fail_on=fail_on, files=["data/x.ttl", "data/clean.ttl"]))
        suites = {s.get("name"): s for s in root.iter("testsuite")}
        assert list(suites) == ["data/clean.ttl", "data/x.ttl", "(no file: inferred or external node)"]
        assert [c.get("name") for c in suites["data/clean.ttl"]] == ["conforms"]
        x = suites["data/x.ttl"]
        assert [c.get("name") for c in x] == ["project:x Project-acronym", "project:y LabelItalian"]
        first = x.find("testcase").find("failure")
        assert first.get("message") == "first (and 1 more)" and "second" in first.text
        assert (root.get("tests"), root.get("failures")) == ("4", str(failures))
