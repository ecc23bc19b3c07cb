"""One sweep point, run where a Dask worker (or the serial loop) puts it.

``run_point`` runs ``experiments.harness.runner.run`` into the point's folder and then writes
``point.json`` there (atomically): {"name", "values" (the raw ``--key=value`` strings), "seed"
(the sweep's), "run_seed" (the experiment's: ``grid.Point.run_seed``), "status" ("ok" |
"failed"), "error" ("" or "Type: message")}. ``point.json`` is written last, so
a folder with it is finished and a folder without it is not (an interrupted or killed point);
resuming re-runs exactly the folders without an "ok" ``point.json``, each from what its run had
finished (``experiments.harness.resume``: its ``checkpoint/`` folder). An exception raised by the
experiment is the point's result (recorded, the sweep goes on); an interrupt is not caught.

The point's printed output (and the traceback of a failure) goes to ``run.log`` in its folder.
While it runs the folder holds ``running.json`` with the process id, so that whoever watches the
sweep can tell which worker process holds which point.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import traceback

DONE = "point.json"
RUNNING = "running.json"
LOG = "run.log"


def record_path(out: str, name: str) -> str:
    return os.path.join(out, name, DONE)


def inspect_record(out: str, name: str, seed: int | None = None) -> tuple[dict | None, str]:
    """(the point's record, "") when ``point.json`` is a finished point's record of this point
    (a dict with its ``name``, the ``seed`` when given, ``status`` "ok" or "failed" and an
    ``error`` string); (None, "") when there is none (not finished); (None, why) when the file
    is there but cannot be one (truncated, garbled, another point's)."""
    path = record_path(out, name)
    if not os.path.exists(path):
        return None, ""
    try:
        with open(path) as f:
            rec = json.load(f)
    except (OSError, ValueError) as err:
        return None, f"{type(err).__name__}: {err}"
    if not isinstance(rec, dict) or rec.get("status") not in ("ok", "failed") \
            or not isinstance(rec.get("error"), str):
        return None, "not a point record (needs status ok|failed and an error string)"
    if rec.get("name") != name or (seed is not None and rec.get("seed") != seed):
        return None, (f"the record of another point ({rec.get('name')!r}, seed "
                      f"{rec.get('seed')!r})")
    return rec, ""


def read_record(out: str, name: str) -> dict | None:
    """The point's record, or None when the point has not finished or its record cannot be read
    (``inspect_record``)."""
    return inspect_record(out, name)[0]


def write_record(out: str, name: str, values: dict, seed: int, status: str, error: str,
                 run_seed: int | None = None) -> dict:
    from ..runner import write_json
    rec = {"name": name, "values": values, "seed": seed, "status": status, "error": error,
           "run_seed": seed if run_seed is None else run_seed}
    write_json(record_path(out, name), rec)
    return rec


class _ThreadStdout:
    """``sys.stdout`` that sends each thread's prints to that thread's file, if it set one (points
    may run as threads of one worker process), else to the original stream."""

    def __init__(self, base):
        self.base, self.local = base, threading.local()

    def _target(self):
        return getattr(self.local, "file", None) or self.base

    def write(self, text):
        return self._target().write(text)

    def flush(self):
        return self._target().flush()

    def __getattr__(self, name):
        return getattr(self.base, name)


_STDOUT_LOCK = threading.Lock()


@contextlib.contextmanager
def _printing_to(file):
    """This thread's ``print`` goes to ``file`` inside the block."""
    with _STDOUT_LOCK:
        if not isinstance(sys.stdout, _ThreadStdout):
            sys.stdout = _ThreadStdout(sys.stdout)
        router = sys.stdout
    router.local.file = file
    try:
        yield
    finally:
        router.local.file = None


def run_point(experiment: str, out: str, name: str, values: dict[str, str], seed: int,
              fixed: dict[str, str], tiny: bool, device: str | None, threads: int = 1,
              run_seed: int | None = None) -> dict:
    """Run one point into ``out/name`` with ``threads`` torch threads and the experiment's seed
    ``run_seed`` (default: the sweep's ``seed``; ``grid.Point.run_seed``); return its record."""
    import importlib

    import torch

    from .. import progress, resume, runner
    simulate = importlib.import_module("columns.simulation")
    threads_before = torch.get_num_threads()
    torch.set_num_threads(threads)
    folder = os.path.join(out, name)
    os.makedirs(folder, exist_ok=True)
    runner.write_json(os.path.join(folder, RUNNING), {"pid": os.getpid()})
    bars = progress.ENABLED, simulate.PROGRESS
    progress.ENABLED, simulate.PROGRESS = False, False          # the sweep has its own bar
    with open(os.path.join(folder, LOG), "w") as log, _printing_to(log):
        try:
            runner.run(experiment, folder, tiny=tiny, device=device,
                       seed=seed if run_seed is None else run_seed,
                       overrides={**fixed, **values},     # an interrupted point continues
                       resume=resume.Store.saved(folder) is not None)
            status, error = "ok", ""
        except Exception as err:        # noqa: BLE001  the point's failure is its result
            status, error = "failed", f"{type(err).__name__}: {err}"
            traceback.print_exc(file=log)
        finally:
            progress.ENABLED, simulate.PROGRESS = bars
            torch.set_num_threads(threads_before)
    rec = write_record(out, name, values, seed, status, error,
                       seed if run_seed is None else run_seed)
    try:
        os.remove(os.path.join(folder, RUNNING))
    except OSError:
        pass
    return rec
