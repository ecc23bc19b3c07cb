"""``sweep``: run an experiment over a grid of config values × seeds and gather one dataset.

Every point is one ``experiments.harness.runner.run`` of the experiment (``main(cfg)``) in its own folder
``out/<point>`` (``experiments.harness.sweep.grid``), run on Dask workers or in turn
(``experiments.harness.sweep.cluster``). After the points (also after an interrupt or an error) the
dataset is rebuilt from the folders and written atomically to ``out/sweep.nc``
(``experiments.harness.sweep.dataset``), then ``out/sweep.md`` and, for 2-D grids, the heat maps
(``experiments.harness.sweep.report``).

Fault handling: a point whose experiment raises is recorded ("failed", with its error) and the
rest go on; a point whose worker dies is retried by Dask (once on the embedded cluster) and then
recorded as failed. Resume: running the same sweep with the same ``out`` skips the points that
finished "ok" and re-runs the others (failed, killed or never started); ``out/sweep.json`` holds
the sweep's definition, and a different sweep in the same folder is refused. A ``point.json`` that
cannot be read, or an "ok" point whose ``results.json`` cannot, is renamed ``….unreadable``
(kept, named in a warning) and the point re-runs; nothing in a point's folder is deleted. Ctrl-C cancels the
points in flight and stops an embedded cluster; every finished point's folder is complete, and
``sweep.nc`` is written from them before the interrupt goes on. (On an existing cluster a point
already running when cancelled may still finish after that: its folder is then complete and the
next run of the same sweep counts it.)
"""

from __future__ import annotations

import contextlib
import json
import os
import warnings

from columns import ConfigError
from columns.atomic import make_folder

from .. import lock, runner
from ..files import set_aside
from ..progress import bar
from . import dataset, report
from .cluster import SweepError, check, client_for
from .grid import _raw, points
from .point import DONE, inspect_record, run_point, write_record

SPEC = "sweep.json"


def _check_spec(out: str, spec: dict) -> None:
    path = os.path.join(out, SPEC)
    if os.path.exists(path):
        try:
            with open(path) as f:
                old = json.load(f)
        except (OSError, ValueError) as err:
            raise SweepError(f"{path} is unreadable ({err}); use another --out") from None
        if old != spec:
            raise SweepError(f"{out} holds a different sweep ({path}: {old}); use another --out "
                             "or the same grid, seeds and overrides to resume it")
    runner.write_json(path, spec)


def sweep(name: str, grid: dict, seeds=1, out: str | None = None, fixed: dict | None = None,
          tiny: bool = False, device: str | None = None, client=None, scheduler: str | None = None,
          workers: int | None = None, metrics: list[str] | None = None, progress: bool = True,
          timeout: float = 10.0, threads: int | None = None):
    """Run experiment ``name`` at every point of ``grid`` × ``seeds``; return the dataset.

    grid: {config key: [values]} (strings as on the command line, or Python values); seeds: a
    count (seeds 0 … n−1) or a list; fixed: overrides every point shares; client: an existing
    ``distributed.Client`` (else ``scheduler``: None for an embedded ``LocalCluster`` of
    ``workers`` processes, an address, or "serial"); metrics: the variables the summary and heat
    maps show (default: up to ``report.MAX_METRICS`` numeric ones that vary); threads: torch
    threads of a serial point (default: torch's current setting; a Dask point has one). ``out``
    must be a folder every worker can write (a shared file system for a remote cluster).

    Returns:
        The sweep's ``xarray.Dataset`` (also written to ``out/sweep.nc``, with ``summary.md`` and
        heat maps); failed points are NaN with their ``status`` and error in ``points/``.

    Raises:
        ConfigError: an unknown experiment, grid key, value, seed or metric; a bad device.
        SweepError: a cluster that cannot be started or reached, a bad scheduler address, workers
            or timeout.
        OutputError: an ``out`` folder that cannot be written.
    """
    module = runner.load(name)
    if client is None:
        check(scheduler, workers, timeout)
    runner.check_device(device, here=client is None and scheduler in (None, "serial"))
    if metrics is not None and (isinstance(metrics, str) or not all(isinstance(m, str) for m in metrics)):
        raise ConfigError(f"metrics must be a list of variable names, got {metrics!r}")
    fixed = {k.replace("-", "_"): v if isinstance(v, str) else _raw(v)
             for k, v in (fixed or {}).items()}
    pts, coords = points(module, grid, seeds, fixed, tiny)
    out = os.path.abspath(out or os.path.join("sweeps", name))
    spec = {"experiment": name,
            "grid": {k: list(dict.fromkeys(dict(p.raw)[k] for p in pts)) for k in coords},
            "seeds": list(dict.fromkeys(p.seed for p in pts)), "fixed": fixed, "tiny": bool(tiny),
            "device": device, "run_seeds": "seed x batch"}
    runner.check_out(out, "--out")
    make_folder(out, "--out")
    with lock.held(out, "sweep"):
        _check_spec(out, spec)
        todo = [p for p in pts if not _finished(out, p)]
        attrs = {"experiment": name, "tiny": int(bool(tiny)), "fixed": json.dumps(fixed),
                 "seeds": spec["seeds"], "points": len(pts),
                 "run_seed_rule": "sweep seed s runs the experiment with seed s * B, B its own "
                                  "batch of seeds (Config.seeds, else 1): the seeds never overlap"}
        try:
            with contextlib.ExitStack() as stack:
                c = client if client is not None else \
                    stack.enter_context(client_for(scheduler, workers, timeout))
                if c is None:
                    _serial(name, out, todo, fixed, tiny, device, progress, threads)
                else:
                    _distributed(c, name, out, todo, fixed, tiny, device, progress)
        finally:    # also after an interrupt, once an embedded cluster is stopped: no point ends later
            ds = dataset.gather(out, pts, coords, attrs)
            dataset.save(ds, os.path.join(out, "sweep.nc"))
        report.write(out, ds, metrics)
    return ds


