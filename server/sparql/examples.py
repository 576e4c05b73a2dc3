"""The example questions the query editor offers, as self-contained queries."""

from __future__ import annotations

import json
import re

from kg.namespaces import PREFIXES


def examples_json() -> str:
    """The examples as self-contained queries (PREFIX lines for what they use), JSON safe to embed in <script>."""
    out = []
    for title, body in EXAMPLES:
        used = sorted(set(re.findall(r"\b([a-z]+):", body)) & set(PREFIXES))
        prologue = "".join(f"PREFIX {p}: <{PREFIXES[p]}>\n" for p in used)
        out.append({"title": title, "query": prologue + "\n" + body})
    return json.dumps(out).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


EXAMPLES = [
    (
        "Partners of each project, with roles and countries",
        """SELECT ?project ?partner ?role ?country WHERE {
  ?participation ckg:inProject ?p ; ckg:participant ?o ; ckg:role ?r .
  ?p rdfs:label ?project . ?o rdfs:label ?partner ; ckg:country/rdfs:label ?country . ?r rdfs:label ?role .
  FILTER (lang(?project) = "en" && lang(?partner) = "en" && lang(?country) = "en" && lang(?role) = "en")
}
ORDER BY ?project ?partner""",
    ),
    (
        "Who worked with whom: co-partner pairs and shared projects",
        """SELECT ?a ?b (COUNT(DISTINCT ?project) AS ?shared) (GROUP_CONCAT(DISTINCT ?acronym; separator=", ") AS ?projects) WHERE {
  ?project ckg:hasPartner ?x , ?y ; ckg:acronym ?acronym .
  FILTER (STR(?x) < STR(?y))
  ?x rdfs:label ?a . ?y rdfs:label ?b . FILTER (lang(?a) = "en" && lang(?b) = "en")
}
GROUP BY ?a ?b
ORDER BY DESC(?shared) ?a ?b""",
    ),
    (
        "Cities that took part in more than one project",
        """SELECT ?city (COUNT(DISTINCT ?project) AS ?projects) WHERE {
  ?participation ckg:inProject ?project ; ckg:participant/ckg:basedIn ?c .
  ?c rdfs:label ?city . FILTER (lang(?city) = "en")
}
GROUP BY ?city
HAVING (COUNT(DISTINCT ?project) > 1)""",
    ),
    (
        "Projects by fund and programme",
        """SELECT ?project ?level ?fund WHERE {
  ?p ckg:fundedBy ?l ; ckg:acronym ?project .
  ?l rdfs:label ?level .
  ?l ckg:partOfProgramme* ?f . ?f a ckg:Fund ; rdfs:label ?fund .
  FILTER (lang(?level) = "en" && lang(?fund) = "en")
}""",
    ),
    (
        "Where the sources disagree",
        """SELECT ?topic ?value ?source WHERE {
  ?c a ckg:Contradiction ; rdfs:label ?topic ; ckg:hasClaim ?claim .
  ?claim rdf:object ?value ; dct:source/dct:identifier ?source .
  FILTER (lang(?topic) = "en")
}
ORDER BY ?topic""",
    ),
]
