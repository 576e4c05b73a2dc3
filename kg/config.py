"""Where the KG's sources and store live. Every path can be overridden by the caller or the environment."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from kg.errors import InputError


def _root() -> Path:
    """The checkout this package runs from; installed without one (pre-commit does that), the copy of the
    ontology, shapes and data that the package installs under <prefix>/share/cohesion-kg."""
    checkout = Path(__file__).resolve().parent.parent
    installed = Path(sys.prefix) / "share" / "cohesion-kg"
    if not (checkout / "ontology").is_dir() and (installed / "ontology").is_dir():
        return installed
    return checkout


ROOT = _root()


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value) if value else default


@dataclass(frozen=True)
class Paths:
    ontology: Path = field(default_factory=lambda: _env_path("KG_ONTOLOGY", ROOT / "ontology"))
    shapes: Path = field(default_factory=lambda: _env_path("KG_SHAPES", ROOT / "shapes"))
    data: Path = field(default_factory=lambda: _env_path("KG_DATA", ROOT / "data"))
    # The store the server reads: a link to the current build under var/stores/.
    store: Path = field(default_factory=lambda: _env_path("KG_STORE", ROOT / "var" / "store"))
    # The import: the manifest and mappings of the published exports (imports/sources.yaml), and where `kg import`
    # writes their RDF, one N-Quads file per source, which the build loads beside data/.
    imports: Path = field(default_factory=lambda: _env_path("KG_IMPORTS", ROOT / "imports"))
    imported: Path = field(default_factory=lambda: _env_path("KG_IMPORTED", ROOT / "var" / "imported"))


def build_workers() -> int:
    """How many of its steps' parts `kg build` runs side by side: the processes it publishes with (dumps, site
    figures, network files, discovery index) and the threads its reasoning queries run in (KGStore.add_constructed).
    KG_BUILD_WORKERS, by default one per CPU this process may run on."""
    value = os.environ.get("KG_BUILD_WORKERS", "")
    if value.strip():
        try:
            return max(1, int(value))
        except ValueError:
            raise InputError(f"must be a whole number of processes, not {value!r}", "KG_BUILD_WORKERS") from None
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


@dataclass(frozen=True)
class Option:
    """One operator's knob: its default lives here and nowhere else; `kg serve --help` shows it."""

    flag: str
    default: object
    help: str
    type: type = str
    metavar: str | None = None
    repeatable: bool = False


# The server's settings, one place for their defaults: `kg serve` builds its options from this table and
# server.app.create_app fills what it is not given from it. docs/operations.md explains each.
SERVE_OPTIONS: dict[str, Option] = {
    "HOST": Option("--host", "127.0.0.1", "address to bind (loopback unless you mean it)"),
    "PORT": Option("--port", 8000, "TCP port", int),
    "WORKERS": Option("--workers", 2, "worker processes", int),
    "THREADS": Option("--threads", 32, "request threads per worker: light queries run in them, heavy ones wait in "
                      "them for a slot, all but 4 at most", int),
    "SLOW_QUERIES": Option("--slow-queries", 2, "heavy queries (grouping, sorting, unanchored patterns) running at "
                           "once per worker; more wait for a slot until their timeout, and past --threads minus 4 "
                           "waiting the next gets 503 with Retry-After", int, "N"),
    "QUERY_TIMEOUT": Option("--timeout", 30.0, "query timeout in seconds (the client gets 503; a query that cannot be "
                            "stopped has its worker recycled)", float),
    "ROW_LIMIT": Option("--row-limit", 10000, "most solutions returned for one query; 0 for none", int),
    "MAX_QUERY_BYTES": Option("--max-query-bytes", 64 * 1024, "longer queries are refused with 413", int),
    # Oxigraph's parser recurses once per bracket level: a few thousand levels overflow a worker thread's stack,
    # a few hundred nested collections take minutes to parse. Real queries stay far below this; deeper get 400.
    "MAX_NESTING": Option("--max-nesting", 64, "queries with brackets nested deeper are refused with 400", int, "N"),
    "MAX_RESULT_BYTES": Option("--max-result-bytes", 128 * 1024 * 1024, "most bytes of solutions or triples one "
                               "answer holds (cut between rows and flagged, as the row limit); 0 for none", int, "N"),
    "MEMORY_LIMIT_MB": Option("--memory-limit", 4096, "resident memory of a worker in MB past which it is replaced "
                              "gracefully; 0 for none", int, "MB"),
    "SERVICE_ALLOW": Option("--allow-service", (), "a SERVICE endpoint queries may call (repeatable)", str, "IRI", True),
    "FOLLOW_INTERVAL": Option("--follow-interval", 1.0, "seconds between looks at the store link (or, with --store "
                              "URL, the server's build record) for a new build; 0 serves the first build until "
                              "restarted (or SIGHUP), and makes a SPARQL server be asked after every answer", float, "S"),
    "ACCESS_LOG": Option("--access-log", None, "write an access log to FILE ('-' for standard output); off by default "
                         "(it costs about a fifth of the throughput of cached answers)", str, "FILE"),
    "CACHE_BYTES": Option("--cache-bytes", 64 * 1024 * 1024, "answers kept per worker, per build; 0 turns the cache off", int, "N"),
    "CACHE_MAX_AGE": Option("--cache-max-age", 300, "seconds clients may reuse an answer without asking again", int, "S"),
    # /map draws country shapes served from here, so it needs no other server; a tile server is the operator's choice.
    "MAP_TILES": Option("--map-tiles", None, "a tile URL template, e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png, "
                        "whose tiles /map draws under its country shapes; unset: the shapes alone, nothing fetched "
                        "from elsewhere", str, "URL"),
    "MAP_TILES_ATTRIBUTION": Option("--map-tiles-attribution", None, "the credit the tile server asks for, shown on "
                                    "the map (HTML)", str, "TEXT"),
}


def serve_defaults() -> dict[str, object]:
    """The server's settings with their defaults, keyed as server.app's config is."""
    settings = {key: (list(o.default) if o.repeatable else o.default) for key, o in SERVE_OPTIONS.items()}
    return settings
