"""Units of work side by side: worker processes compute an experiment's units into its store.

The main study's networks are small (3 × 64 columns): one run uses one core well and a second
thread gains nothing (``columns.threads``), so on a 2-core machine half of it idles while the five
least-action runs train one after another. ``prefetch`` runs such tasks in ``jobs`` worker
processes instead. Each worker attaches to the run's checkpoint folder (``resume.Store.attach``)
and calls the task, whose resumable units (``resume.unit``) are saved there as usual; afterwards
the experiment's own code runs unchanged in this process and finds every unit on disk (loaded, not
recomputed). So the results are those of the sequential run:

- a worker starts from this process's RNG states, as the unit would have here; the units a task
  computes draw nothing from the global RNG (each unit saves the states after it, which this
  process takes back when it loads the unit);
- a task that fails in a worker is left undone and recomputed here, where it fails as it would
  have, with its own error;
- an interrupt (Ctrl-C, SIGTERM) stops the workers with SIGTERM, each saving the ``simulate``
  checkpoint of its unit in progress; ``--resume`` continues them (``resume.Store.stopped`` names
  the units the workers finished and left in progress).

Workers are spawned (a fresh interpreter: no OpenMP state copied by fork), pull tasks from one
queue in the order given (put the longest first), and report progress to this process's bar.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import queue
import signal
import sys
import threading
import time

STOP_WAIT_S = 60.0
"""Seconds a worker gets to save its checkpoint after SIGTERM before it is killed."""


def jobs_for(requested: int, tasks: int, device: str = "cpu") -> int:
    """How many worker processes to use: 1 (compute here) without an active store, on a GPU,
    inside a daemonic process or for fewer than 2 tasks; else ``requested`` (≥ 1) or, for 0, the
    cores the thread setting allows (``--threads N``: N; auto: the cores free now; none: torch's
    count), at most ``tasks``."""
    from columns import threads

    from . import resume
    if (resume.current() is None or tasks < 2 or not str(device).startswith("cpu")
            or multiprocessing.current_process().daemon):
        return 1
    if requested >= 1:
        return min(requested, tasks)
    setting = threads.setting()
    import torch
    cap = (threads.free_cores() if setting == "auto"
           else setting if isinstance(setting, int) else torch.get_num_threads())
    return max(1, min(cap, tasks))


def prefetch(task: str, args: list[tuple], jobs: int, bar=None) -> None:
    """Run ``task(*a, bar=…)`` for every ``a`` in ``args`` in ``jobs`` spawned worker processes
    attached to the active store; ``task`` is "package.module:function" (importable by the
    workers; the args must pickle). ``bar`` (a tqdm bar or None) receives the workers' updates.
    Returns when every worker has ended; a task that failed is simply not on disk."""
    from columns import threads

    from . import resume
    store = resume.current()
    ctx = multiprocessing.get_context("spawn")
    todo, events = ctx.Queue(), ctx.Queue()
    for a in args:
        todo.put(a)
    for _ in range(jobs):
        todo.put(None)
    setting = threads.setting()
    each = ("auto" if setting == "auto" else max(1, setting // jobs) if isinstance(setting, int)
            else 1)
    spec = {"out": store.out, "name": store.name, "config": store.run["config"],
            "rng": resume.rng_states(), "threads": each, "task": task, "parent": os.getpid()}
    procs = [ctx.Process(target=_worker, args=(spec, todo, events), daemon=False,
                         name=f"columns-worker-{i}") for i in range(jobs)]
    try:
        for p in procs:
            p.start()
        while any(p.is_alive() for p in procs) or not events.empty():
            try:
                n = events.get(timeout=0.2)
            except queue.Empty:
                continue
            if bar is not None:
                bar.update(n)
    except BaseException:                       # Ctrl-C, SIGTERM: the workers save and stop
        _stop(procs)
        raise
    finally:
        for q in (todo, events):
            q.cancel_join_thread()
            q.close()


def _stop(procs) -> None:
    for p in procs:
        if p.is_alive():
            try:
                os.kill(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + STOP_WAIT_S
    for p in procs:
        p.join(max(0.0, deadline - time.monotonic()))
        if p.is_alive():
            p.kill()
            p.join()


class _Bar:
    """What a task sees as its progress bar: updates go to the parent's bar."""

    def __init__(self, events):
        self.events = events

    def update(self, n: int = 1) -> None:
        self.events.put(int(n))

    def set_postfix_str(self, s: str) -> None:
        pass


def _orphaned(parent: int) -> None:
    """End this worker when its parent is gone (killed with SIGKILL: nothing else tells us)."""
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(1)


def _worker(spec: dict, todo, events) -> None:
    """A worker process: tasks from ``todo`` until None; SIGTERM unwinds as an interrupt (the
    unit in progress saves its checkpoint), Ctrl-C at the terminal is the parent's to handle."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def stop(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, stop)
    threading.Thread(target=_orphaned, args=(spec["parent"],), daemon=True).start()
    from columns import threads

    from . import progress, resume
    progress.ENABLED = False
    threads.set_threads(spec["threads"])
    module, name = spec["task"].split(":")
    task = getattr(importlib.import_module(module), name)
    store = resume.Store.attach(spec["out"], spec["name"], spec["config"])
    bar = _Bar(events)
    try:
        with resume.active(store):
            while (args := todo.get()) is not None:
                resume.set_rng_states(spec["rng"])
                try:
                    task(*args, bar=bar)
                except Exception:                 # noqa: BLE001 - recomputed by the parent
                    pass
    except KeyboardInterrupt:
        sys.exit(130)
    finally:
        events.close()
        events.join_thread()
