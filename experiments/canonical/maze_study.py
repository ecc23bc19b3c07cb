"""Isomura, Shimazaki & Friston's maze agents: three prior conditions, learning, prior estimation
and prediction (docs/theory.md §7; the paper's Figs 4–5).

Design: ``mazes`` mazes × ``trials`` trials for each decision prior E_right ∈ ``e_right``
(left-biased 0.15, unbiased 0.25, right-biased 0.35: E per output neuron = (0.25, 0.25,
0.5 − E_r, E_r)/64), all agents in one batch (``experiments.canonical.maze.agent.MazeAgents``). A trial ends
at the goal or after T steps (a failure counts as T).

Reported: per 10-trial block the mean time to goal over mazes ± SEM (of the per-maze block means)
and the success rate, next to the authors' unbiased data; the implicit prior estimated from each
agent's trial-1 decisions (frequency of each output neuron over the steps it took; the authors'
code divides by T instead, which undercounts an agent that reached the goal); and the prediction:
for each condition, the second half of the mazes re-run from scratch with E = the mean estimate
from the first half (the authors' protocol), same decision seeds, against the true-prior runs.

Writes results.json (and results_partial.json every block of trials), canonical_maze_learning.png,
canonical_maze_prior.png, canonical_maze_prediction.png, canonical_maze_trajectory.png.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass

import numpy as np
import torch

from .maze.agent import ND, MazeAgents, prior_E
from .maze.maze import Mazes, create_maze, shortest_path

from ..harness.config import DTYPES, ExperimentConfig
from ..harness.progress import progress
from ..harness.runner import write_json
from ..harness.figures import pyplot, save

AUTHORS = {
    "unbiased_block_mean_time": [16728, 13346, 12426, 11378, 9953, 9661, 9175, 9291, 9460, 9351],
    "unbiased_success_first_last_block": [0.46, 0.84],
    "left_biased": "stays above 18 000 in every block",
    "right_biased": "about 11 500–13 000 in every block, no trend",
}
MOVES = ("up", "down", "left", "right")


@dataclass
class Config(ExperimentConfig):
    POSITIVE = ("mazes", "trials", "T", "block_trials")
    FRACTION = ("e_right",)
    CHOICES = {"dtype": DTYPES, "backend": ("auto", "torch", "numba")}
    mazes: int = 20
    """mazes per condition"""
    trials: int = 100
    """trials per maze"""
    T: int = 20000
    """steps per trial before it counts as failed"""
    e_right: tuple[float, ...] = (0.15, 0.25, 0.35)
    """the agents' prior probability of moving right, one condition each"""
    block_trials: int = 10
    """trials per reported block"""
    predict: bool = True
    """re-run later mazes from the estimated prior"""
    dtype: str = "float32"
    """float32 or float64"""
    backend: str = "auto"
    """stepper: "auto", "numba" (compiled) or "torch" """

    @classmethod
    def tiny(cls) -> "Config":
        return cls(mazes=4, trials=20, T=5000)


def _blocks(times: np.ndarray, T: int, size: int) -> dict:
    """Per block of ``size`` trials: mean over agents of their block means, SEM, success rate.
    times (agents, trials)."""
    n = times.shape[1] // size
    per = times[:, :n * size].reshape(len(times), n, size)
    means = per.mean(2)                                                 # (agents, blocks)
    sem = means.std(0, ddof=1) / np.sqrt(len(times)) if len(times) > 1 else np.zeros(n)
    return {"mean": means.mean(0).tolist(), "sem": sem.tolist(),
            "success": (per < T).mean((0, 2)).tolist()}


