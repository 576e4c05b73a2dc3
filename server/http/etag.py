"""The one ETag rule: an answer computed from the KG is tagged with the build it came from and what selects it
(path, form, language, parameters), so a new build changes every tag; a file is tagged with its own checksum,
so the same bytes keep their tag whatever build or worker serves them. Clients may keep either for
CACHE_MAX_AGE seconds and revalidate with If-None-Match."""

from __future__ import annotations

import hashlib

from flask import Response, current_app, request


# The request headers that can turn an answer into a 304, 412 or 206.
CONDITIONS = frozenset({"HTTP_IF_NONE_MATCH", "HTTP_IF_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_UNMODIFIED_SINCE",
                        "HTTP_IF_RANGE", "HTTP_RANGE"})


def tag(*selectors) -> str:
    """The ETag of an answer of the build being served, selected by `selectors` (anything with a stable repr)."""
    backend = current_app.config["KG_BACKEND"]
    return hashlib.sha256(repr((backend.build_id, *selectors)).encode()).hexdigest()[:32]


def unchanged(etag: str) -> bool:
    """Whether the client already holds this answer: then a 304 spares computing it again."""
    return etag in request.if_none_match


def cacheable(response: Response, etag: str, ranges: bool = False) -> Response:
    """Tag `response`, date it with the build, let clients and proxies keep it, and answer 304 when the
    request's If-None-Match (or If-Modified-Since) already names it; with `ranges` (files), 206 to a Range."""
    backend = current_app.config["KG_BACKEND"]
    response.set_etag(etag)
    response.last_modified = backend.created
    response.cache_control.public = True
    response.cache_control.max_age = current_app.config["CACHE_MAX_AGE"]
    response.headers["KG-Build"] = backend.build_id
    if response.status_code != 200 or not (ranges or CONDITIONS.intersection(request.environ)):
        return response  # nothing to compare with: the answer goes as it is (most requests)
    return response.make_conditional(request, accept_ranges=ranges, complete_length=response.content_length if ranges else None)


def not_modified(etag: str) -> Response:
    return cacheable(Response(status=304), etag)
