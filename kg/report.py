"""Validation reports for people and machines: a registry of renderers keyed by format name."""

from __future__ import annotations

import json
from itertools import groupby

from .namespaces import PREFIXES
from .validate import Report

COLORS = {"Violation": "\033[31m", "Warning": "\033[33m", "Info": "\033[36m"}
RESET, BOLD = "\033[0m", "\033[1m"


def short(iri: str) -> str:
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and len(iri) > len(ns):
            return f"{prefix}:{iri[len(ns):]}"
    return iri


def render_text(report: Report, color: bool = False, fail_on: str = "violation") -> str:
    paint = (lambda s, c: f"{c}{s}{RESET}") if color else (lambda s, c: s)
    out = []
    for file, results in groupby(report.results, key=lambda r: r.file):
        out.append(paint(file or "(no file: inferred or external node)", BOLD))
        for r in results:
            place = f"{file}:{r.line}" if file and r.line else (file or "-")
            label = f' "{r.label}"' if r.label else ""
            out.append(f"  {place}: {paint(r.severity.lower(), COLORS.get(r.severity, ''))}: {r.message}")
            out.append(f"      node  {short(r.focus)}{label}")
            if r.path:
                out.append(f"      path  {short(r.path)}")
            if r.value:
                out.append(f"      value {short(r.value)}")
            out.append(f"      shape {short(r.shape)} ({r.component})")
    if not report.conforms:
        verdict = "does not conform"
    elif report.fails(fail_on):
        verdict = "conforms, but warnings fail this run (--fail-on warning)"
    else:
        verdict = "conforms"
    out.append(f"{verdict}: {report.summary()}")
    return "\n".join(out) + "\n"


def render_json(report: Report, color: bool = False, fail_on: str = "violation") -> str:
    doc = {
        "conforms": report.conforms,
        "passed": not report.fails(fail_on),
        "counts": {s.lower(): report.count(s) for s in ("Violation", "Warning", "Info")},
        "results": [
            {
                "file": r.file,
                "line": r.line,
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


RENDERERS = {"text": render_text, "json": render_json}


def render(report: Report, fmt: str, color: bool = False, fail_on: str = "violation") -> str:
    return RENDERERS[fmt](report, color=color, fail_on=fail_on)
