"""The KG's pages: every IRI dereferenced (dereference: HTML for people, RDF for programs), what a page shows
(views, from the queries in describe), the two languages (i18n), JSON-LD (jsonld), IRIs and local paths (iris),
and errors as pages or text (errors)."""

from flask import Blueprint

bp = Blueprint("pages", __name__)

from . import dereference, errors  # noqa: E402,F401  (register the routes and handlers on bp)

__all__ = ["bp"]
