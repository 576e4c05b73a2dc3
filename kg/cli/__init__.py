"""The `kg` command: one module per subcommand, each with `add_parser(sub)` and `run(args)`.

Exit codes, the same for every subcommand:
  0  success (for `validate`: the data conforms)
  1  the data does not conform (violations; warnings too with --fail-on warning), or the KG is inconsistent
  2  the input could not be read: a missing file, a syntax error, a bad query, an unknown option
  3  an internal error: a bug of ours, not of the input (one line; the traceback with --debug)
"""

from __future__ import annotations

import argparse
import sys
import traceback

from kg import __version__
from kg.errors import KGError, ValidationFailed

from . import build, import_sources, network, query, search, serve, sources, stats, synth, validate

COMMANDS = (import_sources, sources, build, validate, query, search, stats, synth, network, serve)
INTERNAL_ERROR = 3


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args) or 0
    except ValidationFailed as e:
        from kg.validation.formats import render

        sys.stdout.write(render(e.report, "text", color=sys.stdout.isatty()))
        print(f"kg: build stopped, nothing was written: {e.report.summary()}", file=sys.stderr)
        return e.exit_code
    except KGError as e:
        print(f"kg: error: {e}", file=sys.stderr)
        return e.exit_code
    except OSError as e:  # the machine said no: a full disk, a folder that cannot be written
        where = f"{e.filename}: " if e.filename else ""
        print(f"kg: error: {where}{e.strerror or e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("kg: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001 - a bug must not read as "violations" (exit 1) to a CI pipeline
        if args.debug:
            traceback.print_exc()
        else:
            print(f"kg: internal error ({type(e).__name__}: {e}); run again with --debug for the traceback", file=sys.stderr)
        return INTERNAL_ERROR


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kg",
        description="Cohesion KG: import, build, validate, query and serve the knowledge graph.",
        epilog="Exit codes: 0 success/conforms, 1 violations, 2 unreadable input or bad usage, 3 internal error.",
    )
    parser.add_argument("--version", action="version", version=f"kg {__version__}")
    parser.add_argument("--debug", action="store_true", help="print the traceback of an internal error")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub)
    return parser
