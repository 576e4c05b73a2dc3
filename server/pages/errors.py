"""Errors as people and programs read them: a page for browsers (who name text/html), one line of text for
everyone else, never a traceback. Registered for the whole app by the pages blueprint."""

from __future__ import annotations

from flask import Response, current_app, render_template, request
from werkzeug.exceptions import HTTPException

from ..http import negotiation
from ..http.responses import plain_text
from ..sparql.backend import BackendError
from . import bp, i18n

TITLES = {400: "Bad request", 404: "Not found", 405: "Method not allowed", 406: "Not acceptable", 500: "Server error",
          503: "Service unavailable"}


class PageError(Exception):
    """An answer other than the resource: a status and a message for the reader."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def common(lang: str) -> dict:
    """What base.html and every page template use besides the page itself."""
    return {
        "lang": lang,
        "t": lambda text: i18n.translate(text, lang),
        "languages": i18n.LANGUAGES,
        "path": request.path,
    }


def error_response(status: int, message: str, headers: dict | None = None) -> Response:
    """A page for browsers, one line of text for everyone else."""
    if negotiation.wants_html():
        lang = i18n.reader_language()
        title = TITLES.get(status, "Error")
        body = render_template("error.html", status=status, title=title, message=message, **common(lang))
        response = Response(body, status=status, content_type="text/html; charset=utf-8")
    else:
        response = plain_text(message, status)
    response.headers.update(headers or {})
    response.vary.add("Accept")
    return response


@bp.errorhandler(PageError)
def _page_error(e: PageError):
    return error_response(e.status, e.message)


@bp.app_errorhandler(404)
def _not_found(e: HTTPException):
    if e.response is not None:  # a route that answered 404 with its own message (abort(response)) keeps it
        return e
    return error_response(404, f"Nothing is published at {request.path}.")


@bp.app_errorhandler(405)
def _method_not_allowed(e: HTTPException):
    allowed = e.get_headers()  # werkzeug's Allow header, naming the methods the route takes
    allow = dict(allowed).get("Allow", "")
    return error_response(405, f"{request.method} is not allowed at {request.path}; use {allow or 'GET'}.", headers={"Allow": allow} if allow else None)


@bp.app_errorhandler(BackendError)
def _backend_error(e: BackendError):
    # A query of the app's own failed: 503 when the store was too slow or too busy (worth retrying), else 500.
    if e.status == 503:
        return error_response(503, "The knowledge graph did not answer in time: " + e.message, headers={"Retry-After": "5"})
    current_app.logger.error("a page query failed: %s", e)
    return error_response(500, "The knowledge graph could not answer this page's query: " + e.message)


@bp.app_errorhandler(500)
def _server_error(e: HTTPException):
    return error_response(500, "Something went wrong on the server while answering this request.")
