"""The dataset for harvesters: its VoID/DCAT description, the dumps, the sitemap and robots.txt, read from what
the build published (kg.publish)."""

from flask import Blueprint

bp = Blueprint("dataset", __name__)

from . import views  # noqa: E402,F401  (registers the routes on bp)

__all__ = ["bp"]
