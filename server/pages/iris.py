"""Where the KG's IRIs live on this server, and back.

Every IRI under the base (https://w3id.org/cohesion-kg/) is served at the same path on this server: w3id.org
redirects the base to the deployed host, and a development server on http://127.0.0.1:8000/ answers
/id/project/conet for https://w3id.org/cohesion-kg/id/project/conet. Pages link with local paths so that they work
on either; the IRI itself is shown and used in the RDF.
"""

from __future__ import annotations

from kg.namespaces import BASE


def local_path(iri: str) -> str | None:
    """The path on this server that dereferences `iri`, or None for an IRI outside the KG's base."""
    if not iri.startswith(BASE):
        return None
    return "/" + iri[len(BASE):]


def iri_for(path: str) -> str:
    """The KG IRI that a path on this server stands for (the inverse of local_path)."""
    return BASE + path.lstrip("/")


def href(iri: str) -> str:
    """A link for a page: the local path for the KG's own IRIs, the IRI itself for the rest of the Web."""
    return local_path(iri) or iri
