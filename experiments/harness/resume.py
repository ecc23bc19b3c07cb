"""Interrupt and resume an experiment: what is done survives Ctrl-C, SIGTERM or a failure.

A run into ``DIR`` keeps ``DIR/checkpoint/`` while it works:

    run.json              the experiment, its config and the torch version (what defines the run)
    <unit>.pt             one per finished unit of work: its value and the RNG states after it
    <unit>.sim.ckpt       the ``simulate`` checkpoint of the unit in progress (``sim_checkpoint``)

An experiment marks its long pieces of work (a training segment, a run) as units:

    seg = resume.unit("bm/main/segment-0", lambda: train_segment(...))

On a fresh run ``unit`` calls the function, saves what it returns (``torch.save``; tensors,
numbers, dicts, lists) with the global RNG states after it (torch CPU and CUDA, numpy, random),
and returns it. On ``--resume`` a unit found on disk is loaded instead and the RNG states are put
back, so the code after it sees exactly what it saw in the uninterrupted run; a unit that was in
progress continues from its ``simulate`` checkpoint. With the same code on CPU, a resumed run gives
the uninterrupted run's results bit for bit (``tests/test_resume.py``). Units must be called in
the same order on every run (the code path may not depend on wall time).

When the run stops early (``KeyboardInterrupt`` — Ctrl-C, or SIGTERM in the CLI — or an
exception), ``DIR/results_partial.json`` says where: the units done, the one in progress (and how
far its ``simulate`` got), the error, and the command that resumes it. A finished run removes
both. A run stopped before any unit finished (an experiment without units, a bad config value)
leaves nothing to resume: the checkpoint folder is removed and no results_partial.json written.

Nothing finished is deleted on a failure: a checkpoint folder is removed only when its run
completed, or when the run that just created it stopped before any unit finished. A unit file or
an in-progress ``simulate`` checkpoint that cannot be read (truncated, garbled, foreign) is
renamed ``….unreadable`` (kept for inspection), named in a warning and recomputed; a folder with
finished units but no run.json is refused, not overwritten.

Outside ``runner.run`` (an experiment's ``main`` called from Python) no store is active and
``unit`` simply calls the function.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import random
import re
import shutil
import threading
import time
import typing
import warnings

import numpy as np
import torch

from columns import atomic_write
from columns import ConfigError

from .files import set_aside, write_json

FOLDER = "checkpoint"
PARTIAL = "results_partial.json"
_local = threading.local()          # the active store, per thread: a sweep may run points as
                                    # threads of one worker process, each with its own run


def current() -> "Store | None":
    """The store ``unit`` uses in the calling thread (None outside ``runner.run``)."""
    return getattr(_local, "store", None)


def unit(key: str, compute: typing.Callable[[], typing.Any]):
    """The value of unit ``key``: loaded from the active store's checkpoint when it was finished
    before, else ``compute()`` (saved when a store is active)."""
    store = current()
    return compute() if store is None else store.unit(key, compute)


def sim_checkpoint(key: str) -> dict:
    """Keyword arguments for ``simulate`` inside unit ``key``: its checkpoint file (written every
    8 chunks and on an interrupt) and ``resume=True``; {} when no store is active."""
    store = current()
    if store is None:
        return {}
    store.current = key
    return {"checkpoint": store.path(key, ".sim.ckpt"), "checkpoint_every": 8, "resume": True}


@contextlib.contextmanager
def active(store: "Store | None"):
    """Make ``store`` the one ``unit`` uses in this thread while the block runs."""
    previous, _local.store = current(), store
    try:
        yield store
    finally:
        _local.store = previous


def rng_states() -> dict:
    return {"torch": torch.get_rng_state(), "numpy": np.random.get_state(),
            "random": random.getstate(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None}


def set_rng_states(s: dict) -> None:
    torch.set_rng_state(s["torch"])
    np.random.set_state(s["numpy"])
    random.setstate(s["random"])
    if s["cuda"] is not None:
        torch.cuda.set_rng_state_all(s["cuda"])


def config_of(module, saved: dict):
    """The module's Config from its JSON form (lists back to tuples where the field is a tuple)."""
    hints = typing.get_type_hints(module.Config)
    values = {}
    for f in dataclasses.fields(module.Config):
        if f.name in saved:
            v = saved[f.name]
            values[f.name] = tuple(v) if typing.get_origin(hints[f.name]) is tuple else v
    return module.Config(**values)


