"""The ``columns`` command line.

    columns list
    columns run [NAME] [--out DIR] [--seed S] [--device D] [--tiny] [--resume] [--key=value …]
    columns sweep NAME --grid key=v1,v2,… [--seeds N] [--out DIR] [--scheduler ADDR]
                       [--key=value …]

``columns run`` with no name runs the default study; ``--resume`` continues one that was
interrupted (Ctrl-C, SIGTERM) or failed, from what it had done (``experiments.harness.resume``). Extra
``--key=value`` pairs override fields of the experiment's ``Config`` (``columns run NAME
--help-config`` lists them with their type, default and meaning, read from the field
docstrings). ``--threads N`` sets the thread count for torch and numba alike for the whole run; the default ``auto`` takes the cores that
other processes leave free, measured again every second during the run, so a run on a shared
machine neither oversubscribes it nor waits at barriers for threads a competitor took
(``columns.threads``).
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import dataclasses
import inspect
import os
import sys
import typing

from .names import unknown


def _parser() -> argparse.ArgumentParser:
    # no abbreviations: "--seed=4" to a sweep is the experiment's seed (refused there), not --seeds
    p = argparse.ArgumentParser(prog="columns", description="Bayesian mechanics of cortical columns",
                                allow_abbrev=False)
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the experiments")
    r = sub.add_parser("run", help="run an experiment (default: the main study)", allow_abbrev=False,
                       epilog="Any field of the experiment's Config is an option too: --key=value "
                              "(columns run NAME --help-config lists them with their meaning). "
                              "Example: columns run --seeds=5 --column_type=fep")
    r.add_argument("name", nargs="?", default=None, metavar="NAME",
                   help="the experiment (default: multiregion, the main study; 'columns list' "
                        "names them all)")
    r.add_argument("--out", default=None, help="output folder (default results/NAME)")
    r.add_argument("--seed", type=int, default=None)
    r.add_argument("--device", default=None, help="cpu, cuda, cuda:1 …")
    r.add_argument("--tiny", action="store_true", help="CI-sized preset")
    r.add_argument("--threads", default="auto",
                   help="torch intra-op threads: N, or auto (cores not busy; default)")
    r.add_argument("--help-config", action="store_true", help="list the config keys and exit")
    r.add_argument("--resume", action="store_true", help="continue the interrupted run in --out "
                   "(its saved config, or the same options again)")
    w = sub.add_parser("sweep", help="run an experiment over a grid × seeds (Dask) into one dataset",
                       allow_abbrev=False)
    w.add_argument("name", metavar="NAME", help="the experiment ('columns list' names them)")
    w.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2,…",
                   help="a swept config key and its values (repeat for more keys; tuple values "
                        "with ':' between elements)")
    w.add_argument("--seeds", default="1", help="a count N (seeds 0…N−1) or seeds a,b,c (default 1)")
    w.add_argument("--out", default=None, help="sweep folder (default sweeps/NAME); the same "
                   "folder again resumes the sweep")
    w.add_argument("--scheduler", default=None, help="tcp://host:8786 (an existing Dask "
                   "cluster), serial (in turn, here), or none: an embedded LocalCluster")
    w.add_argument("--workers", type=int, default=None, help="embedded cluster: worker "
                   "processes (default: the cores), one torch thread each")
    w.add_argument("--timeout", type=float, default=10.0, help="seconds to reach --scheduler")
    w.add_argument("--metrics", default=None, help="variables for sweep.md and the heat maps "
                   "(comma-separated; default: those that vary)")
    w.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="a fixed override whose name is also a sweep option (e.g. --set seeds=1)")
    w.add_argument("--device", default=None)
    w.add_argument("--tiny", action="store_true", help="the experiments' CI-sized preset")
    w.add_argument("--threads", default="auto", help="serial: torch threads (default auto)")
    return p


def field_docs(cls) -> dict[str, str]:
    """{field: the string literal after it in the class body (its docstring)}, bases first."""
    docs = {}
    for klass in reversed(cls.__mro__):
        if not dataclasses.is_dataclass(klass) or klass is object:
            continue
        try:
            tree = ast.parse(inspect.getsource(klass).lstrip())
        except (OSError, TypeError, SyntaxError):
            continue
        body = tree.body[0].body
        for a, b in zip(body, body[1:]):
            if (isinstance(a, ast.AnnAssign) and isinstance(a.target, ast.Name)
                    and isinstance(b, ast.Expr) and isinstance(b.value, ast.Constant)
                    and isinstance(b.value.value, str)):
                docs[a.target.id] = " ".join(b.value.value.split())
    return docs


def help_config(module) -> str:
    cfg = module.Config()
    hints = typing.get_type_hints(module.Config)
    docs = field_docs(module.Config)
    lines = [f"{module.__name__}: --key=value options (default, type: meaning)"]
    for f in dataclasses.fields(cfg):
        t = hints[f.name]
        tname = getattr(t, "__name__", str(t).replace("typing.", ""))
        if typing.get_origin(t) in (tuple, list):
            tname = f"comma-separated {typing.get_args(t)[0].__name__}s"
        default = getattr(cfg, f.name)
        shown = ",".join(map(str, default)) if isinstance(default, (tuple, list)) else default
        lines.append(f"  --{f.name}={shown}  ({tname}): {docs.get(f.name, '(undocumented)')}")
    return "\n".join(lines)


def threads(value: str) -> int | str:
    """``--threads``: a count >= 1, or "auto" (module ``experiments.harness.cli``)."""
    from columns import ColumnsError
    if value == "auto":
        return "auto"
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise ColumnsError(f"--threads must be a positive integer or auto, got {value!r}")
    return n


def _sweep(args, overrides: dict[str, str]) -> int:
    """``columns sweep``: the grid and fixed overrides parsed, then ``experiments.harness.sweep.sweep``."""
    from columns import ColumnsError
    from experiments.harness.sweep import parse_grid, sweep
    for item in args.set:
        k, sep, v = item.partition("=")
        if not sep:
            raise ColumnsError(f"--set expects key=value, got {item!r}")
        overrides[k] = v
    metrics = [m for m in args.metrics.split(",") if m] if args.metrics else None
    out = args.out or f"sweeps/{args.name}"
    try:
        with _threads_for_run(args.threads):
            ds = sweep(args.name, parse_grid(args.grid), args.seeds, out=out, fixed=overrides,
                       tiny=args.tiny, device=args.device, scheduler=args.scheduler,
                       workers=args.workers, metrics=metrics, timeout=args.timeout)
    except KeyboardInterrupt:
        print(f"columns: the finished points are in {out}/sweep.nc; the same command resumes "
              "the sweep", file=sys.stderr)
        raise                                  # main: "columns: interrupted", exit 130
    status = ds["status"].values
    n_ok = int((status == "ok").sum())
    print(f"sweep {args.name}: {status.size} points, {n_ok} ok, "
          f"{int((status == 'failed').sum())} failed; wrote {out}/sweep.nc, {out}/sweep.md")
    if n_ok == 0:
        print(f"columns: error: every point of the sweep failed; their errors are in "
              f"{out}/sweep.md (the same command re-runs them)", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    from experiments import DEFAULT, EXPERIMENTS
    args, extra = _parser().parse_known_args(argv)     # --help answers here: nothing imported
    if args.command == "list":                         # nor here (experiments imports nothing)
        for name, (_, what) in EXPERIMENTS.items():
            mark = " (default)" if name == DEFAULT else ""
            print(f"{name:16s} {what}{mark}")
        return 0
    name = args.name or DEFAULT
    if name not in EXPERIMENTS:                        # named here, before anything is imported
        print(f"columns: error: {unknown(name, EXPERIMENTS)}", file=sys.stderr)
        return 2
    if args.command == "run" and args.help_config and (args.name or DEFAULT) in EXPERIMENTS:
        from .config_help import static_help           # read from the source: nothing imported
        text = static_help(EXPERIMENTS[args.name or DEFAULT][0])
        if text is not None:
            print(text)
            return 0
    if argv is None:                           # the console script, not a call from Python
        _terminate_as_interrupt()
    from columns import ColumnsError                   # torch, numba: only for real work
    from experiments.harness import runner
    try:
        name = args.name or DEFAULT
        overrides = {}
        for item in extra:
            if not item.startswith("--") or "=" not in item:
                raise ColumnsError(f"unexpected argument {item!r}; use --key=value")
            k, v = item[2:].split("=", 1)
            overrides[k] = v
        if args.command == "sweep":
            return _sweep(args, overrides)
        if args.help_config:
            print(help_config(runner.load(name)))
            return 0
        import importlib

        simulate_module = importlib.import_module("columns.simulation")
        simulate_module.PROGRESS = True
        out = args.out or f"results/{name}"
        command = f"columns run {name} --out {out} --resume"      # the saved config is used
        try:
            with _threads_for_run(args.threads) as used:
                res = runner.run(name, out, tiny=args.tiny, seed=args.seed, device=args.device,
                                 overrides=overrides, resume=args.resume, command=command)
        except KeyboardInterrupt:
            if os.path.exists(os.path.join(out, "results_partial.json")):
                print(f"columns: what is done is kept in {out}/checkpoint; continue with: "
                      f"{command}", file=sys.stderr)
            raise                              # "columns: interrupted", exit 130
        print(res.get("summary", ""))
        look = ("report.md" if os.path.exists(os.path.join(out, "report.md"))
                else (res.get("figures") or ["results.json"])[0])
        print(f"wrote {out}/results.json ({res['timings']['total_s']:.1f} s, "
              f"{used()}); open {os.path.join(out, look)}")
        return 0
    except runner.Incomplete as err:          # results written, a part missing: not a success
        print(f"columns: incomplete: {err}", file=sys.stderr)
        return 1
    except ColumnsError as err:
        print(f"columns: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:                  # Ctrl-C, or SIGTERM (``_terminate_as_interrupt``)
        print("columns: interrupted", file=sys.stderr)
        if argv is None:
            # an interrupt that landed in a C callback (numba's JIT cache notifier) leaves Python
            # set to kill itself with SIGINT at exit, whatever main returns: exit 130 directly
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(130)
        return 130


@contextlib.contextmanager
def _threads_for_run(value: str):
    """``--threads`` in force for the block (``columns.threads``), the previous setting back
    after it (for calls from Python); yields a function giving what the run used: "1 thread",
    "2 threads", "auto: 1–2 threads"."""
    import torch

    from columns import threads as engine_threads
    setting, before = threads(value), torch.get_num_threads()
    engine_threads.set_threads(setting)
    engine_threads.used(reset=True)

    def used() -> str:
        counts = engine_threads.used() or [engine_threads.sync()]
        span = f"{counts[0]}" if len(counts) == 1 else f"{counts[0]}–{counts[-1]}"
        words = f"{span} thread{'s' if span != '1' else ''}"
        return f"auto: {words}" if setting == "auto" else words
    try:
        yield used
    finally:
        engine_threads.set_threads(None)
        torch.set_num_threads(before)


def _terminate_as_interrupt() -> None:
    """SIGTERM (a scheduler's or ``kill``'s stop) unwinds like Ctrl-C: the same cleanup, the
    same exit status 130, no traceback."""
    import signal

    def handler(signum, frame):
        raise KeyboardInterrupt
    try:
        signal.signal(signal.SIGTERM, handler)
    except ValueError:                         # not the main thread (e.g. called from a test)
        pass


if __name__ == "__main__":
    sys.exit(main())
