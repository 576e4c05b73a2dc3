"""A caching SPARQL processor for rdflib, registered in place of rdflib's own.

pyshacl evaluates each SHACL-SPARQL constraint once per focus node with the same query text and the focus node
passed as a binding; rdflib parses the text anew every time. Parsing was about 90% of the KG's validation time,
so parsed and translated queries are kept, keyed by their text, base and namespaces.
"""

from __future__ import annotations

from functools import lru_cache

from rdflib import plugin
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.plugins.sparql.processor import SPARQLProcessor
from rdflib.query import Processor


@lru_cache(maxsize=512)
def _prepared(text: str, base: str | None, namespaces: tuple):
    return translateQuery(parseQuery(text), base, dict(namespaces) or None)


class CachingSPARQLProcessor(SPARQLProcessor):
    def query(self, strOrQuery, initBindings=None, initNs=None, base=None, DEBUG=False):  # noqa: N803 (rdflib's names)
        if isinstance(strOrQuery, str):
            strOrQuery = _prepared(strOrQuery, base, tuple(sorted((initNs or {}).items())))
        return super().query(strOrQuery, initBindings, initNs, base, DEBUG)


def install() -> None:
    plugin.register("sparql", Processor, __name__, "CachingSPARQLProcessor")
