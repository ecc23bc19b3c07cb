"""A sweep's results as one labelled ``xarray.Dataset``, built from the point folders alone.

Dimensions: one per swept key (coordinates: the coerced values; a tuple value is the string
"1,2,3"), then ``seed``. Variables:

- ``status`` ("ok" | "failed" | "pending": not finished) and ``error`` ("" or "Type: message");
- every scalar of the points' ``results.json``, named by the flattening rule: nested keys joined
  with "." (``{"a": {"b": 1}}`` → ``a.b``), list items by their index (``{"r": [1, 2]}`` →
  ``r.0``, ``r.1``) for lists of at most ``MAX_LIST`` items (longer lists are series: they stay
  in the point's files); ``config``, ``versions``, ``experiment`` and ``seed`` are not variables
  (the coordinates and the attributes say them); a key named like a swept key gets the prefix
  ``results.``. A variable whose values are all numbers, bools
  or None is float64 with NaN where a point has no value (failed, pending, or a key that point
  does not have); any other is a string variable, "" where missing. Wall times are the
  ``timings.*`` variables and any whose last name part ends in ``_s`` (the experiments'
  convention for seconds: ``wall_s``, ``train_s``); ``same`` compares datasets without them.

Attributes: ``experiment``, ``tiny``, ``fixed`` (the overrides every point shares, JSON),
``seeds``, ``flatten_rule``. Because the dataset is a function of the folders, a resumed sweep
and an uninterrupted one give the same dataset (wall times aside), and ``sweep.nc`` written after
an interrupt is consistent with the finished folders.

Shapes: each variable (n_1, …, n_k, S).
"""

from __future__ import annotations

import json
import math
import os

import numpy as np

from columns import atomic_write

from .cluster import SweepError
from .point import read_record

MAX_LIST = 16
SKIP = ("config", "versions", "experiment", "seed")
FLATTEN_RULE = ("nested keys joined with '.'; list items by index for lists of <= 16 items; "
                "config, versions, experiment, seed left out")


def flatten(d: dict, prefix: str = "") -> dict:
    """{"a": {"b": 1, "c": [2, 3]}} -> {"a.b": 1, "a.c.0": 2, "a.c.1": 3} (module
    ``experiments.harness.sweep.dataset``).

    Returns:
        The flat dict {"dotted.key": value}.
    """
    out = {}
    for k, v in d.items():
        if not prefix and k in SKIP:
            continue
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, key + "."))
        elif isinstance(v, (list, tuple)):
            if len(v) <= MAX_LIST:
                out.update(flatten({str(i): x for i, x in enumerate(v)}, key + "."))
        elif v is None or isinstance(v, (bool, int, float, str)):
            out[key] = v
    return out


def _numeric(values) -> bool:
    return all(v is None or (isinstance(v, (bool, int, float))) for v in values)


def gather(out: str, points: list, coords: dict, attrs: dict):
    """The dataset of the sweep in folder ``out`` (module ``experiments.harness.sweep.dataset``).

    Returns:
        An ``xarray.Dataset`` over the grid's coordinates and ``seed``, with ``status`` and every
        flattened result variable (NaN where a point failed).
    """
    import xarray as xr
    seeds = sorted({p.seed for p in points}, key=[p.seed for p in points].index)
    dims = list(coords) + ["seed"]
    shape = tuple(len(coords[k]) for k in coords) + (len(seeds),)
    status = np.full(len(points), "pending", dtype=object)
    error = np.full(len(points), "", dtype=object)
    rows: list[dict] = [{} for _ in points]
    for i, p in enumerate(points):
        rec = read_record(out, p.name)
        if rec is None:
            continue
        status[i], error[i] = rec["status"], rec["error"]
        if rec["status"] == "ok":
            try:
                with open(os.path.join(out, p.name, "results.json")) as f:
                    rows[i] = flatten(json.load(f))
            except (OSError, ValueError) as err:
                status[i], error[i] = "failed", f"results.json unreadable: {err}"
    keys = sorted({k for r in rows for k in r})
    data = {"status": (dims, status.reshape(shape).astype(str)),
            "error": (dims, error.reshape(shape).astype(str))}
    for k in keys:
        vals = [r.get(k) for r in rows]
        if _numeric(vals):
            arr = np.array([math.nan if v is None else float(v) for v in vals], dtype=np.float64)
        else:
            arr = np.array(["" if v is None else str(v) for v in vals], dtype=str)
        data[k if k not in dims else f"results.{k}"] = (dims, arr.reshape(shape))  # not a dim name
    ds = xr.Dataset(data, coords={**{k: list(v) for k, v in coords.items()}, "seed": seeds})
    ds.attrs.update({**attrs, "flatten_rule": FLATTEN_RULE})
    return ds


