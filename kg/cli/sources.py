"""`kg sources`: the configured sources, whether their files are here, the last import, the licence."""

from __future__ import annotations

import json


def add_parser(sub) -> None:
    p = sub.add_parser("sources", help="list the configured import sources with their status and licence")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.set_defaults(run=run)


def run(args) -> int:
    from kg.importing.run import list_sources

    statuses = list_sources()
    if args.format == "json":
        print(json.dumps([s.__dict__ for s in statuses], indent=2, ensure_ascii=False))
        return 0
    for s in statuses:
        state = "present" if s.present else "absent (" + ", ".join(s.missing) + ")"
        last = f"last import {s.last_import}, {s.rows} rows" if s.last_import else "never imported"
        print(f"{s.name}: {s.title}\n    {state}; {last}\n    publisher: {s.publisher}\n    licence: {s.licence}\n"
              f"    download: {s.download}")
    return 0
