"""Validation reports for people and machines: a registry of renderers keyed by format name.

Every renderer is `render_X(report, *, color, fail_on, files) -> str`:
  report   the Report (SHACL results and the extra checks' results, sorted by file and line)
  color    whether to use ANSI colours (only `text` does)
  fail_on  the gate, 'violation' or 'warning': the verdict, and JUnit's failures, follow it
  files    the source files that were validated (display paths), so formats that list what passed can
Each format also renders the error that stopped a run (ERROR_RENDERERS: a syntax error, a missing file, an
inconsistent KG), so a CI system reading a report file learns why the run stopped instead of finding an empty or
stale file.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from itertools import groupby

from rdflib import Graph

from typing import TYPE_CHECKING

from kg.errors import KGError, SourceSyntaxError
from kg.namespaces import BASE, PREFIXES, compact

if TYPE_CHECKING:  # importing kg.validation.shacl loads pyshacl; the CLI reads this registry before it knows it validates
    from kg.validation.results import Report, Result

COLORS = {"Violation": "\033[31m", "Warning": "\033[33m", "Info": "\033[36m"}
RESET, BOLD = "\033[0m", "\033[1m"
NO_FILE = "(no file: inferred or external node)"


def short(iri: str) -> str:
    return compact(iri) or iri


def verdict(report: Report, fail_on: str = "violation") -> str:
    """The last line of a report: what the run decided, and the counts by severity."""
    if not report.conforms:
        decided = "does not conform"
    elif report.fails(fail_on):
        decided = "conforms, but warnings fail this run (--fail-on warning)"
    else:
        decided = "conforms"
    return f"{decided}: {report.summary()}"


def place(r: Result) -> str:
    """file:line (file:line:column for a literal), or the file alone when the line is unknown, or '-' for a node
    no file describes."""
    if r.file and r.line:
        return f"{r.file}:{r.line}:{r.column}" if r.column else f"{r.file}:{r.line}"
    return r.file or "-"


def details(r: Result) -> list[str]:
    """What a result is about, one fact a line: node (with its label), path, value, shape (component)."""
    label = f' "{r.label}"' if r.label else ""
    lines = [f"node  {short(r.focus)}{label}"]
    if r.path:
        lines.append(f"path  {short(r.path)}")
    if r.value:
        lines.append(f"value {short(r.value)}")
    lines.append(f"shape {short(r.shape)} ({r.component})")
    return lines


def _shape_name(r: Result) -> str:
    """The shape's or check's local name: Project-oneCoordinator, dangling-iri."""
    return r.shape.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1] or r.shape


def _fails(r: Result, fail_on: str) -> bool:
    return r.severity == "Violation" or (fail_on == "warning" and r.severity == "Warning")


#################################################################
# text: for people, grouped by file, coloured on a terminal
#################################################################


def render_text(report: Report, *, color: bool = False, fail_on: str = "violation", files: Sequence[str] = ()) -> str:
    """for people: results grouped by file as file:line, severity, message, node, path, value, shape (default)"""
    paint = (lambda s, c: f"{c}{s}{RESET}") if color else (lambda s, c: s)
    out = []
    for file, results in groupby(report.results, key=lambda r: r.file):
        out.append(paint(file or NO_FILE, BOLD))
        for r in results:
            out.append(f"  {place(r)}: {paint(r.severity.lower(), COLORS.get(r.severity, ''))}: {r.message}")
            out.extend(f"      {line}" for line in details(r))
    out.append(verdict(report, fail_on))
    return "\n".join(out) + "\n"


#################################################################
# json: every field of every result
#################################################################


def render_json(report: Report, *, color: bool = False, fail_on: str = "violation", files: Sequence[str] = ()) -> str:
    """every field of every result, the counts by severity and the verdict"""
    doc = {
        "conforms": report.conforms,
        "passed": not report.fails(fail_on),
        "counts": {s.lower(): report.count(s) for s in ("Violation", "Warning", "Info")},
        "results": [
            {
                "file": r.file,
                "line": r.line,
                "column": r.column,
                "severity": r.severity,
                "focus": r.focus,
                "label": r.label,
                "path": r.path,
                "value": r.value,
                "shape": r.shape,
                "component": r.component,
                "message": r.message,
            }
            for r in report.results
        ],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def error_json(error: KGError) -> str:
    doc = {"conforms": None, "passed": False, "error": _error_fields(error), "counts": None, "results": []}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


#################################################################
# junit: JUnit XML, as Jenkins, GitLab, Azure and the GitHub test-report actions read it
#################################################################
# One <testsuite> per validated file (its name and `file` attribute: the file's path); one <testcase> per
# (focus node, shape) with results, named "<node> <shape>" (no line number, so a CI system's history of a test
# survives edits elsewhere in the file), classname the path as dotted name (data.projects.conet). A file
# without results gets one passing testcase, "conforms", so a clean run still reports what it checked.
# A result that fails the run (a violation; a warning with --fail-on warning) is a <failure> whose type is the
# severity, whose message is the shape's message and whose text begins "file:line: severity: message" as a
# compiler's would; a warning or info that does not fail the run leaves its testcase passing, written in the
# testcase's <system-out>, where a reader of the test report still finds it. An input error (exit 2) is an
# <error> in a testcase "read input". Valid against the JUnit schema of Jenkins' xUnit plugin, which has no
# file or line attribute on a testcase (tests/fixtures/junit/junit-10.xsd); GitHub annotations come from
# --format github.


def render_junit(report: Report, *, color: bool = False, fail_on: str = "violation", files: Sequence[str] = ()) -> str:
    """JUnit XML: a testsuite per file, a testcase per node and shape, failures as --fail-on decides"""
    by_file: dict[str, list[Result]] = {f: [] for f in files}
    for r in report.results:
        by_file.setdefault(r.file, []).append(r)
    root = ET.Element("testsuites", name="kg validate")
    total_tests = total_failures = 0
    for file in sorted(by_file, key=lambda f: (f == "", f)):
        results = by_file[file]
        suite = ET.SubElement(root, "testsuite", name=file or NO_FILE)
        if file:
            suite.set("file", file)
        cases: dict[tuple[str, str], list[Result]] = {}
        for r in results:  # in report order: by line, then node
            cases.setdefault((r.focus, r.shape), []).append(r)
        tests = failures = 0
        for (focus, _), case_results in cases.items():
            first = case_results[0]
            case = ET.SubElement(suite, "testcase", name=f"{short(focus)} {_shape_name(first)}", classname=_classname(file))
            body = "\n\n".join(_block(r) for r in case_results)
            if any(_fails(r, fail_on) for r in case_results):
                more = f" (and {len(case_results) - 1} more)" if len(case_results) > 1 else ""
                failure = ET.SubElement(case, "failure", type=first.severity, message=first.message + more)
                failure.text = body
                failures += 1
            else:
                ET.SubElement(case, "system-out").text = body
            tests += 1
        if tests == 0:
            ET.SubElement(suite, "testcase", name="conforms", classname=_classname(file))
            tests = 1
        suite.set("tests", str(tests))
        suite.set("failures", str(failures))
        suite.set("errors", "0")
        suite.set("skipped", "0")
        total_tests += tests
        total_failures += failures
    root.set("tests", str(total_tests))
    root.set("failures", str(total_failures))
    root.set("errors", "0")
    return _xml(root)


def error_junit(error: KGError) -> str:
    fields = _error_fields(error)
    file = fields["file"] or ""
    root = ET.Element("testsuites", name="kg validate", tests="1", failures="0", errors="1")
    suite = ET.SubElement(root, "testsuite", name=file or "kg validate", tests="1", failures="0", errors="1", skipped="0")
    case = ET.SubElement(suite, "testcase", name="read input", classname=_classname(file) if file else "kg.validation.shacl")
    if file:
        suite.set("file", file)
    err = ET.SubElement(case, "error", type=fields["kind"], message=fields["message"])
    err.text = str(error)
    return _xml(root)


def _block(r: Result) -> str:
    return "\n".join([f"{place(r)}: {r.severity.lower()}: {r.message}", *(f"  {line}" for line in details(r))])


def _classname(file: str) -> str:
    """data/projects/conet.ttl -> data.projects.conet: CI systems split a classname on dots into package and class."""
    if not file:
        return "no-file"
    stem = file.rsplit(".", 1)[0] if "." in file.rsplit("/", 1)[-1] else file
    return stem.replace("\\", "/").strip("/").replace("/", ".")


def _xml(root: ET.Element) -> str:
    for element in root.iter():  # XML 1.0 cannot carry most control characters, even escaped
        element.text = _xml_safe(element.text)
        for key, value in element.attrib.items():
            element.set(key, _xml_safe(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_safe(text: str | None) -> str | None:
    return _NOT_XML.sub(lambda m: f"\\u{ord(m.group()):04x}", text) if text else text


#################################################################
# github: workflow commands that GitHub Actions shows as annotations on the file and line
#################################################################
# ::error file=F,line=L,title=T::message  (violation), ::warning (warning), ::notice (info).
# Escaping as GitHub's toolkit does (@actions/core, command.ts): in the message %, CR and LF; in property
# values also ':' and ','. File paths are relative to the current folder: run `kg validate` from the
# repository root so they match the files of the pull request.

GITHUB_LEVELS = {"Violation": "error", "Warning": "warning", "Info": "notice"}


def escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(s: str) -> str:
    return escape_data(s).replace(":", "%3A").replace(",", "%2C")


def github_command(level: str, message: str, **properties) -> str:
    props = ",".join(f"{k}={escape_property(str(v))}" for k, v in properties.items() if v not in (None, "", 0))
    return f"::{level}{' ' + props if props else ''}::{escape_data(message)}"


def render_github(report: Report, *, color: bool = False, fail_on: str = "violation", files: Sequence[str] = ()) -> str:
    """GitHub Actions workflow commands: an annotation on the file and line of each result"""
    out = []
    for r in report.results:
        title = f"{_shape_name(r)} ({r.severity.lower()})"
        message = "\n".join([r.message, *details(r)])
        out.append(github_command(GITHUB_LEVELS.get(r.severity, "warning"), message, file=r.file, line=r.line, col=r.column, title=title))
    out.append(verdict(report, fail_on))  # a plain line: the run's log shows it as it is
    return "\n".join(out) + "\n"


def error_github(error: KGError) -> str:
    fields = _error_fields(error)
    return github_command("error", fields["message"], file=fields["file"], line=fields["line"], col=fields["column"], title=f"kg validate: {fields['kind']}") + "\n"


#################################################################
# turtle: the raw SHACL validation report, the extra checks' results included
#################################################################


def render_turtle(report: Report, *, color: bool = False, fail_on: str = "violation", files: Sequence[str] = ()) -> str:
    """the raw SHACL validation report (sh:ValidationReport), the extra checks' results included"""
    graph = Graph()
    for prefix in ("sh", "rdf", "rdfs", "xsd", "ckg", *(p for p, ns in PREFIXES.items() if ns.startswith(BASE + "id/"))):
        graph.bind(prefix, PREFIXES[prefix])
    graph.bind("ckgsh", BASE + "shapes/")
    graph.bind("ckgcheck", BASE + "checks/")
    graph.bind("wd", "http://www.wikidata.org/entity/")
    for triple in report.graph:
        graph.add(triple)
    return graph.serialize(format="turtle")


