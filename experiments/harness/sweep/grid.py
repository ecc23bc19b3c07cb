"""Sweep points: the Cartesian product of a grid of config values × seeds, checked before any run.

A grid is {key: [values]} over fields of an experiment's ``Config``. Values may be strings (as on
the command line, ``--grid gain=1,2,4``) or Python values; each is coerced and checked exactly as
``columns run --key=value`` would (``experiments.harness.runner.make_config``), so a typo or a value of
the wrong type is named before anything runs. A tuple-valued field takes its elements separated
by ":" on the command line (``--grid digits=1:2:3,3:2:1``), or a tuple in Python.

Order: ``itertools.product`` over the keys in the order given, the seed last (fastest). A point's
folder is ``key1=v1__key2=v2__seed=s`` (characters other than letters, digits and ``._=+-``
replaced by ``_``); a grid whose values give two points the same folder is refused.

Seeds: sweep seed s runs the experiment with ``seed = s · B``, B the experiment's own batch of
seeds (its Config's ``seeds`` count; 1 without one): an experiment run with seed r uses the seeds
r … r + B − 1, so no two sweep seeds share one and "median [range] over seeds" pools independent
replicates (``Point.run_seed``).

Shapes: a sweep of grid sizes n_1 … n_k and S seeds has n_1 ⋯ n_k · S points.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
import typing
from dataclasses import dataclass

from columns import ConfigError
from graphs.values import is_integer

from .. import runner

RESERVED = ("seed",)
"""Keys a grid may not sweep: ``seed`` is the sweep's own ``seeds`` dimension."""


@dataclass(frozen=True)
class Point:
    """One run of a sweep: the swept values (raw strings, as passed to the runner), their coerced
    values (the dataset's coordinates), the sweep's seed, the folder name, and the seed the
    experiment runs with (``run_seed``: the sweep's seed times the experiment's seed batch)."""

    raw: tuple[tuple[str, str], ...]
    values: tuple
    seed: int
    name: str
    run_seed: int


def seed_batch(cfg) -> int:
    """How many seeds one run of the experiment uses (its Config's ``seeds`` count, else 1)."""
    n = getattr(cfg, "seeds", 1)
    return n if is_integer(n, 1) else 1


def parse_grid(items: list[str]) -> dict[str, list[str]]:
    """``["gain=1,2", "n=16,32"]`` (repeated ``--grid``) -> {"gain": ["1", "2"], "n": ["16", "32"]}.

    Returns:
        {key: [value strings]}.

    Raises:
        ConfigError: an item without ``=``, an empty key or value list, or a key given twice.
    """
    grid: dict[str, list[str]] = {}
    for item in items:
        key, sep, vals = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise ConfigError(f"--grid expects key=v1,v2,…, got {item!r}")
        if key in grid:
            raise ConfigError(f"--grid key {key!r} given twice")
        grid[key] = [v for v in vals.split(",") if v != ""]
    return grid


def parse_seeds(seeds) -> tuple[int, ...]:
    """``3`` (or "3") -> (0, 1, 2); "0,4,7" or a sequence -> those seeds (non-negative, distinct).

    Returns:
        The seeds, a tuple of distinct integers ≥ 0.

    Raises:
        ConfigError: a count < 1, a negative or repeated seed, or something that is not a count or
            a list of seeds.
    """
    if isinstance(seeds, str):
        parts = [p for p in seeds.split(",") if p.strip()]
        try:
            vals = [int(p) for p in parts]
        except ValueError:
            raise ConfigError(f"--seeds expects a count or comma-separated seeds, got {seeds!r}") from None
        seeds = vals[0] if len(vals) == 1 and "," not in seeds else vals
    if isinstance(seeds, bool) or not isinstance(seeds, (int, list, tuple, range)):
        raise ConfigError(f"seeds must be a count or a list of seeds, got {seeds!r}")
    if isinstance(seeds, int):
        if seeds < 1:
            raise ConfigError(f"seeds must be at least 1, got {seeds}")
        return tuple(range(seeds))
    out = tuple(seeds)
    if not out or any(not is_integer(s, 0) for s in out):
        raise ConfigError(f"seeds must be non-negative integers, got {list(out)!r}")
    if len(set(out)) != len(out):
        raise ConfigError(f"seeds repeat: {list(out)!r}")
    return out


