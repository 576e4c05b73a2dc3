"""The Cohesion KG web application: a Flask app factory serving a built store."""

from .app import create_app

__all__ = ["create_app"]
