"""Discovery on the web: search (/search), the reconciliation service (/reconcile), facet browsing (/projects,
/organisations, /cities) and the map (/map), all read from the discovery index the build wrote beside the store
(kg.discovery). One blueprint; each concern's routes in its own module."""

from __future__ import annotations

from flask import Blueprint, current_app

from kg.discovery import index as discovery_index
from kg.discovery.facets import FacetIndex
from kg.discovery.search import SearchIndex

from ..http.cache import app_cache, per_build

bp = Blueprint("discovery", __name__)


class NoIndex(Exception):
    """The build being served has no discovery index (a SPARQL server fronted, or a build older than search)."""


def search_index() -> SearchIndex:
    """The discovery index of the build this app serves now; NoIndex when it has none."""
    found = per_build("discovery-index", _open)
    if found is None:
        raise NoIndex("this build has no discovery index: it was sent to a SPARQL server, or made before search "
                      "existed; `kg build` writes one")
    return found


def facet_index() -> FacetIndex:
    """The facet tables of the build this app serves now, what is read of them kept in the app's cache per build;
    NoIndex when the build has no discovery index."""
    index = search_index()
    build = current_app.config["KG_BACKEND"].build_id
    return FacetIndex(index, keep=lambda key, make, weigh: app_cache().get_or_make(("facets", build, *key), make, weigh))


def _open(backend) -> SearchIndex | None:
    path = discovery_index.path_in(backend.folder) if backend.folder is not None else None
    return SearchIndex(path) if path is not None and path.is_file() else None


from . import search  # noqa: E402,F401  (routes register on bp)
from . import reconcile  # noqa: E402,F401
from . import facets  # noqa: E402,F401
from . import map  # noqa: E402,F401
