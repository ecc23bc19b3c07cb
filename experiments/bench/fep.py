"""Benchmark P3: the FEP attractor network step (code semantics, learning on) (docs/theory.md §8).

Per-step time of ``FEPRuns`` (one network, and R networks in one batch) at N = 64 and N = 1024,
against a plain vectorised NumPy step written here (same equations: h = Jσ, θ = β(b + h), CB
sample by inverse CDF, J += α (σ′ − L(h)) σ′ᵀ, diagonal 0) in the same process; the authors'
object-per-node code (3–6 ms per step at N = 64) as a quoted figure; and, in the full preset, the
wall time of the whole Sim 2 grid (380 runs, training and evaluation) as one batched job.

Writes results.json.
"""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass

import numpy as np
import torch


from ..fep.runs import FEPRuns
from ..harness.config import DTYPES, ExperimentConfig

AUTHORS_MS_PER_STEP_N64 = (3.0, 6.0)


@dataclass
class Config(ExperimentConfig):
    POSITIVE = ("sizes", "steps", "repeats", "batch_runs")
    CHOICES = {"dtype": DTYPES}
    sizes: tuple[int, ...] = (64, 1024)
    """network sizes N"""
    steps: int = 200
    """map steps timed"""
    repeats: int = 3
    """timing repeats (median)"""
    batch_runs: int = 380
    """runs of the batched grid"""
    grid: bool = True
    """also time the 380-run Sim 2 grid"""
    dtype: str = "float64"
    """float64 or float32"""

    @classmethod
    def tiny(cls) -> "Config":
        return cls(sizes=(64, 256), steps=20, repeats=2, batch_runs=16, grid=False)


def numpy_langevin(x):
    small = np.abs(x) < 1e-3
    safe = np.where(small, 1.0, x)
    return np.where(small, x / 3 - x ** 3 / 45, 1 / np.tanh(safe) - 1 / safe)


def numpy_step(J, sigma, b, beta, alpha, rng):
    h = J @ sigma
    th = np.clip(beta * (b + h), -500, 500)
    a = np.abs(th)
    a_safe = np.where(a < 1e-12, 1.0, a)
    u = rng.random(sigma.shape[0])
    new = np.sign(th) * (1 + np.log1p(u * np.expm1(-2 * a_safe)) / a_safe)
    new = np.clip(np.where(a < 1e-12, 2 * u - 1, new), -1, 1)
    J += alpha * np.outer(new - numpy_langevin(h), new)
    np.fill_diagonal(J, 0.0)
    return new


def _time(fn, steps, repeats, sync):
    fn(5)
    sync()
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(steps)
        sync()
        out.append((time.perf_counter() - t0) / steps)
    return statistics.median(out)


def main(cfg: Config, out: str) -> dict:
    device = torch.device(cfg.device)
    dtype = getattr(torch, cfg.dtype)
    sync = (lambda: torch.cuda.synchronize()) if device.type == "cuda" else (lambda: None)
    rows = []
    for n in cfg.sizes:
        g = np.random.default_rng(cfg.seed)
        pat = g.standard_normal(n) * 5
        Jn, sn = np.zeros((n, n)), np.zeros(n)

        def np_run(k, Jn=Jn, sn=sn, pat=pat):
            s = sn
            for _ in range(k):
                s = numpy_step(Jn, s, pat, 0.5, 0.001, g)

        t_np = _time(np_run, cfg.steps, cfg.repeats, lambda: None)
        res_row = {"N": n, "numpy_ms_per_step": t_np * 1e3}
        big = cfg.batch_runs if n <= 128 else max(1, cfg.batch_runs // 95)   # (R, N, N) memory
        res_row["batch_runs"] = big
        for R in dict.fromkeys((1, big)):
            net = FEPRuns(n, R, beta=0.5, alpha=0.001, dtype=dtype, device=device)
            b = torch.as_tensor(pat, dtype=dtype, device=device).expand(R, n)
            state = {"s": torch.zeros(R, n, dtype=dtype, device=device)}

            def ours(k, net=net, b=b, state=state):
                s = state["s"]
                for _ in range(k):
                    s = net.step(s, b)
                state["s"] = s

            t = _time(ours, cfg.steps, cfg.repeats, sync)
            res_row[f"ours_R{R}_ms_per_step"] = t * 1e3
            res_row[f"ours_R{R}_us_per_run_step"] = t / R * 1e6
        res_row["speedup_vs_numpy_R1"] = t_np * 1e3 / res_row["ours_R1_ms_per_step"]
        res_row["batched_us_per_run_step"] = res_row[f"ours_R{big}_us_per_run_step"]
        res_row["speedup_vs_numpy_per_run_batched"] = t_np * 1e6 / res_row["batched_us_per_run_step"]
        rows.append(res_row)
    res = {"rows": rows, "authors_ms_per_step_N64": AUTHORS_MS_PER_STEP_N64,
           "batch_runs": cfg.batch_runs, "dtype": cfg.dtype, "device": str(device)}
    print(f"{'N':>5} {'numpy ms':>9} {'ours R=1 ms':>12} {'×':>6} {'R':>4} {'µs/run-step':>12} {'×':>6}")
    for r in rows:
        print(f"{r['N']:>5} {r['numpy_ms_per_step']:>9.3f} {r['ours_R1_ms_per_step']:>12.3f} "
              f"{r['speedup_vs_numpy_R1']:>6.2f} {r['batch_runs']:>4} "
              f"{r['batched_us_per_run_step']:>12.2f} {r['speedup_vs_numpy_per_run_batched']:>6.1f}")
    if cfg.grid:
        from ..harness import runner
        t0 = time.perf_counter()
        sub = os.path.join(out, "sim2_grid")
        runner.run("fep-sim2", sub, device=cfg.device, overrides={"grid": "true", "dtype": cfg.dtype})
        res["grid_wall_s"] = time.perf_counter() - t0
        res["grid_bar_s"] = 300
        print(f"Sim 2 grid (380 runs, training + evaluation): {res['grid_wall_s']:.1f} s (bar 300 s)")
    return res
