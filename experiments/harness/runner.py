"""Run an experiment by name: config from defaults/``--tiny`` + ``--key=value`` overrides,
seeded (here, once), on a device, writing ``results.json`` (atomically) with config, versions and
timings. Only the runner writes results.json: an experiment's ``main(cfg, out)`` returns its
results dict, or ``(results, finish)`` where ``finish()`` makes the figures and returns what to
add; results.json is then written before the figures (so a failing figure loses nothing) and
again with them. While it runs, ``DIR/checkpoint/`` keeps what is done (``experiments.harness.resume``):
an interrupted or failed run leaves ``results_partial.json`` and ``--resume`` continues it."""

from __future__ import annotations

import dataclasses
import importlib
import os
import platform
import time
import typing

import torch

from columns import ColumnsError, ConfigError
from columns.atomic import check_writable

from .. import EXPERIMENTS
from . import lock
from .names import unknown
from . import resume as resume_
from .files import write_json, write_text  # noqa: F401  (write_text: public here, for callers)


class Incomplete(ColumnsError):
    """A run that wrote its results but lacks part of them (``results["incomplete"]`` names each
    missing part and why): the finished units stay in the checkpoint folder, ``--resume``
    recomputes only what failed."""


def check_device(device, here: bool = True) -> None:
    """``ConfigError`` unless ``device`` is None, a CPU or a CUDA device string ("cuda:1"), and,
    when ``here``, a device this machine has (a sweep on a remote cluster checks the form only)."""
    if device is None:
        return
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        dev = None
    if dev is None or dev.type not in ("cpu", "cuda"):
        raise ConfigError(f"--device {device!r}: the experiments run on cpu or cuda (cuda:1, …)")
    if here and dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"--device {device}: CUDA is not available on this machine")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ConfigError(f"--device {device}: this machine has {torch.cuda.device_count()} "
                              f"CUDA device(s), cuda:0 … cuda:{torch.cuda.device_count() - 1}")


def check_out(out: str, what: str = "--out") -> None:
    """``OutputError`` naming ``what`` when the folder ``out`` cannot be written (a file, no
    permission, under a file); creates nothing (``columns.atomic.check_writable``)."""
    check_writable(out, what, folder=True)


def load(name: str):
    if name not in EXPERIMENTS:
        raise ConfigError(unknown(name, EXPERIMENTS))
    return importlib.import_module(EXPERIMENTS[name][0])


def _coerce(field: dataclasses.Field, hint, raw: str):
    origin = typing.get_origin(hint)
    if hint is bool:
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"--{field.name} expects a bool, got {raw!r}")
    if origin in (tuple, list):
        (inner,) = set(typing.get_args(hint)) - {Ellipsis}
        vals = [_coerce(field, inner, r) for r in raw.split(",") if r]
        return tuple(vals) if origin is tuple else vals
    try:
        return hint(raw)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"--{field.name} expects {getattr(hint, '__name__', hint)}, got {raw!r}") from err


def make_config(module, tiny: bool = False, overrides: dict[str, str] | None = None, **direct):
    """The experiment's config: defaults (or ``tiny()``), then ``--key=value`` overrides (a key
    may also be one of the module's ``ALIASES``, e.g. multiregion's ``n_per_region`` for ``n``),
    then ``direct`` values that are not None."""
    cfg = module.Config.tiny() if tiny else module.Config()
    aliases = getattr(module, "ALIASES", {})
    hints = typing.get_type_hints(module.Config)
    fields = {f.name: f for f in dataclasses.fields(cfg)}
    changes = {}
    for key, raw in (overrides or {}).items():
        key = key.replace("-", "_")
        key = aliases.get(key, key)
        if key not in fields:
            raise ConfigError(f"unknown config key {key!r} for {module.__name__}; keys: {sorted(fields)}")
        changes[key] = _coerce(fields[key], hints[key], raw)
    changes.update({k: v for k, v in direct.items() if v is not None})
    return dataclasses.replace(cfg, **changes)


def versions() -> dict:
    import networkx
    import torchdiffeq
    return {"python": platform.python_version(), "torch": torch.__version__,
            "torchdiffeq": getattr(torchdiffeq, "__version__", "?"), "networkx": networkx.__version__,
            "platform": platform.platform(), "cpu_count": os.cpu_count(),
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}


def run(name: str, out: str, tiny: bool = False, seed: int | None = None, device: str | None = None,
        overrides: dict[str, str] | None = None, resume: bool = False, command: str | None = None
        ) -> dict:
    """Run experiment ``name`` into folder ``out``; return its results dict.

    ``resume``: continue the interrupted run in ``out`` (``experiments.harness.resume``): with no
    ``tiny``/``seed``/``device``/``overrides`` its saved config is used, else they must give the
    same config. ``command``: the command line that resumes, for results_partial.json."""
    module = load(name)
    check_device(device)
    check_out(out)
    saved = resume_.Store.saved(out) if resume else None
    if saved is not None and not (tiny or overrides or seed is not None or device is not None):
        try:
            cfg = resume_.config_of(module, saved["config"])
        except (ConfigError, TypeError, ValueError) as err:
            raise ConfigError(f"--resume: the config saved in {os.path.join(out, resume_.FOLDER)}"
                              f"/run.json no longer makes a valid {name} config ({err}); "
                              "everything in the folder is kept") from err
    else:
        cfg = make_config(module, tiny=tiny, overrides=overrides, seed=seed, device=device)
    with lock.held(out):
        return _run(module, name, out, cfg, resume, command)


def _run(module, name: str, out: str, cfg, resume: bool, command: str | None) -> dict:
    """``run`` once the config is made and the folder's lock held."""
    store = resume_.Store(out, name, dataclasses.asdict(cfg), resume=resume)
    command = command or f"columns run {name} --out {out} --resume"
    torch.manual_seed(cfg.seed)
    t0 = time.perf_counter()
    try:
        with resume_.active(store):
            results = module.main(cfg, out)
            finish = None
            if isinstance(results, tuple):         # (results, finish): figures after results.json
                results, finish = results
            results = {"experiment": name, "config": dataclasses.asdict(cfg), "seed": cfg.seed,
                       "versions": versions(), **results,
                       "timings": {**results.get("timings", {}),
                                   "total_s": time.perf_counter() - t0}}
            path = os.path.join(out, "results.json")
            write_json(path, results)
            if finish is not None:
                results.update(finish())
                results["timings"]["total_s"] = time.perf_counter() - t0
                write_json(path, results)
        if results.get("incomplete"):
            raise Incomplete(f"{name}: results.json was written without "
                             + "; ".join(results["incomplete"])
                             + f" (the rest is kept; continue with {command})")
    except BaseException as err:
        store.stopped(err, command)
        raise
    store.finished()
    return results
