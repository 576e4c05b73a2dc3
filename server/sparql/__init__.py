"""The SPARQL endpoint: the protocol (protocol), what is refused before a query runs (guards), what a query
costs (cost), where and within what bounds it runs (runner: the request thread or the heavy pool; executor: one
query within its timeout, row and byte limits; watchdog: the stuck query and the worker past its memory; backend:
the KG the app serves), the limits clients see (limits), the service description (description) and the editor's
examples (examples)."""

from flask import Blueprint

bp = Blueprint("sparql", __name__)

from . import protocol  # noqa: E402,F401  (registers the routes on bp)
from .examples import EXAMPLES  # noqa: E402
from .limits import LIMIT_HEADERS  # noqa: E402

__all__ = ["bp", "EXAMPLES", "LIMIT_HEADERS"]
