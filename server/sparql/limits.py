"""The endpoint's limits as clients see them: headers on every answer of the endpoint and of the named queries,
and the flag on an answer the row limit (ours, or a remote store's own) cut short."""

from __future__ import annotations

from flask import Response, current_app

from .executor import Answer

# Exposed to browser clients too (CORS), with the ETag.
LIMIT_HEADERS = ["KG-Query-Timeout", "KG-Row-Limit", "KG-Results-Truncated", "KG-Store-Row-Limit", "KG-Build"]


def announce(response: Response) -> Response:
    """The timeout, the row limit and the build, on any answer of the endpoint."""
    cfg = current_app.config
    backend = cfg["KG_BACKEND"]
    response.headers["KG-Query-Timeout"] = f"{backend.timeout:g}"
    response.headers["KG-Row-Limit"] = str(cfg["ROW_LIMIT"])
    response.headers["KG-Build"] = backend.build_id
    return response


def truncated(answer: Answer) -> bool:
    """Whether solutions were left out: by our row limit (more came back than returned) or by the store's."""
    return answer.truncated or answer.store_limit is not None


def flag(response: Response, answer: Answer) -> Response:
    if truncated(answer):
        response.headers["KG-Results-Truncated"] = "true"
    if answer.store_limit is not None:  # cut by the remote store's own limit (Virtuoso's ResultSetMaxRows), not ours
        response.headers["KG-Store-Row-Limit"] = str(answer.store_limit)
    return response


def error_text(answer: Answer) -> Response:
    """A failed answer as the client gets it: its message, its status, and when to come back for a 503."""
    response = Response(answer.body, status=answer.status, content_type="text/plain; charset=utf-8")
    if answer.retry_after:
        response.headers["Retry-After"] = str(answer.retry_after)
    return response
