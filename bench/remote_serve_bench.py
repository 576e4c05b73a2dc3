#!/usr/bin/env python3
"""`kg serve --store URL` in front of `oxigraph serve`: look-ups through kg serve against the same look-ups sent to
the server itself, the remote steps of scale_bench.py alone (its data, `kg build --no-import --store URL`, kg serve
and the closed-loop clients of serve_and_measure), without its other back ends and reference steps.

    .venv/bin/python bench/remote_serve_bench.py --sizes 10k,100k
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import scale_bench as scale  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10k,100k", help=f"comma-separated, of {', '.join(scale.SIZES)}")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--step-timeout", type=float, default=1800, help="seconds for `kg build`")
    args = parser.parse_args(argv)
    from tests.servers import oxigraph_server

    with tempfile.TemporaryDirectory(prefix="kg-remote-serve-") as tmp:
        work = Path(tmp)
        real = scale.real_triples()
        k = scale.per_project(work, args.seed)
        for name in args.sizes.split(","):
            folder = work / name
            folder.mkdir()
            prepared = scale.prepare(folder, scale.SIZES[name], args.seed, k, real)
            print(f"{name}: {prepared['triples']:,} triples", flush=True)
            (folder / "server").mkdir()
            run = scale.StepRun(name)
            with oxigraph_server(folder / "server") as server:
                scale.serve_and_measure(run, server.url, prepared, server.credentials, args.step_timeout)
            for record in run.records:
                print("  " + json.dumps(record), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