def _group(freq: torch.Tensor) -> np.ndarray:
    """Per-neuron probabilities (…, 256) → per first move (…, 4)."""
    return freq.reshape(*freq.shape[:-1], 4, ND // 4).sum(-1).numpy()


def main(cfg: Config, out: str) -> dict:
    plt = pyplot()
    dt = {"float32": torch.float32, "float64": torch.float64}[cfg.dtype]
    M, C, half = cfg.mazes, len(cfg.e_right), cfg.mazes // 2
    maps = np.stack([create_maze(np.random.default_rng(100_003 * cfg.seed + i)) for i in range(M)])
    shortest = [shortest_path(m) for m in maps]
    if any(s is None for s in shortest):
        raise RuntimeError(f"canonical-maze: unsolvable maze among seeds (shortest paths {shortest})")
    E = torch.stack([prior_E(er) for er in cfg.e_right for _ in range(M)])     # (C·M, 256)
    seeds = torch.arange(C * M) + 1_000_000 * cfg.seed
    env = Mazes(np.tile(maps, (C, 1, 1)), device=cfg.device)
    agents = MazeAgents(env, E, seeds, T=cfg.T, dtype=dt, backend=cfg.backend)
    times = np.zeros((C * M, cfg.trials), dtype=np.int64)
    pred, ptimes, E_hat, freq = None, None, None, None
    clock = {"design_s": 0.0, "predict_s": 0.0}
    paths = {}
    res = {"authors": AUTHORS, "shortest_path": {"values": shortest, "median": float(np.median(shortest))},
           "backend": agents.backend}
    for k in progress(range(cfg.trials), "canonical-maze: trials", "trial"):
        t0 = time.perf_counter()
        r = agents.trial(record_path=k in (0, cfg.trials - 1))
        clock["design_s"] += time.perf_counter() - t0
        times[:, k] = r["time"].numpy()
        if "path" in r:
            paths[k] = r["path"]
        if k == 0:
            freq = r["decisions"] / r["decisions"].sum(1, keepdim=True)            # (C·M, 256)
            E_hat = freq.view(C, M, ND)[:, :half].mean(1)                          # (C, 256)
            if cfg.predict and half and M - half:
                pmaps = np.tile(maps[half:], (C, 1, 1))
                keep = torch.cat([torch.arange(c * M + half, (c + 1) * M) for c in range(C)])
                pred = MazeAgents(Mazes(pmaps, device=cfg.device),
                                  E_hat.repeat_interleave(M - half, 0), seeds[keep], T=cfg.T,
                                  dtype=dt, backend=cfg.backend)
                ptimes = np.zeros((C * (M - half), cfg.trials), dtype=np.int64)
        if pred is not None:
            t0 = time.perf_counter()
            ptimes[:, k] = pred.trial()["time"].numpy()
            clock["predict_s"] += time.perf_counter() - t0
        if (k + 1) % cfg.block_trials == 0 or k + 1 == cfg.trials:
            write_json(os.path.join(out, "results_partial.json"),
                       {"trials_done": k + 1, "times": times[:, :k + 1],
                        "predicted_times": None if ptimes is None else ptimes[:, :k + 1],
                        "timings": clock, "config": asdict(cfg)})
            print(f"canonical-maze: trial {k + 1}/{cfg.trials}, mean time "
                  + ", ".join(f"{er}: {times[c * M:(c + 1) * M, k].mean():.0f}"
                              for c, er in enumerate(cfg.e_right))
                  + f" ({clock['design_s']:.0f} s)", flush=True)

    # learning curves
    names = [f"e_right={er}" for er in cfg.e_right]
    res["conditions"] = {}
    for c, name in enumerate(names):
        tc = times[c * M:(c + 1) * M]
        b = _blocks(tc, cfg.T, cfg.block_trials)
        slope = float(np.polyfit(np.arange(len(b["mean"])), b["mean"], 1)[0]) if len(b["mean"]) > 1 else 0.0
        res["conditions"][name] = {"blocks": b, "slope_per_block": slope, "times": tc}
    # prior estimation: per agent from its own trial-1 decisions
    true_g, est_g = _group(E.view(C, M, ND)[:, 0]), _group(freq.view(C, M, ND))    # (C, 4), (C, M, 4)
    res["prior_estimate"] = {}
    for c, name in enumerate(names):
        err = est_g[c, :, 3] - true_g[c, 3]
        res["prior_estimate"][name] = {
            "true_by_move": dict(zip(MOVES, true_g[c].tolist())),
            "estimated_by_move_median": dict(zip(MOVES, np.median(est_g[c], 0).tolist())),
            "e_right_true": float(true_g[c, 3]),
            "e_right_estimated": {"median": float(np.median(est_g[c, :, 3])),
                                  "min": float(est_g[c, :, 3].min()), "max": float(est_g[c, :, 3].max())},
            "e_right_abs_error": {"median": float(np.median(np.abs(err))), "max": float(np.abs(err).max())},
            "e_right_used_for_prediction": float(_group(E_hat[c])[3])}
    # prediction
    if ptimes is not None:
        res["prediction"] = {}
        actual_all, pred_all = [], []
        for c, name in enumerate(names):
            actual = _blocks(times[c * M + half:(c + 1) * M], cfg.T, cfg.block_trials)
            predicted = _blocks(ptimes[c * (M - half):(c + 1) * (M - half)], cfg.T, cfg.block_trials)
            a, p = np.array(actual["mean"]), np.array(predicted["mean"])
            actual_all.append(a)
            pred_all.append(p)
            res["prediction"][name] = {"actual": actual, "predicted": predicted,
                                       "rms_block_difference": float(np.sqrt(((a - p) ** 2).mean()))}
        a, p = np.concatenate(actual_all), np.concatenate(pred_all)
        res["prediction"]["corr_blocks_all_conditions"] = float(np.corrcoef(a, p)[0, 1]) if a.size > 2 else None
    res["timings"] = clock

    # figures
    figs = []
    blocks_x = np.arange(1, cfg.trials // cfg.block_trials + 1)
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    for name in names:
        b = res["conditions"][name]["blocks"]
        ax.errorbar(blocks_x, b["mean"], yerr=b["sem"], marker="o", ms=3, capsize=2, label=name)
        ax2.plot(blocks_x, b["success"], marker="o", ms=3, label=name)
    ax.plot(np.arange(1, 11), AUTHORS["unbiased_block_mean_time"], "k--", label="authors, unbiased")
    ax.set(xlabel=f"block of {cfg.block_trials} trials", ylabel="time to goal (steps)",
           title=f"{M} mazes per condition (mean ± SEM)")
    ax2.set(xlabel=f"block of {cfg.block_trials} trials", ylabel="success rate", ylim=(0, 1))
    ax.legend(fontsize=7)
    fig.tight_layout()
    save(fig, out, "canonical_maze_learning.png")
    figs.append("canonical_maze_learning.png")

    fig, ax = plt.subplots(figsize=(6, 4))
    w = 0.8 / C
    for c, name in enumerate(names):
        xs = np.arange(4) + c * w
        ax.bar(xs, true_g[c], w * 0.9, alpha=0.35, color=f"C{c}")
        ax.errorbar(xs, np.median(est_g[c], 0),
                    yerr=[np.median(est_g[c], 0) - est_g[c].min(0), est_g[c].max(0) - np.median(est_g[c], 0)],
                    fmt="o", color=f"C{c}", ms=4, capsize=2, label=f"{name}: true (bar), estimated")
    ax.set_xticks(np.arange(4) + 0.4 - w / 2, MOVES)
    ax.set(ylabel="P(first move)", title="implicit prior E: true vs estimated from trial-1 decisions")
    ax.legend(fontsize=7)
    fig.tight_layout()
    save(fig, out, "canonical_maze_prior.png")
    figs.append("canonical_maze_prior.png")

    if ptimes is not None:
        fig, ax = plt.subplots(figsize=(6, 4))
        for c, name in enumerate(names):
            a, p = res["prediction"][name]["actual"], res["prediction"][name]["predicted"]
            ax.errorbar(blocks_x, a["mean"], yerr=a["sem"], color=f"C{c}", marker="o", ms=3, capsize=2,
                        label=f"{name}: true prior")
            ax.plot(blocks_x, p["mean"], color=f"C{c}", ls="--", marker="x", label="estimated prior")
        ax.set(xlabel=f"block of {cfg.block_trials} trials", ylabel="time to goal (steps)",
               title=f"prediction from the estimated prior (mazes {half + 1}–{M})")
        ax.legend(fontsize=7)
        fig.tight_layout()
        save(fig, out, "canonical_maze_prediction.png")
        figs.append("canonical_maze_prediction.png")

    agent = (C // 2) * M                                                  # middle condition, maze 1
    cells = env.cells().cpu().numpy()
    fig, axes = plt.subplots(len(paths), 1, figsize=(10, 2.3 * len(paths)), squeeze=False)
    for ax, (k, path) in zip(axes[:, 0], sorted(paths.items())):
        p = path[agent][path[agent] >= 0].numpy()
        rc = cells[p]
        ax.imshow(maps[0], cmap="Greys", interpolation="nearest")
        ax.plot(rc[:, 1], rc[:, 0], lw=0.6, alpha=0.7)
        ax.plot(*cells[p[0]][::-1], "go", ms=4)
        ax.plot(*cells[-1][::-1], "r*", ms=8)
        ax.set(title=f"{names[C // 2]}, maze 1, trial {k + 1}: {int(times[agent, k])} steps", xticks=[], yticks=[])
    fig.tight_layout()
    save(fig, out, "canonical_maze_trajectory.png")
    figs.append("canonical_maze_trajectory.png")
    res["figures"] = figs

    lines = []
    for name in names:
        b = res["conditions"][name]["blocks"]
        lines.append(f"{name}: block 1 {b['mean'][0]:.0f} ± {b['sem'][0]:.0f} (success {b['success'][0]:.2f})"
                     f" -> block {len(b['mean'])} {b['mean'][-1]:.0f} ± {b['sem'][-1]:.0f} "
                     f"(success {b['success'][-1]:.2f})")
    for name in names:
        pe = res["prior_estimate"][name]
        lines.append(f"{name}: E_right true {pe['e_right_true']:.3f}, estimated "
                     f"{pe['e_right_estimated']['median']:.3f} [{pe['e_right_estimated']['min']:.3f}, "
                     f"{pe['e_right_estimated']['max']:.3f}]")
    if ptimes is not None:
        lines.append("prediction: rms block difference " + ", ".join(
            f"{n}: {res['prediction'][n]['rms_block_difference']:.0f}" for n in names)
            + f"; corr {res['prediction']['corr_blocks_all_conditions']}")
    lines.append(f"design {clock['design_s']:.0f} s, prediction {clock['predict_s']:.0f} s ({agents.backend})")
    res["summary"] = "\n".join(lines)
    return res
