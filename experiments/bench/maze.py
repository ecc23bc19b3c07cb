"""Benchmark P4: maze agents batched over mazes vs a per-agent NumPy loop (docs/theory.md §8).

The baseline is the agent written the plain way, one agent after another, one NumPy step at a
time (``numpy_trial`` below, same equations and draws as ``MazeAgents``; checked against it in
float64 first: same times, same decisions). Measured in this process on the same first trial of
the same mazes: µs per agent-step for the baseline (on ``baseline_agents`` agents), for the torch
lockstep stepper and for the compiled per-agent stepper (3 conditions × ``mazes`` agents, T
steps). With ``full``, the whole design (3 × 20 × 100 trials) is run and its wall time reported
against the P4 bar (15 min on 2 cores).

Writes results.json.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from ..canonical.maze.agent import BLOCK, ND, NS, MazeAgents, initial_counts, prior_E
from ..canonical.maze.agent_steps import numba_available
from ..canonical.maze.maze import Mazes, create_maze
from columns.rng import counter_uniform_steps

from ..harness.config import ExperimentConfig

BAR_S = 15 * 60


@dataclass
class Config(ExperimentConfig):
    POSITIVE = ("mazes", "T", "baseline_agents", "baseline_T", "check_T")
    mazes: int = 20
    """mazes of the full design"""
    T: int = 20000
    """steps per trial"""
    baseline_agents: int = 3
    """agents of the NumPy baseline"""
    baseline_T: int = 2000
    """steps per baseline trial"""
    check_T: int = 600
    """steps of the stepper-agreement check"""
    full: bool = True
    """also time the full 3 × 20 × 100 design"""

    @classmethod
    def tiny(cls) -> "Config":
        return cls(mazes=2, T=1000, baseline_agents=1, baseline_T=300, check_T=300, full=False)


def _log_means(c):
    p1 = np.clip(c[1, 1] / (c[1, 1] + c[0, 1]), 1e-6, 1 - 1e-6)
    p0 = np.clip(c[1, 0] / (c[1, 0] + c[0, 0]), 1e-6, 1 - 1e-6)
    return np.log(p1), np.log1p(-p1), np.log(p0), np.log1p(-p0)


def _linear(c):
    l11, l01, l10, l00 = _log_means(c)
    return (l11 - l01 - l10 + l00).T, (l01 - l00).sum(-1)


def numpy_trial(env: Mazes, m: int, E: np.ndarray, seed: int, T: int, counts: dict,
                trials_done: int = 0, dtype=np.float64) -> tuple[int, np.ndarray]:
    """One trial of agent m, step by step in NumPy; updates ``counts`` (A, B, C for this agent,
    float64 arrays) in place. Returns (time, decision counts (256,))."""
    views = env.all_views()[m].numpy().astype(dtype)                   # (P, 121)
    nxt, risk = (v[m].numpy() for v in env.transitions())             # (P, 5)
    P = views.shape[0]
    Mo, ko = _linear(counts["A"])
    Mb, kb = _linear(counts["B"])
    Mc, kc = _linear(counts["C"])
    lnE = np.log(np.maximum(E, 1e-6)) - np.log(np.maximum(1 - E, 1e-6))
    W = np.concatenate([Mb, Mc], 1).astype(dtype)
    kd = (kc + lnE).astype(dtype)
    drive = (views @ Mo + ko + kb).astype(dtype)
    U = counter_uniform_steps(torch.tensor([seed]), torch.arange(trials_done * T + 2, trials_done * T + T + 1),
                              {np.float64: torch.float64, np.float32: torch.float32}[dtype])[0].numpy()
    cell, action = int(env.cell_index(env.start())[0]), 4
    x = np.full(NS, 0.5, dtype)
    sums = {"xo": 0.0, "xx": 0.0, "x": 0.0, "o": 0.0, "xp": 0.0, "n": 0}
    C = counts["C"]
    dec = np.zeros(ND)
    G_last, time_ = 0.0, T
    t = 2
    while t <= T:
        K = min(BLOCK - (t - 2) % BLOCK, T - t + 1)
        xs, os_, ds, Gs = [x], [], [], [G_last]
        for k in range(K):
            G = risk[cell, action]
            cell = nxt[cell, action]
            v = x @ W
            x = 1 / (1 + np.exp(-(drive[cell] + v[:NS])))
            p = 1 / (np.exp(-(v[NS:] + kd)) * (1 + 1e-6) + 1e-6)
            cdf = np.cumsum(p)
            d = min(int(np.searchsorted(cdf, U[t + k - 2] * cdf[-1])), ND - 1)
            action = d // (ND // 4)
            xs.append(x), os_.append(views[cell]), ds.append(d), Gs.append(G)
            if cell == P - 1:
                time_ = t + k
                break
        n = len(ds)
        X, Xp, O = np.array(xs[1:]), np.array(xs[:-1]), np.array(os_)
        sums["xo"] = sums["xo"] + X.T @ O
        sums["xx"] = sums["xx"] + X.T @ Xp
        sums["x"], sums["o"], sums["xp"] = sums["x"] + X.sum(0), sums["o"] + O.sum(0), sums["xp"] + Xp.sum(0)
        sums["n"] += n
        net = BLOCK * (1 - 2 * np.mean(Gs[:n]))
        g = 1 - 2 * (0.55 if net <= 0 else 0.45 if net <= 10 else 0.0)
        D = np.zeros((n, ND))
        D[np.arange(n), ds] = 1
        dec += D.sum(0)
        for a, xa in ((1, Xp), (0, 1 - Xp)):
            for b, db in ((1, D), (0, 1 - D)):
                C[a, b] = C[a, b] + g * (db.T @ xa)
        if g < 0:
            np.maximum(C, 1, out=C)
        x, G_last = xs[-1], Gs[-1]
        t += K
        if time_ < T:
            break

    def tables(prod, s_post, s_pre, n):
        return np.stack([np.stack([n - s_pre[None] - s_post[:, None] + prod, s_post[:, None] - prod]),
                         np.stack([s_pre[None] - prod, prod])])
    counts["A"] += tables(sums["xo"], sums["x"], sums["o"], sums["n"])
    counts["B"] += tables(sums["xx"], sums["x"], sums["xp"], sums["n"])
    return time_, dec


def _setup(M, seed):
    maps = np.stack([create_maze(np.random.default_rng(100_003 * seed + i)) for i in range(M)])
    E = torch.stack([prior_E(er) for er in (0.15, 0.25, 0.35) for _ in range(M)])
    return np.tile(maps, (3, 1, 1)), E, torch.arange(3 * M) + 1_000_000 * seed


def main(cfg: Config, out: str) -> dict:
    maps, E, seeds = _setup(cfg.mazes, cfg.seed)
    env = Mazes(maps)
    res = {"threads": torch.get_num_threads(), "numba": numba_available()}

    # 0. the baseline is the same agent: float64, same draws, two trials
    n_chk = min(3, len(maps))
    lib = MazeAgents(Mazes(maps[:n_chk]), E[:n_chk], seeds[:n_chk], T=cfg.check_T, dtype=torch.float64)
    ref = initial_counts(n_chk)
    ref = [{k: v[i].numpy().copy() for k, v in ref.items()} for i in range(n_chk)]
    same = True
    for trial in range(2):
        r = lib.trial()
        for i in range(n_chk):
            t_np, dec_np = numpy_trial(Mazes(maps[i:i + 1]), 0, E[i].numpy(), int(seeds[i]), cfg.check_T,
                                       ref[i], trial)
            same &= t_np == int(r["time"][i]) and np.array_equal(dec_np, r["decisions"][i].numpy())
    diff = max(float(np.abs(ref[i]["C"] - lib.counts["C"][i].numpy()).max()) for i in range(n_chk))
    res["baseline_matches_library"] = {"same_times_and_decisions": bool(same), "max_abs_diff_C": diff}
    if not same:
        raise RuntimeError("bench-maze: the NumPy baseline and MazeAgents disagree in float64")

    # 1. baseline: per-agent NumPy loop (float32 like the library default)
    steps, t0 = 0, time.perf_counter()
    for i in range(cfg.baseline_agents):
        counts = {k: v[0].numpy().copy() for k, v in initial_counts(1).items()}
        t_np, _ = numpy_trial(Mazes(maps[i:i + 1]), 0, E[i].numpy(), int(seeds[i]), cfg.baseline_T,
                              counts, 0, np.float32)
        steps += t_np - 1
    base = (time.perf_counter() - t0) / steps * 1e6
    res["numpy_us_per_agent_step"] = base

    # 2. the library's steppers on all 3 × mazes agents, first trial of T steps
    for backend in (["numba"] if numba_available() else []) + ["torch"]:
        ag = MazeAgents(env, E, seeds, T=cfg.T, backend=backend)
        if backend == "numba":                                         # compile outside the clock
            MazeAgents(Mazes(maps[:1]), E[:1], seeds[:1], T=10, backend="numba").trial()
        t0 = time.perf_counter()
        r = ag.trial()
        wall = time.perf_counter() - t0
        n = int((r["time"] - 1).sum())
        us = wall / n * 1e6
        res[f"{backend}_us_per_agent_step"] = us
        res[f"{backend}_speedup_vs_numpy"] = base / us
        res[f"{backend}_agent_steps"] = n
        print(f"bench-maze: {backend}: {us:.2f} us/agent-step ({n} agent-steps in {wall:.1f} s); "
              f"NumPy loop {base:.1f} us -> x{base / us:.1f}", flush=True)

    # 3. the full design
    if cfg.full:
        ag = MazeAgents(env, E, seeds, T=cfg.T)
        t0 = time.perf_counter()
        total = 0
        for _ in range(100):
            total += int((ag.trial()["time"] - 1).sum())
        wall = time.perf_counter() - t0
        res["design"] = {"agents": len(maps), "trials": 100, "agent_steps": total, "wall_s": wall,
                         "bar_s": BAR_S, "within_bar": wall <= BAR_S, "backend": ag.backend,
                         "numpy_projection_s": total * base * 1e-6}
        print(f"bench-maze: full design {len(maps)} agents x 100 trials: {wall:.0f} s (bar {BAR_S} s); "
              f"the NumPy loop would take ~{total * base * 1e-6 / 3600:.1f} h", flush=True)
    res["summary"] = (f"NumPy loop {base:.1f} us/agent-step; " + "; ".join(
        f"{b} {res[f'{b}_us_per_agent_step']:.2f} us (x{res[f'{b}_speedup_vs_numpy']:.1f})"
        for b in ("numba", "torch") if f"{b}_us_per_agent_step" in res)
        + (f"; design {res['design']['wall_s']:.0f} s" if "design" in res else ""))
    return res