def is_wall_time(name: str) -> bool:
    """A wall-time variable (module ``experiments.harness.sweep.dataset``): differs between
    otherwise identical runs.

    Returns:
        True for a timing variable.
    """
    return name.startswith("timings.") or name.rsplit(".", 1)[-1].endswith("_s")


def same(a, b) -> bool:
    """The two datasets have the same dimensions, coordinates and variables (in any order), and
    equal values in every variable but the wall times (NaN equal to NaN).

    Returns:
        True when the datasets match.
    """
    if sorted(a.data_vars) != sorted(b.data_vars) or dict(a.sizes) != dict(b.sizes):
        return False
    if any(a[k].values.tolist() != b[k].values.tolist() for k in a.coords):
        return False
    return all(np.array_equal(a[k].values, b[k].values, equal_nan=a[k].dtype.kind == "f")
               for k in a.data_vars if not is_wall_time(k))


def save(ds, path: str) -> str:
    """Write ``ds`` to NetCDF atomically (the old file stays until the new one is complete).

    The format is NetCDF-3 (64-bit offset, by scipy): a study has thousands of scalars (the main
    study's results.json flattens to ~12 000), and NetCDF-4/HDF5 costs about a millisecond and
    2 kB per variable (13 s and 28 MB for 3 points, against 1 s and 2 MB); every NetCDF reader
    (netCDF4, xarray's engines, ncdump) opens it."""
    return atomic_write(path, lambda tmp: ds.to_netcdf(tmp, engine="scipy", format="NETCDF3_64BIT"),
                        suffix=".nc")


def load(path):
    """A sweep's dataset back (loaded into memory; the file is closed): ``path`` is ``sweep.nc``
    or the sweep's folder. ``SweepError`` naming the path when there is no such file or it is not
    a sweep's NetCDF file.

    Returns:
        The ``xarray.Dataset``, in memory.

    Raises:
        SweepError: not a folder or a file, no ``sweep.nc`` there, an unreadable file, or NetCDF
            that is not a sweep's.
    """
    import xarray as xr
    try:
        path = os.fspath(path)
    except TypeError:
        raise SweepError(f"load takes a sweep's folder or its sweep.nc, got "
                         f"{type(path).__name__}") from None
    if os.path.isdir(path):
        path = os.path.join(path, "sweep.nc")
    if not os.path.exists(path):
        raise SweepError(f"no sweep dataset at {path} (a sweep writes sweep.nc into its --out "
                         "folder)")
    try:
        with xr.open_dataset(path, engine="scipy") as ds:
            ds = ds.load()
    except Exception as err:                    # noqa: BLE001 - truncated, garbled, foreign
        raise SweepError(f"{path} cannot be read as a sweep dataset ({type(err).__name__}: "
                         f"{str(err)[:160]}); running the sweep again rebuilds it from the point "
                         "folders") from None
    if "status" not in ds.data_vars or "seed" not in ds.dims:
        raise SweepError(f"{path} is a NetCDF file but not a sweep's (no status variable or seed "
                         "dimension)")
    return ds
