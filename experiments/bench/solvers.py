"""Benchmark P5: the least-action solver against the forward ivp solver (docs/theory.md §8).

(a) Cost of one least-action iteration (the action S and its gradient over a window of K steps,
    i.e. one L-BFGS function evaluation) for BM networks of N columns and E = 10 N learnable
    edges, against the forward ``ivp`` solver (rk4, K steps) on the same window, in the same
    process: time per (step × column), the ratio, and the fitted exponent of the cost in
    K · (N + E) (linear means 1).
(b) A receding-horizon run on a stream of ``stream_steps`` steps with N = 10³ columns and
    E = 10⁴ learned edges, for several window lengths (overlap = half a window), by Newton–Krylov
    (the default for large windows) and by L-BFGS capped at ``stream_max_iter`` (the before):
    wall time, windows, iterations, time per window and per window step, converged or not.

Writes results.json and p5_scaling.png.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

import columns as C
from columns import energy
from columns.solvers import discrete_lagrangian, stimulus_grid

from ..harness.config import DTYPES, ExperimentConfig
from .common import random_coupling
from ..harness.timing import median_time
from ..harness.figures import pyplot, save


@dataclass
class Config(ExperimentConfig):
    CHOICES = {"dtype": DTYPES, "stream_optimizers": ("auto", "newton", "krylov", "lbfgs")}
    NONEMPTY = ("stream_optimizers",)
    POSITIVE = ("sizes", "windows", "repeats", "dt", "stream_n", "stream_steps", "stream_windows",
                "stream_max_iter")
    sizes: tuple[int, ...] = (100, 1000, 10000)
    """network sizes N"""
    windows: tuple[int, ...] = (10, 20, 40, 80)
    """least-action windows K"""
    repeats: int = 5
    """timing repeats (median)"""
    dt: float = 0.05
    """time step"""
    stream_n: int = 1000
    """receding horizon: columns"""
    stream_steps: int = 100
    """receding horizon: steps"""
    stream_windows: tuple[int, ...] = (10, 20, 40)
    """receding horizon: windows tried"""
    stream_max_iter: int = 300
    """receding horizon: L-BFGS iterations per window (the before)"""
    stream_optimizers: tuple[str, ...] = ("krylov", "lbfgs")
    """receding horizon: optimizers compared (krylov: Newton–Krylov, the default for large n;
    lbfgs: the before)"""
    dtype: str = "float64"
    """float64 or float32"""

    @classmethod
    def tiny(cls) -> "Config":
        return cls(sizes=(50, 200), windows=(5, 10), repeats=2, stream_n=100, stream_steps=20,
                   stream_windows=(5, 10), stream_max_iter=50)


def network(n: int, seed: int, device, dtype, steps: int, dt: float) -> C.Network:
    cp = random_coupling(n, 10 * n, seed, learnable=True)
    g = torch.Generator().manual_seed(seed)
    n_pat = max(2, steps // 10 + 2)
    vals = torch.randn(n_pat, n, generator=g, dtype=torch.float64)
    times = torch.arange(n_pat, dtype=torch.float64) * 10 * dt
    stim = C.Stimulus.sampled(times, vals, interpolation="previous")
    pl = C.HebbianPlasticity(m_W=0.5, gamma_W=0.1)
    return C.Network(cp, {"bm": C.NetworkBMColumn(n)}, plasticity=pl, stimulus=stim,
                     dtype=dtype).to(device)


def bench_iteration(cfg: Config, device, dtype) -> list[dict]:
    rows = []
    for n in cfg.sizes:
        for K in cfg.windows:
            net = network(n, cfg.seed, device, dtype, K, cfg.dt)
            y0 = net.initial_state(noise=0.1, seed=cfg.seed)
            pos, _ = energy.canonical_pairs(net)
            times = torch.arange(K + 1, dtype=dtype, device=device) * cfg.dt
            s = stimulus_grid(net, times[:-1] + cfg.dt / 2, 1)
            dt = times.diff()
            q = (y0[:, pos].unsqueeze(0) + 0.01 * torch.randn(K + 1, 1, pos.numel(), dtype=dtype,
                                                               device=device)).requires_grad_(True)

            def evaluation():
                S = discrete_lagrangian(net, q[:-1], q[1:], dt, s).sum()
                torch.autograd.grad(S, q)

            def forward_ivp():     # the saddle dynamics may leave the finite range: still timed
                try:
                    C.simulate(net, times, y0=y0, method="rk4", chunk=K + 1, progress=False,
                               update_state=False, max_norm=1e300)
                except C.DivergenceError:
                    pass

            t_eval = median_time(evaluation, cfg.repeats, device)
            t_ivp = median_time(forward_ivp, cfg.repeats, device)
            E = net.coupling.n_edges
            rows.append({"N": n, "E": E, "K": K, "eval_ms": t_eval * 1e3, "ivp_rk4_ms": t_ivp * 1e3,
                         "eval_over_ivp": t_eval / t_ivp,
                         "ns_per_step_column": t_eval / (K * n) * 1e9,
                         "ns_per_step_node_or_edge": t_eval / (K * (n + E)) * 1e9})
            net = None      # free before the next size
    return rows


def bench_stream(cfg: Config, device, dtype) -> list[dict]:
    rows = []
    net = network(cfg.stream_n, cfg.seed, device, dtype, cfg.stream_steps, cfg.dt)
    y0 = net.initial_state(noise=0.1, seed=cfg.seed)
    t = torch.arange(cfg.stream_steps + 1, dtype=dtype, device=device) * cfg.dt
    for opt in cfg.stream_optimizers:
        for w in cfg.stream_windows:
            t0 = time.perf_counter()
            rec = C.simulate(net, t, y0=y0, solver="least_action", progress=False, record=["mu"],
                             solver_options={"window": w, "overlap": w // 2, "optimizer": opt,
                                             "max_iter": cfg.stream_max_iter if opt == "lbfgs"
                                             else None}, update_state=False)
            wall = time.perf_counter() - t0
            nw = rec.config["solver_windows"]
            rows.append({"optimizer": opt, "window": w, "overlap": w // 2, "wall_s": wall,
                         "windows": nw, "s_per_window": wall / nw,
                         "ms_per_window_step": wall / nw / w * 1e3,
                         "iterations_max": rec.config["solver_iterations_max"],
                         "grad_max": rec.config["solver_grad_max"],
                         "converged": rec.config["solver_converged"]})
    rows_meta = {"N": cfg.stream_n, "E": net.coupling.n_edges, "stream_steps": cfg.stream_steps}
    return [{**rows_meta, **r} for r in rows]


def main(cfg: Config, out: str) -> dict:
    import warnings
    plt = pyplot()
    device = torch.device(cfg.device)
    dtype = getattr(torch, cfg.dtype)
    t0 = time.perf_counter()
    it = bench_iteration(cfg, device, dtype)
    t_it = time.perf_counter() - t0
    x = np.log([r["K"] * (r["N"] + r["E"]) for r in it])
    yv = np.log([r["eval_ms"] for r in it])
    big = [r for r in it if r["N"] >= max(cfg.sizes) / 10]
    expo_big = float(np.polyfit(np.log([r["K"] * (r["N"] + r["E"]) for r in big]),
                                np.log([r["eval_ms"] for r in big]), 1)[0]) if len(big) > 2 else None
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        st = bench_stream(cfg, device, dtype)
    t_st = time.perf_counter() - t0
    print(f"{'N':>7} {'E':>8} {'K':>4} {'eval ms':>9} {'rk4 ms':>9} {'eval/ivp':>9} {'ns/(K·N)':>9}")
    for r in it:
        print(f"{r['N']:>7} {r['E']:>8} {r['K']:>4} {r['eval_ms']:>9.2f} {r['ivp_rk4_ms']:>9.2f} "
              f"{r['eval_over_ivp']:>9.2f} {r['ns_per_step_column']:>9.0f}")
    print("receding horizon:", [(r["optimizer"], r["window"], round(r["wall_s"], 2),
                                 r["iterations_max"], r["converged"]) for r in st])
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for n in cfg.sizes:
        rr = [r for r in it if r["N"] == n]
        axes[0].loglog([r["K"] * (r["N"] + r["E"]) for r in rr], [r["eval_ms"] for r in rr], "o-",
                       label=f"least action, N={n}")
        axes[0].loglog([r["K"] * (r["N"] + r["E"]) for r in rr], [r["ivp_rk4_ms"] for r in rr], "x--",
                       label=f"ivp rk4, N={n}")
    axes[0].set(xlabel="K (N + E)", ylabel="ms", title="P5: one action+gradient evaluation")
    axes[0].legend(fontsize=7)
    for opt in cfg.stream_optimizers:
        rr = [r for r in st if r["optimizer"] == opt]
        line, = axes[1].plot([r["window"] for r in rr], [r["s_per_window"] for r in rr], "-",
                             label=opt)
        for conv, mark in ((True, "o"), (False, "x")):
            pts = [r for r in rr if bool(r["converged"]) == conv]
            axes[1].plot([r["window"] for r in pts], [r["s_per_window"] for r in pts], mark,
                         color=line.get_color(), ms=8)
    axes[1].plot([], [], "ko", label="converged (max ∂S/∂z ≤ 1e−6)")
    axes[1].plot([], [], "kx", label="not converged (stopped at the iteration cap)")
    axes[1].legend(fontsize=7)
    axes[1].set(xlabel="window (steps)", ylabel="s per window",
                title=f"receding horizon, N={cfg.stream_n}, {cfg.stream_steps} steps")
    fig.tight_layout()
    save(fig, out, "p5_scaling.png")
    return {"iteration": it, "exponent_all": float(np.polyfit(x, yv, 1)[0]),
            "exponent_large": expo_big, "stream": st, "figures": ["p5_scaling.png"],
            "timings": {"iteration_s": t_it, "stream_s": t_st}}
