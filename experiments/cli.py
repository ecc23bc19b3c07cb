"""The ``columns`` command line.

    columns list
    columns run [NAME] [--out DIR] [--seed S] [--device D] [--tiny] [--key=value …]

``columns run`` with no name runs the default study. Extra ``--key=value`` pairs override fields
of the experiment's ``Config`` (``columns run NAME --help-config`` lists them).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

from graphs.errors import ColumnsError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="columns", description="Bayesian mechanics of cortical columns")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the experiments")
    r = sub.add_parser("run", help="run an experiment (default: the main study)")
    r.add_argument("name", nargs="?", default=None)
    r.add_argument("--out", default=None, help="output folder (default results/NAME)")
    r.add_argument("--seed", type=int, default=None)
    r.add_argument("--device", default=None, help="cpu, cuda, cuda:1 …")
    r.add_argument("--tiny", action="store_true", help="CI-sized preset")
    r.add_argument("--help-config", action="store_true", help="list the config keys and exit")
    return p


def main(argv: list[str] | None = None) -> int:
    from experiments import DEFAULT, EXPERIMENTS
    from experiments import runner
    args, extra = _parser().parse_known_args(argv)
    try:
        if args.command == "list":
            for name, (_, what) in EXPERIMENTS.items():
                mark = " (default)" if name == DEFAULT else ""
                print(f"{name:16s} {what}{mark}")
            return 0
        name = args.name or DEFAULT
        overrides = {}
        for item in extra:
            if not item.startswith("--") or "=" not in item:
                raise ColumnsError(f"unexpected argument {item!r}; use --key=value")
            k, v = item[2:].split("=", 1)
            overrides[k] = v
        if args.help_config:
            cfg = runner.load(name).Config()
            for f in dataclasses.fields(cfg):
                print(f"--{f.name}={getattr(cfg, f.name)!r}")
            return 0
        out = args.out or f"results/{name}"
        res = runner.run(name, out, tiny=args.tiny, seed=args.seed, device=args.device,
                         overrides=overrides)
        print(res.get("summary", ""))
        print(f"wrote {out}/results.json ({res['timings']['total_s']:.1f} s)")
        return 0
    except ColumnsError as err:
        print(f"columns: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