def _finished(out: str, p) -> bool:
    """Point ``p`` finished "ok" with readable results; a record or results file that cannot be
    read is set aside (``….unreadable``, named in a warning) so that the point re-runs."""
    rec, problem = inspect_record(out, p.name, p.seed)
    if problem:
        kept = set_aside(os.path.join(out, p.name, DONE))
        warnings.warn(f"sweep: the record of point {p.name} could not be read ({problem}); it is "
                      f"kept as {kept} and the point runs again", RuntimeWarning, stacklevel=3)
        return False
    if rec is None or rec["status"] != "ok":
        return False
    path = os.path.join(out, p.name, "results.json")
    try:
        with open(path) as f:
            if isinstance(json.load(f), dict):
                return True
        problem = "not a JSON object"
    except (OSError, ValueError) as err:
        problem = f"{type(err).__name__}: {err}"
    kept = [set_aside(f) for f in (path, os.path.join(out, p.name, DONE)) if os.path.exists(f)]
    warnings.warn(f"sweep: point {p.name} was recorded ok but its results.json cannot be read "
                  f"({problem}); kept as {', '.join(kept)} and the point runs again",
                  RuntimeWarning, stacklevel=3)
    return False


def _serial(name, out, todo, fixed, tiny, device, progress, threads):
    import torch
    threads = threads or torch.get_num_threads()
    with bar(len(todo), f"sweep {name}", "point", progress) as points_bar:
        for p in todo:
            run_point(name, out, p.name, dict(p.raw), p.seed, fixed, tiny, device, threads,
                      p.run_seed)
            points_bar.update()


def _distributed(client, name, out, todo, fixed, tiny, device, progress):
    from dask.distributed import KilledWorker, as_completed
    futures = {client.submit(run_point, name, out, p.name, dict(p.raw), p.seed, fixed, tiny,
                             device, 1, p.run_seed, key=f"sweep-{p.name}-{os.urandom(4).hex()}",
                             pure=False): p
               for p in todo}
    try:
        with bar(len(futures), f"sweep {name}", "point", progress) as points_bar:
            for fut in as_completed(futures):
                p = futures[fut]
                try:
                    fut.result()
                except KilledWorker as err:
                    write_record(out, p.name, dict(p.raw), p.seed, "failed",
                                 f"KilledWorker: the worker running this point died, and so "
                                 f"did the retries the scheduler allows ({err})")
                except Exception as err:      # noqa: BLE001  e.g. the task could not be sent
                    write_record(out, p.name, dict(p.raw), p.seed, "failed",
                                 f"{type(err).__name__}: {err}")
                points_bar.update()
    except BaseException:
        client.cancel(list(futures))
        raise
