"""The filter options of a network (the same for `kg network` and /network), and the projects they select.

Every filter selects projects, and the filtered network is the co-participation network of the selected
projects only: an edge's weight is the number of selected projects its two ends shared, and a node without
any selected co-participation drops out. So weights always mean the same thing, whatever the filters.

  programme  projects funded under that level of the funding hierarchy or any level below it
  fund       the same, for a fund (a ckg:Fund, the top of the hierarchy)
  country    projects with at least one participant in that country: the country's organisations (or cities)
             and every partner they had in those projects, at home or abroad. A project's participants' countries
             are those of its organisations; a city network uses the same projects.
  from, to   projects whose period overlaps the years from..to (inclusive). A project without an end year counts
             as ending in its start year, one without a start as starting in its end year; one without either
             is left out by any period filter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kg.errors import InputError
from kg.namespaces import PREFIXES

from kg.network.lookup import Project, Vocabulary

OPTIONS = ("programme", "fund", "country", "from", "to")


class OptionError(InputError):
    """A bad filter (or other) option; `option` is its name without dashes, e.g. "from"."""

    def __init__(self, option: str, message: str):
        super().__init__(message, option)
        self.option = option


@dataclass(frozen=True)
class Filters:
    programme: str | None = None
    fund: str | None = None
    country: str | None = None
    start: int | None = None  # the `from` option
    end: int | None = None  # the `to` option

    def __bool__(self) -> bool:
        return any(v is not None for v in (self.programme, self.fund, self.country, self.start, self.end))

    def as_dict(self) -> dict:
        """Non-empty options by their option names, for a graph's attributes and for links."""
        values = {"programme": self.programme, "fund": self.fund, "country": self.country, "from": self.start, "to": self.end}
        return {k: v for k, v in values.items() if v is not None}


def parse(values: dict[str, str | None], vocabulary: Vocabulary) -> Filters:
    """Options as given (strings, None or "" when absent) -> Filters; an OptionError names the first bad one."""
    given = {k: (v.strip() if isinstance(v, str) else v) for k, v in values.items()}
    given = {k: v for k, v in given.items() if v not in (None, "")}
    programme = fund = country = None
    if "programme" in given:
        programme = iri_option(given["programme"], "programme")
        if programme not in vocabulary.funding:
            raise OptionError("programme", f"{given['programme']!r} is not a funding programme of the KG (a fund, programme or strand)")
    if "fund" in given:
        fund = iri_option(given["fund"], "fund")
        if vocabulary.funding.get(fund) != "Fund":
            raise OptionError("fund", f"{given['fund']!r} is not a fund of the KG (the top level of the funding hierarchy, e.g. programme:erdf)")
    if "country" in given:
        country = _country(given["country"], vocabulary)
    start = _year(given, "from")
    end = _year(given, "to")
    if start is not None and end is not None and start > end:
        raise OptionError("from", f"the period starts ({start}) after it ends (to {end})")
    return Filters(programme, fund, country, start, end)


def iri_option(text: str, option: str) -> str:
    """A full IRI (optionally in <>) or a prefixed name of the KG (programme:erdf)."""
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1]
    if re.match(r"^[a-z][a-z0-9+.-]*://", text, re.I):
        return text
    prefix, colon, local = text.partition(":")
    if colon and prefix in PREFIXES:
        return PREFIXES[prefix] + local
    raise OptionError(option, f"expected an IRI or a prefixed name such as programme:erdf, not {text!r}")


def _country(text: str, vocabulary: Vocabulary) -> str:
    if re.fullmatch(r"[A-Za-z]{2}", text):
        code = text.upper()
        found = [iri for iri, c in vocabulary.countries.items() if c == code]
        if not found:
            raise OptionError("country", f"no country of the KG has the ISO 3166-1 code {code}")
        return found[0]
    iri = iri_option(text, "country")
    if iri not in vocabulary.countries:
        raise OptionError("country", f"{text!r} is not a country of the KG (give an ISO 3166-1 alpha-2 code or a country IRI)")
    return iri


def _year(given: dict, option: str) -> int | None:
    if option not in given:
        return None
    text = str(given[option])
    if not re.fullmatch(r"\d{4}", text):
        raise OptionError(option, f"expected a year such as 2010, not {text!r}")
    return int(text)


def selected(projects: dict[str, Project], filters: Filters) -> set[str]:
    """The projects that pass every filter."""
    return {iri for iri, project in projects.items() if _passes(project, filters)}


def _passes(project: Project, f: Filters) -> bool:
    if f.programme is not None and f.programme not in project.levels:
        return False
    if f.fund is not None and f.fund not in project.levels:
        return False
    if f.country is not None and f.country not in project.countries:
        return False
    if f.start is not None or f.end is not None:
        first = project.start if project.start is not None else project.end
        last = project.end if project.end is not None else project.start
        if first is None:
            return False
        if f.start is not None and last < f.start:
            return False
        if f.end is not None and first > f.end:
            return False
    return True
