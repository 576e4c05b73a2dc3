"""Discovery on the web: search (/search), the reconciliation service (/reconcile), facet browsing (/projects,
/organisations, /cities) and the map (/map), all read from the discovery index the build wrote beside the store
(kg.discovery). One blueprint; each concern's routes in its own module."""

from __future__ import annotations

import threading

from flask import Blueprint, current_app

from kg.discovery import index as discovery_index
from kg.discovery.search import SearchIndex

bp = Blueprint("discovery", __name__)

EXTENSION = "kg-discovery"  # in app.extensions: (build id, SearchIndex or None)
_opening = threading.Lock()


class NoIndex(Exception):
    """The build being served has no discovery index (a SPARQL server fronted, or a build older than search)."""


def search_index() -> SearchIndex:
    """The discovery index of the build this app serves now; NoIndex when it has none."""
    backend = current_app.config["KG_BACKEND"]
    found = current_app.extensions.get(EXTENSION)
    if found is None or found[0] != backend.build_id:
        with _opening:
            found = current_app.extensions.get(EXTENSION)
            if found is None or found[0] != backend.build_id:
                path = discovery_index.path_in(backend.folder) if backend.folder is not None else None
                opened = SearchIndex(path) if path is not None and path.is_file() else None
                found = current_app.extensions[EXTENSION] = (backend.build_id, opened)
    if found[1] is None:
        raise NoIndex("this build has no discovery index: it was sent to a SPARQL server, or made before search "
                      "existed; `kg build` writes one")
    return found[1]


from . import search  # noqa: E402,F401  (routes register on bp)
from . import reconcile  # noqa: E402,F401
from . import facets  # noqa: E402,F401
from . import map  # noqa: E402,F401
