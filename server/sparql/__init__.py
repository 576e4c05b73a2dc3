"""The SPARQL endpoint: the protocol (protocol), what is refused before a query runs (guards), where queries
run (executor: a child process that can be killed; backend: the KG the app serves), the limits clients see
(limits), the service description (description) and the editor's examples (examples)."""

from flask import Blueprint

bp = Blueprint("sparql", __name__)

from . import protocol  # noqa: E402,F401  (registers the routes on bp)
from .examples import EXAMPLES  # noqa: E402
from .limits import LIMIT_HEADERS  # noqa: E402

__all__ = ["bp", "EXAMPLES", "LIMIT_HEADERS"]
