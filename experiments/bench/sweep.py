"""Benchmark P8: ``columns sweep`` on the embedded Dask cluster vs a serial loop
(docs/theory.md §8).

Two sweeps, each run twice in this process over the same points: in turn here
(``scheduler="serial"``, torch with all the cores) and on an embedded ``LocalCluster`` (one worker
process per core, one torch thread each):

- tiny points: fep-sim1's ``--tiny`` preset over seeds (about a second each): what the scheduling
  costs;
- long points: one fep-sim2 regime (evidence 11, β = 0.16681, one seed per point) with
  ``long_epochs`` training epochs: the points the benchmark's bar is about (≥ 1.8 × serial on 2
  cores for minute-long points).

Reported per sweep and mode: wall time (the cluster's start and stop included), points per minute,
the cluster / serial speed-up, and the overhead per point, (wall × workers − Σ the points' own
``total_s``) / points for the cluster (wall − Σ total_s) / points serially: start-up, imports in
the workers, scheduling and gathering. The two datasets are checked equal (wall times aside).

Writes results.json.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import numpy as np
import torch

from ..harness.config import ExperimentConfig
from ..harness.sweep import same, sweep


@dataclass
class Config(ExperimentConfig):
    POSITIVE = ("tiny_points", "long_points", "long_epochs")
    NONNEGATIVE = ("workers",)

    tiny_points: int = 16
    """tiny sweep: points (fep-sim1 --tiny, one seed each)"""
    long_points: int = 4
    """long sweep: points (one fep-sim2 regime, one seed each)"""
    long_epochs: int = 20000
    """long sweep: training epochs per point (5000: the paper's; more makes the point longer)"""
    workers: int = 0
    """embedded cluster: worker processes (0: the cores)"""

    @classmethod
    def tiny(cls) -> "Config":
        return cls(tiny_points=2, long_points=2, long_epochs=200)


def bench(name: str, n: int, fixed: dict, tiny: bool, workers: int, out: str, seed: int) -> dict:
    row = {"experiment": name, "points": n, "fixed": fixed, "workers": workers}
    seeds = list(range(seed, seed + n))
    ds = {}
    for mode in ("serial", "cluster"):
        t0 = time.perf_counter()
        ds[mode] = sweep(name, {}, seeds, out=os.path.join(out, f"{name}_{mode}"), fixed=fixed,
                         tiny=tiny, scheduler="serial" if mode == "serial" else None,
                         workers=None if mode == "serial" else workers, progress=False,
                         threads=torch.get_num_threads())
        wall = time.perf_counter() - t0
        work = float(np.nansum(ds[mode]["timings.total_s"].values))
        lanes = 1 if mode == "serial" else workers
        row[mode] = {"wall_s": wall, "points_per_min": 60 * n / wall, "sum_point_s": work,
                     "overhead_per_point_s": (wall * lanes - work) / n,
                     "ok": int((ds[mode]["status"].values == "ok").sum())}
    row["speedup"] = row["serial"]["wall_s"] / row["cluster"]["wall_s"]
    row["datasets_equal"] = same(ds["serial"], ds["cluster"])
    return row


def main(cfg: Config, out: str) -> dict:
    workers = cfg.workers or os.cpu_count() or 1
    rows = [bench("fep-sim1", cfg.tiny_points, {}, True, workers, out, cfg.seed),
            bench("fep-sim2", cfg.long_points,
                  {"evidence": "11", "beta": "0.16681", "seeds": "1",
                   "epochs": str(cfg.long_epochs)}, False, workers, out, cfg.seed)]
    for r in rows:
        print(f"P8 {r['experiment']} ({r['points']} points): serial {r['serial']['wall_s']:.1f} s, "
              f"cluster ({workers} workers) {r['cluster']['wall_s']:.1f} s = "
              f"{r['speedup']:.2f}× serial; overhead/point {r['cluster']['overhead_per_point_s']:.2f} s "
              f"(serial {r['serial']['overhead_per_point_s']:.2f} s); same dataset: {r['datasets_equal']}")
    return {"rows": rows, "workers": workers, "torch_threads_serial": torch.get_num_threads(),
            "cpu_count": os.cpu_count(), "summary": "; ".join(
                f"{r['experiment']}: cluster {r['speedup']:.2f}× serial" for r in rows)}