class Store:
    """The checkpoint folder of one run (module ``experiments.harness.resume``).

    Args:
        out: the run's output folder.
        name: the experiment's name.
        config: the run's config as a JSON-able dict (``dataclasses.asdict``).
        resume: continue the run whose checkpoint is in ``out`` (it must exist and match).

    Raises:
        ConfigError: ``resume`` with no interrupted run in ``out`` or one of a different
            experiment or config (names the key); no ``resume`` while ``out`` holds an
            interrupted run (it would be overwritten).
    """

    def __init__(self, out: str, name: str, config: dict, resume: bool = False):
        self.out, self.name, self.folder = out, name, os.path.join(out, FOLDER)
        config = json.loads(json.dumps(config))          # tuples as lists, as run.json has them
        self.run = {"experiment": name, "config": config, "torch": torch.__version__}
        self.done: list[str] = []
        self.loaded: list[str] = []
        self.current: str | None = None
        saved = self.saved(out)
        if resume:
            if saved is None:
                raise ConfigError(f"--resume: {out!r} holds no interrupted run (no "
                                  f"{os.path.join(out, FOLDER, 'run.json')})")
            for key in ("experiment", "torch"):
                if saved[key] != self.run[key]:
                    raise ConfigError(f"--resume: the run in {out!r} is {key} {saved[key]!r}, "
                                      f"not {self.run[key]!r}")
            differ = [key for key in sorted(set(saved["config"]) | set(config))
                      if saved["config"].get(key) != config.get(key)]
            if differ:
                each = "; ".join(f"--{k}={saved['config'].get(k)!r} there, {config.get(k)!r} here"
                                 for k in differ[:8])
                raise ConfigError(f"--resume: the run in {out!r} was started with other options: "
                                  f"{each}{' …' if len(differ) > 8 else ''} ({len(differ)} differ; "
                                  "a --tiny or --seed given now counts too): resume without "
                                  "options to take the saved config")
        elif saved is not None:
            raise ConfigError(f"{out!r} holds an unfinished {saved['experiment']} run (see "
                              f"{os.path.join(out, PARTIAL)}): add --resume to continue it, or "
                              f"remove {self.folder} to start over")
        else:
            work = self.work_files()
            if work:
                raise ConfigError(f"{self.folder} holds {len(work)} saved unit(s) of work "
                                  f"({', '.join(work[:3])}{', …' if len(work) > 3 else ''}) but "
                                  "no run.json, so it cannot be resumed or safely replaced: "
                                  "move it away (nothing was removed)")
            shutil.rmtree(self.folder, ignore_errors=True)
            os.makedirs(self.folder, exist_ok=True)
            write_json(os.path.join(self.folder, "run.json"), self.run)
        self.resumed = bool(resume)

    @classmethod
    def attach(cls, out: str, name: str, config: dict) -> "Store":
        """The store of the run in ``out`` for a worker process of that run
        (``experiments.harness.workers``): it saves and loads units in the same folder, and
        checks, creates and removes nothing."""
        store = cls.__new__(cls)
        store.out, store.name, store.folder = out, name, os.path.join(out, FOLDER)
        store.run = {"experiment": name, "config": json.loads(json.dumps(config)),
                     "torch": torch.__version__}
        store.done, store.loaded, store.current, store.resumed = [], [], None, True
        return store

    def on_disk(self, suffix: str) -> list[str]:
        """The keys of the units in the folder with files ending in ``suffix`` (".pt": finished,
        ".sim.ckpt": in progress), whichever process saved them."""
        if not os.path.isdir(self.folder):
            return []
        return sorted(f[:-len(suffix)].replace("__", "/") for f in os.listdir(self.folder)
                      if f.endswith(suffix))

    def work_files(self) -> list[str]:
        """The unit files and simulate checkpoints in the folder (sorted names)."""
        if not os.path.isdir(self.folder):
            return []
        return sorted(f for f in os.listdir(self.folder)
                      if f.endswith((".pt", ".sim.ckpt", ".unreadable")))

    @staticmethod
    def saved(out: str) -> dict | None:
        """The run.json of an interrupted run in ``out``, or None."""
        path = os.path.join(out, FOLDER, "run.json")
        if not os.path.exists(path):
            return None
        try:
            with open(path) as f:
                saved = json.load(f)
            if not (isinstance(saved, dict) and isinstance(saved.get("config"), dict)
                    and isinstance(saved.get("experiment"), str) and "torch" in saved):
                raise ValueError("not a run description: needs experiment, config and torch")
            return saved
        except (OSError, ValueError) as err:
            raise ConfigError(f"{path} is not readable ({err}); the run's saved work is kept: "
                              f"move {os.path.dirname(path)} away to start over") from err

    def path(self, key: str, suffix: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_.\-/]+", key) or ".." in key:
            raise ValueError(f"unit key {key!r}: letters, digits, '_', '-', '.', '/' only")
        return os.path.join(self.folder, key.replace("/", "__") + suffix)

    def unit(self, key: str, compute):
        if key in self.done:
            raise ValueError(f"unit {key!r} called twice in one run")
        file = self.path(key, ".pt")
        data = self._readable(key, file, unit=True)
        if data is not None:
            set_rng_states(data["rng"])
            self.loaded.append(key)
        else:
            self.current = key
            self._readable(key, self.path(key, ".sim.ckpt"), unit=False)
            data = {"value": compute(), "rng": rng_states()}
            atomic_write(file, lambda tmp: torch.save(data, tmp), suffix=".pt.tmp")
            sim = self.path(key, ".sim.ckpt")
            if os.path.exists(sim):
                os.remove(sim)
        self.current = None
        self.done.append(key)
        return data["value"]

    def _readable(self, key: str, file: str, unit: bool):
        """A unit file's contents (``unit``) or None; a file that cannot be read is renamed
        ``….unreadable`` and named in a warning (the work is recomputed). For a simulate
        checkpoint (``unit`` False) only the check and the renaming."""
        if not os.path.exists(file):
            return None
        try:
            data = torch.load(file, map_location="cpu", weights_only=False)
            if unit and not (isinstance(data, dict) and {"value", "rng"} <= set(data)):
                raise ValueError("not a unit of this store")
            if not unit and not (isinstance(data, dict) and "k" in data):
                raise ValueError("not a simulate checkpoint")
        except Exception as err:                  # noqa: BLE001 - truncated, garbled, foreign
            bad = set_aside(file)
            warnings.warn(f"resume: {'unit' if unit else 'the checkpoint of unit'} {key!r} "
                          f"could not be read ({type(err).__name__}: {str(err)[:120]}); it is "
                          f"kept as {bad} and {'recomputed' if unit else 'the unit restarts'}",
                          RuntimeWarning, stacklevel=3)
            return None
        return data if unit else None

    def stopped(self, err: BaseException, command: str) -> str | None:
        """Write results_partial.json for a run stopped by ``err``; return its path (None, and
        the checkpoint folder removed, when nothing was done: e.g. a bad config value)."""
        sim = None if self.current is None else self.path(self.current, ".sim.ckpt")
        if not self.done and (sim is None or not os.path.exists(sim)):
            if not self.work_files():            # nothing saved: nothing to resume
                if not self.resumed:             # this run's own empty folder only
                    shutil.rmtree(self.folder, ignore_errors=True)   # an own partial stays
                return None
        interrupted = isinstance(err, KeyboardInterrupt)
        # units that worker processes finished or left in progress are in the folder only
        done = self.done + [k for k in self.on_disk(".pt") if k not in self.done]
        going = [k for k in self.on_disk(".sim.ckpt") if k not in done]
        current = self.current if self.current is not None else (going[0] if going else None)
        partial = {"experiment": self.name, "status": "interrupted" if interrupted else "failed",
                   "error": None if interrupted else f"{type(err).__name__}: {err}",
                   "stopped_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                   "units_done": done, "units_loaded": list(self.loaded),
                   "unit_in_progress": current, "units_in_progress": going, "resume": command,
                   "config": self.run["config"]}
        sim = None if current is None else self.path(current, ".sim.ckpt")
        if sim is not None and os.path.exists(sim):
            try:
                data = torch.load(sim, map_location="cpu", weights_only=False)
                partial["in_progress_samples"] = [int(data["k"]) + 1,
                                                  int(data["fingerprint"]["grid"].numel())]
            except Exception as err:              # noqa: BLE001 - described, not fatal here
                partial["in_progress_samples"] = f"unreadable ({type(err).__name__})"
        path = os.path.join(self.out, PARTIAL)
        write_json(path, partial)
        return path

    def finished(self) -> None:
        """The run is complete: remove the checkpoint folder and results_partial.json."""
        shutil.rmtree(self.folder, ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):
            os.remove(os.path.join(self.out, PARTIAL))

