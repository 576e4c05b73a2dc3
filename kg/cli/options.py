"""What several commands share: the store options and opening the store they name."""

from __future__ import annotations

import argparse

from kg.config import Paths

STORE_HELP = ("the store: an on-disk build's store link (default: $KG_STORE, else var/store), `memory` (the KG built "
              "from its sources now), or a SPARQL server's query endpoint URL (see docs/operations.md)")
ENGINE_CHOICES = ["store", "rdflib"]
ENGINE_HELP = ("store: the sources parsed, reasoned and validated by Oxigraph with SPARQL (seconds at 1M triples; "
               "the OWL RL rules the KG relies on, see docs/validation.md); rdflib: owlrl and pyshacl, the reference "
               "(minutes at 100k triples) (default: %(default)s)")


def add_store_options(p: argparse.ArgumentParser, help_text: str = STORE_HELP) -> None:
    from kg.store.remote import KINDS

    p.add_argument("--store", default=None, metavar="PATH|memory|URL", help=help_text)
    p.add_argument("--store-kind", choices=KINDS, default=None,
                   help="the server behind a --store URL, for its endpoints' names and quirks (default: from its Server header)")
    p.add_argument("--store-graph-store", metavar="URL", default=None,
                   help="its Graph Store Protocol endpoint, where `kg build` writes (default: by --store-kind's convention); "
                   "credentials come from KG_STORE_USER and KG_STORE_PASSWORD")
    p.add_argument("--store-update", metavar="URL", default=None,
                   help="its SPARQL Update endpoint, where `kg build` switches to the new build (default: by --store-kind's convention)")


def paths(args) -> Paths:
    found = Paths()
    place = location(args)
    if place.path is not None:
        found = Paths(ontology=found.ontology, shapes=found.shapes, data=found.data, store=place.path)
    return found


def location(args):
    from kg.store.location import locate

    return locate(getattr(args, "store", None))


def remote_options(args) -> dict:
    return {"kind": getattr(args, "store_kind", None), "graph_store": getattr(args, "store_graph_store", None),
            "update": getattr(args, "store_update", None)}


def open_store(args):
    """The store `--store` names, opened for reading; `memory` builds the KG from its sources first."""
    from kg.store.embedded import KGStore

    place = location(args)
    if place.url is not None:
        from kg.store.remote import RemoteStore

        return RemoteStore.connect(place.url, **remote_options(args))
    if place.in_memory:
        from kg.build import Engine, build
        from kg.reasoning.reference import Inference

        return build(paths(args), Inference.OWLRL, in_memory=True, engine=Engine.STORE).store
    return KGStore.open(place.path)
