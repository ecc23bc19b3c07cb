"""Sweeps: an experiment over a grid of config values × seeds, on Dask, as one labelled dataset.

    columns sweep NAME --grid key=v1,v2,… [--grid key2=…] [--seeds N] --out DIR
                       [--scheduler ADDR | serial] [--workers N] [--key=value …]

or ``experiments.harness.sweep.sweep(name, grid, seeds, out=…, client=…)``. The parts: ``grid`` (points,
checked before any run), ``point`` (one run in its folder), ``cluster`` (embedded LocalCluster,
an existing scheduler, or serial), ``dataset`` (``sweep.nc``), ``report`` (``sweep.md``, heat maps).
"""

from .cluster import SweepError
from .dataset import flatten, gather, is_wall_time, load, same
from .grid import parse_grid, parse_seeds, points
from .run import sweep

__all__ = ["SweepError", "flatten", "gather", "is_wall_time", "load", "parse_grid", "parse_seeds",
           "points", "same", "sweep"]
