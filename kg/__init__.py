"""Cohesion KG: load, reason, validate, store and query the knowledge graph."""

__version__ = "0.1.0"
