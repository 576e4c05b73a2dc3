"""`kg serve`: the built store over HTTP. The server is a separate package that kg never imports: it registers
itself under the entry point group `kg.serve`, and this command hands it the store and the settings."""

from __future__ import annotations

from importlib.metadata import entry_points

from kg.config import SERVE_OPTIONS, serve_defaults
from kg.errors import InputError

from .options import add_store_options, location, paths, remote_options

SERVER_GROUP = "kg.serve"


def add_parser(sub) -> None:
    p = sub.add_parser("serve", help="serve the built store over HTTP (SPARQL endpoint, pages, dumps)",
                       description="Serve the built store: the SPARQL endpoint, the IRIs' pages, dumps and the "
                       "network. Limits, timeouts and workers: docs/operations.md.")
    for key, option in SERVE_OPTIONS.items():
        shown = f"{option.help} (default: {option.default})" if option.default not in (None, ()) else option.help
        p.add_argument(option.flag, dest=key, type=option.type, metavar=option.metavar, help=shown,
                       action="append" if option.repeatable else "store",
                       default=[] if option.repeatable else option.default)
    add_store_options(p)
    p.set_defaults(run=run)


def settings_from(args) -> dict[str, object]:
    """The server's settings from the parsed options, checked."""
    settings = serve_defaults()
    for key, option in SERVE_OPTIONS.items():
        value = getattr(args, key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
            raise InputError("must not be negative", option.flag)
        settings[key] = value
    if settings["WORKERS"] < 1:
        raise InputError("must be at least 1", "--workers")
    return settings


def run(args) -> int:
    settings = settings_from(args)
    place = location(args)
    store = published = None
    if place.in_memory:
        from kg.build import Engine, build
        from kg.reasoning.reference import Inference

        print("building the KG in memory ...")
        built = build(paths(args), Inference.OWLRL, in_memory=True, engine=Engine.STORE)  # before the fork: workers share it
        store, published = built.store, built.published
    servers = entry_points(group=SERVER_GROUP)
    if not servers:
        raise InputError("no server is installed (the `server` package registers itself under the entry point "
                         f"group {SERVER_GROUP}): install cohesion-kg with its server", "kg serve")
    serve = next(iter(servers)).load()
    return serve(location=place, store=store, remote=remote_options(args), settings=settings, published=published)
