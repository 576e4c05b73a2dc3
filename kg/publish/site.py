"""What a build publishes for the web site beside the dumps and network files: the dataset's figures (from which
the server writes the VoID/DCAT description for the host it is asked on) and the list of every page the
sitemap names. Written at build time into the build's own folder, so the server only reads them.

The description itself names absolute URLs on the host a harvester asked (development server or deployment
alike), which the build cannot know: the figures, which cost whole-KG aggregates, are what the build writes.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

from kg.namespaces import BASE
from kg.publish import description as dd
from kg.queries import catalogue as named_queries

SITE_DIR = "site"  # inside a build folder, beside dumps/ and network/
STATISTICS = "statistics.json"
PAGES = "pages.txt"
VOID_PATH = "/.well-known/void"  # where RFC 8615 and the VoID recommendation put a dataset's description
# A subject is an IRI or a blank node, whose STR no IRI starts: no isIRI test, which costs Virtuoso seconds.
ENTITIES = "SELECT DISTINCT ?s WHERE { ?s ?p ?o FILTER (STRSTARTS(STR(?s), STR(id:))) } ORDER BY ?s"


def statistics(select, union=None, entities: list[str] | None = None) -> dd.Statistics:
    return dd.compute(select, union, entities)


def page_paths(select, dumps, entities: list[str] | None = None) -> list[str]:
    """Every path the sitemap names: the fixed pages, the dumps, the named queries that answer without being given
    anything (a crawler can read their results too), and the page of every KG resource (each IRI under id/ that
    is the subject of a triple). `dumps`: the dumps' kg.publish.dumps.Dump or DumpFormat (their names)."""
    paths = ["/", "/sparql", "/queries", "/network", VOID_PATH, "/dumps/"]
    paths += [f"/dumps/{d.name}" for d in dumps]
    paths += [f"/queries/{q.name}" for q in named_queries.catalogue().values() if not any(p.required for p in q.params)]
    if entities is None:
        entities = [row["s"]["value"] for row in select(ENTITIES)]
    paths += ["/" + iri[len(BASE):] for iri in entities if iri.startswith(BASE)]
    return paths


def write(kg_store, folder: Path, dumps, union) -> None:
    """Measure the built KG (a KGStore) and list its pages into `folder` (a new folder inside the build's partial
    folder). `union`: the union of its graphs as kg.publish.dumps.union made it for the dumps."""
    def select(text: str) -> list[dict[str, dict]]:
        return dd.bindings(kg_store.query(text))

    folder.mkdir()
    entities: list[str] = []  # filled while the statistics count the subjects
    _write_text(folder / STATISTICS, json.dumps(asdict(statistics(select, union, entities)), indent=1, ensure_ascii=False) + "\n")
    _write_text(folder / PAGES, "".join(p + "\n" for p in page_paths(select, dumps, entities)))


def read_statistics(build_folder: Path | None) -> dd.Statistics | None:
    """The figures a build wrote, or None (a build made before builds wrote them, or none on disk)."""
    text = _read(build_folder, STATISTICS)
    if text is None:
        return None
    figures = json.loads(text)
    for name in ("class_partitions", "property_partitions", "graphs", "linksets", "keywords"):
        figures[name] = [tuple(item) for item in figures[name]]
    if figures["period"] is not None:
        figures["period"] = tuple(figures["period"])
    return dd.Statistics(**figures)


def read_pages(build_folder: Path | None) -> list[str] | None:
    text = _read(build_folder, PAGES)
    return None if text is None else text.splitlines()


def _read(build_folder: Path | None, name: str) -> str | None:
    if build_folder is None:
        return None
    try:
        return (build_folder / SITE_DIR / name).read_text(encoding="utf-8")
    except FileNotFoundError:  # not written by this build, or the build was pruned from under a reader
        return None


def _write_text(path: Path, text: str) -> None:
    # Whole or absent: a reader never sees half a file.
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