#################################################################
# the registries
#################################################################

def error_text(error: KGError) -> str:
    return f"error: {error}\n"


def error_turtle(error: KGError) -> str:
    # No report can be made: an empty graph, and the reason as a comment for whoever opens the file.
    return "".join(f"# {line}\n" for line in f"kg validate: error: {error}".splitlines())


RENDERERS = {"text": render_text, "json": render_json, "junit": render_junit, "github": render_github, "turtle": render_turtle}
ERROR_RENDERERS = {"text": error_text, "json": error_json, "junit": error_junit, "github": error_github, "turtle": error_turtle}


def render(report: Report, fmt: str, color: bool = False, fail_on: str = "violation", files: Sequence[str] = ()) -> str:
    return RENDERERS[fmt](report, color=color, fail_on=fail_on, files=files)


def render_error(error: KGError, fmt: str) -> str:
    """What a run that stopped on `error` (exit 2, or an inconsistent KG) writes in `fmt` instead of a report."""
    return ERROR_RENDERERS[fmt](error)


def describe(fmt: str) -> str:
    """One line about a format, for --help: the first line of its renderer's docstring."""
    return (RENDERERS[fmt].__doc__ or "").strip().splitlines()[0]


def _error_fields(error: KGError) -> dict:
    if isinstance(error, SourceSyntaxError):
        file, line, column = error.path, error.line, error.column
    else:  # an input error names the path it could not read; other errors have no place
        file = error.where if error.where and not error.where.startswith("-") else None
        line = column = None
    kind = "syntax error" if isinstance(error, SourceSyntaxError) else ("input error" if error.exit_code == 2 else "error")
    return {"kind": kind, "file": file, "line": line, "column": column, "message": error.message, "exit_code": error.exit_code}
