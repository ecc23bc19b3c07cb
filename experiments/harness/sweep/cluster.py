"""Where a sweep's points run: an embedded Dask ``LocalCluster``, an existing cluster, or in turn.

- ``scheduler=None``: a ``LocalCluster`` started for the sweep and stopped after it: ``workers``
  processes (default: the cores), one thread each (each point then runs with one torch thread),
  its HTTP server on a free port (a dashboard when bokeh is installed). Its scheduler gives a
  point whose worker dies one retry (``distributed.scheduler.allowed-failures = 1``); the
  second death is recorded as a failure.
  A worker holds only the point it runs (``worker-saturation = 1.0``): the others wait at the
  scheduler, so a dying worker takes no queued point's retry with it.
- ``scheduler="tcp://host:8786"``: a client of that scheduler; the workers must be able to import
  this package (the same environment). Its retry rule is the scheduler's own setting (Dask's
  default is 3; start it with ``DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES=1`` and
  ``DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION=1.0`` for ours). A
  scheduler that does not answer within ``timeout`` seconds is an error, not a hang.
- ``scheduler="serial"``: no Dask; the points run one after another in this process (the
  baseline of benchmark P8, and the reference the distributed results are checked against).

On SLURM (not a dependency): ``pip install dask-jobqueue``, then in Python
``SLURMCluster(cores=1, processes=1, memory="4GB", walltime="02:00:00").scale(jobs=20)`` and pass
``Client(cluster)`` as ``client=``; or start ``dask scheduler`` on the login node and
``srun dask worker tcp://login:8786 --nthreads 1`` in the job, and pass ``--scheduler``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re

from columns import ColumnsError, ConfigError
from graphs.values import is_integer, is_number


class SweepError(ColumnsError, RuntimeError):
    """A sweep cannot run: its cluster is unreachable, or its folder holds a different sweep."""


MAX_WORKERS_PER_CORE = 8
"""The embedded cluster's most worker processes per core (more only oversubscribes, or hangs)."""
SCHEMES = ("tcp", "tls", "ucx", "inproc", "ws", "wss")
"""The address schemes of a Dask scheduler."""
_ADDRESS = re.compile(r"^([a-z]+)://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+)(?::(\d+))?$")


def check(scheduler, workers, timeout) -> None:
    """``ConfigError`` naming the option when the sweep's cluster options cannot work: a
    scheduler that is not None, "serial" or ``scheme://host[:port]`` (schemes ``SCHEMES``, port
    1–65535); ``workers`` not a count >= 1, more than ``MAX_WORKERS_PER_CORE`` per core, or
    given with a scheduler (it sizes the embedded cluster only); ``timeout`` not a finite number
    of seconds > 0."""
    if scheduler is not None and scheduler != "serial":
        m = _ADDRESS.match(scheduler) if isinstance(scheduler, str) else None
        if m is None or m.group(1) not in SCHEMES or (m.group(3) is not None
                                                     and not 0 < int(m.group(3)) < 65536):
            raise SweepError(f"--scheduler expects an address such as tcp://host:8786 (schemes "
                             f"{', '.join(SCHEMES)}; port 1–65535), or serial; got {scheduler!r}")
    if workers is not None:
        if not is_integer(workers, 1):
            raise ConfigError(f"--workers must be a whole number of worker processes >= 1, got "
                              f"{workers!r}")
        if scheduler is not None:
            raise ConfigError(f"--workers {workers} sizes the embedded cluster, but --scheduler "
                              f"{scheduler} was given: leave one of them out")
        cores = os.cpu_count() or 1
        if workers > MAX_WORKERS_PER_CORE * cores:
            raise ConfigError(f"--workers {workers}: the embedded cluster starts one process per "
                              f"worker, and this machine has {cores} cores (at most "
                              f"{MAX_WORKERS_PER_CORE * cores} here); for more, start a cluster "
                              "and pass --scheduler")
    if not is_number(timeout, 0, strict=True):
        raise ConfigError(f"--timeout must be a finite number of seconds > 0, got {timeout!r}")


@contextlib.contextmanager
def client_for(scheduler: str | None, workers: int | None = None, timeout: float = 10.0):
    """A ``distributed.Client`` for the sweep (module ``experiments.harness.sweep.cluster``), or
    None for ``"serial"``."""
    if scheduler == "serial":
        yield None
        return
    import dask
    from dask.distributed import Client, LocalCluster
    if scheduler is None:
        check(scheduler, workers, timeout)
        n = workers or os.cpu_count() or 1
        with dask.config.set({"distributed.scheduler.allowed-failures": 1,
                              "distributed.scheduler.worker-saturation": 1.0}):
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                   dashboard_address=":0", silence_logs=logging.ERROR)
        try:
            with Client(cluster) as client:
                yield client
        finally:
            cluster.close()
        return
    check(scheduler, workers, timeout)
    try:
        client = Client(scheduler, timeout=timeout)
    except (OSError, TimeoutError, ValueError) as err:
        raise SweepError(f"cannot reach the Dask scheduler at {scheduler} within {timeout:g} s "
                         f"({type(err).__name__}: {err})") from None
    try:
        yield client
    finally:
        client.close()
