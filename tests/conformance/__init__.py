"""Runners for third-party conformance suites (the W3C SPARQL 1.1 tests in ../shared/conformance)."""