def _raw(value) -> str:
    """A Python grid value as the runner's ``--key=value`` string."""
    if isinstance(value, (tuple, list)):
        return ",".join(map(str, value))
    return str(value)


def _label(value) -> str:
    return ",".join(map(str, value)) if isinstance(value, (tuple, list)) else str(value)


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._=+-]", "_", text)


def points(module, grid: dict[str, list], seeds, fixed: dict[str, str] | None = None,
           tiny: bool = False) -> tuple[list[Point], dict[str, list]]:
    """The checked points of a sweep and the coordinates {key: [coerced values]} of its grid.

    Raises ``ConfigError`` naming an unknown key (with the valid ones), a value of the wrong
    type, a key with no values, a reserved key, a repeated value or a sweep with nothing to vary.

    Returns:
        (points, coordinates): the list of points (config overrides, seed) and {key: [values]}.

    Raises:
        ConfigError: as above.
    """
    fixed = dict(fixed or {})
    seeds = parse_seeds(seeds)
    aliases = getattr(module, "ALIASES", {})
    for key in fixed:
        if aliases.get(key, key) in RESERVED:
            raise ConfigError(f"--{key}={fixed[key]}: {key} is the sweep's own dimension, set by "
                              "--seeds (a count, or seeds a,b,c); it cannot be fixed")
    fields = [f.name for f in dataclasses.fields(module.Config)]
    hints = typing.get_type_hints(module.Config)
    coords: dict[str, list] = {}
    raws: dict[str, list[str]] = {}
    for key, vals in grid.items():
        key = aliases.get(key, key)
        if key in coords:
            raise ConfigError(f"grid key {key!r} given twice (also by an alias)")
        if key in RESERVED:
            raise ConfigError(f"grid key {key!r} is the sweep's own dimension: use seeds")
        if key not in fields:
            raise ConfigError(f"unknown grid key {key!r} for {module.__name__}; keys: {sorted(fields)}")
        if isinstance(vals, (str, bytes)) or not hasattr(vals, "__iter__"):
            raise ConfigError(f"grid key {key!r}: expected a list of values, got {vals!r}")
        vals = list(vals)
        if not vals:
            raise ConfigError(f"grid key {key!r} has no values (an empty grid)")
        is_tuple = typing.get_origin(hints[key]) in (tuple, list)
        raws[key] = [(v.replace(":", ",") if is_tuple else v) if isinstance(v, str) else _raw(v)
                     for v in vals]
        coerced = [getattr(runner.make_config(module, tiny, {**fixed, key: r}), key) for r in raws[key]]
        labels = [_label(c) for c in coerced]
        if len(set(labels)) != len(labels):
            raise ConfigError(f"grid key {key!r} repeats a value: {labels}")
        if is_tuple:
            coerced = labels                 # a tuple value is one coordinate, written "1,2,3"
        coords[key] = coerced
    runner.make_config(module, tiny, fixed)  # the fixed overrides alone are valid too
    if not coords and len(seeds) == 1:
        raise ConfigError("empty grid: give --grid key=v1,v2,… or more than one seed")
    out, names = [], set()
    keys = list(coords)
    for combo in itertools.product(*[range(len(coords[k])) for k in keys]):
        raw = tuple((k, raws[k][i]) for k, i in zip(keys, combo))
        batch = seed_batch(runner.make_config(module, tiny, {**fixed, **dict(raw)}))
        for seed in seeds:
            values = tuple(coords[k][i] for k, i in zip(keys, combo))
            name = "__".join([_safe(f"{k}={_label(v)}") for k, v in zip(keys, values)]
                             + [f"seed={seed}"])
            if name in names:
                raise ConfigError(f"two grid points share the folder {name!r}: make the values "
                                  "differ in letters or digits")
            names.add(name)
            out.append(Point(raw, values, seed, name, seed * batch))
    return out, coords
