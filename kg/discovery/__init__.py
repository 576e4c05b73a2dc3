"""Discovery: what a build derives so that people find things without knowing IRIs or SPARQL.

One SQLite file per build, `discovery/index.sqlite` in the build's folder, written by kg.discovery.index after the
KG validated and read (never written) by the server and `kg search`:
  records     one row per findable entity (project, organisation, city, programme) with its label, kind,
              description, country, city and coordinates, and one row per name it has in any language;
  search      the full-text index over those names and descriptions (FTS5) and the ranked look-up on it;
  facets      the facet values of every entity, from which a page counts what its filters leave;
  reconcile   the W3C reconciliation service's matching, on top of search.
"""

INDEX_DIR = "discovery"
INDEX_FILE = "index.sqlite"
KINDS = ("project", "organisation", "city", "programme")
