"""Spisak & Friston Sim 2: digits, retrieval, one-shot generalisation, attractors
(docs/theory.md §6).

N = 64 (8×8 digits, squared and z-scored per image); the first 10 images (0..9) are learned.
Training (code semantics): α = 0.001, ``epochs`` × 10 stochastic steps, a uniformly random training
image per epoch, bias = evidence × image. Every run (regime × seed, or the whole 20 × 19 grid of
evidence ∈ {1..20} × β ∈ 10^linspace(−2, 0, 19)) is one row of one batched ``FEPRuns`` job.

Evaluation, per run, no learning, β = 1:
- retrieval: 100 trials, image k mod 10, bias 0.1·evidence·z + N(0, sd²) with sd = std(bias);
  100 stochastic steps per trial, the state carried over between trials; response = mean state;
  score ΔR² = corr(response, z)² − corr(noisy bias, z)²; the median over trials;
- one-shot generalisation: the same with random test images;
- attractors: deterministic relaxation from L(0.1·evidence·z) of the 10 images; count = unique rows
  after rounding to 2 decimals; orthogonality = mean |90° − angle| over all pairs of the 10 relaxed
  states with 1° < angle < 179° — as the authors' code does it: an attractor reached from two digits
  enters its pairs twice (the angle filter drops the pair itself), starts that do not converge are
  left out. The same for the data, with and without the diagonal (angle 0, |90° − 0| = 90°).

Writes results.json and fep_sim2.png (``--grid``: fep_sim2_heatmaps.png, the four heat maps).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from columns import ConfigError

from ..harness.config import DTYPES, ExperimentConfig
from .runs import FEPRuns
from ..digits import digits
from ..harness.stats import summary
from .retrieval import attractors, evaluate, orthogonality, train
from ..harness.figures import pyplot, save

REGIMES = {"balanced": (11.0, 0.16681), "high_complexity": (16.0, 0.35938),
           "low_complexity": (6.0, 0.027826)}
PAPER = {"balanced": {"dR2_retrieval": 0.292, "dR2_generalisation": 0.070, "n_attractors": 10,
                      "orthogonality_deg": 17.34},
         "high_complexity": {"dR2_retrieval": 0.270, "dR2_generalisation": -0.0505,
                             "n_attractors": 10, "orthogonality_deg": 27.57},
         "low_complexity": {"dR2_retrieval": 0.1645, "dR2_generalisation": 0.0845,
                            "n_attractors": 1, "orthogonality_deg": None}}


@dataclass
class Config(ExperimentConfig):
    POSITIVE = ("epochs", "steps_per_epoch", "alpha", "seeds", "trials", "trial_steps", "density")
    CHOICES = {"rule": ("code", "paper"), "dtype": DTYPES}
    NONNEGATIVE = ("evidence", "beta")

    def check(self) -> None:
        if (self.evidence or self.beta) and not (self.evidence > 0 and self.beta > 0):
            raise ConfigError(f"--evidence and --beta go together and must be > 0, got "
                              f"evidence={self.evidence}, beta={self.beta}")

    epochs: int = 5000
    """training epochs (one digit each)"""
    steps_per_epoch: int = 10
    """map steps per epoch"""
    alpha: float = 0.001
    """learning rate α"""
    seeds: int = 5
    """seeds (one batch)"""
    grid: bool = False
    """run the full 380-run (β, evidence) grid and its heat maps"""
    trials: int = 100
    """retrieval trials per run"""
    trial_steps: int = 100
    """map steps per retrieval trial"""
    rule: str = "code"
    """learning rule: "code" or "paper" """
    evidence: float = 0.0
    """> 0 (with --beta): one regime of this evidence instead of the paper's three (a sweep point)"""
    beta: float = 0.0
    """> 0 (with --evidence): that regime's inverse temperature β"""
    density: float = 1.0          # < 1: a seeded random directed graph (sparse J (R, E)), not the paper's
    """edge density (< 1: a seeded random directed graph, sparse J; 1: the paper's complete graph)"""
    dtype: str = "float64"
    """float64 or float32"""

    @classmethod
    def tiny(cls) -> "Config":
        return cls(epochs=200, seeds=2, trials=20, trial_steps=20)


def run_batch(evidence, beta, seeds, cfg: Config, device):
    dtype = getattr(torch, cfg.dtype)
    train_Z, test_Z = (z.to(dtype) for z in digits(device))
    edges = None
    if cfg.density < 1.0:
        g = torch.Generator().manual_seed(cfg.seed)
        mask = (torch.rand(64, 64, generator=g) < cfg.density).fill_diagonal_(False)
        tgt, src = mask.nonzero().unbind(1)
        edges = (src, tgt)
    net = FEPRuns(64, len(seeds), beta=torch.as_tensor(beta), alpha=cfg.alpha, edges=edges,
                    seeds=torch.as_tensor(seeds), rule=cfg.rule, dtype=dtype, device=device)
    ev = torch.as_tensor(evidence, dtype=dtype, device=device)
    t0 = time.perf_counter()
    train(net, train_Z, ev, cfg.epochs, cfg.steps_per_epoch)
    t_train = time.perf_counter() - t0
    J_trained = net.J.clone()
    ret = evaluate(net, train_Z, ev, cfg.trials, cfg.trial_steps, False, 1)
    gen = evaluate(net, test_Z, ev, cfg.trials, cfg.trial_steps, True, 2)
    net.J = J_trained
    att = attractors(net, train_Z, ev)
    return net, {"dR2_retrieval": ret.cpu().numpy(), "dR2_generalisation": gen.cpu().numpy(),
                 "n_attractors": np.asarray(att["n_attractors"]),
                 "orthogonality_deg": np.asarray(att["orthogonality_deg"]),
                 "converged_fraction": att["converged_fraction"], "train_s": t_train,
                 "eval_s": time.perf_counter() - t0 - t_train}, att


def main(cfg: Config, out: str) -> dict:
    plt = pyplot()
    device = torch.device(cfg.device)
    train_Z, _ = digits(device)
    res = {"data_orthogonality_deg": {"without_diagonal": orthogonality(train_Z),
                                      "with_diagonal": orthogonality(train_Z, diagonal=True)}}
    t0 = time.perf_counter()
    if cfg.grid:
        evid = np.arange(1, 21, dtype=float)
        betas = np.logspace(-2, 0, 19)
        E, Bt = np.meshgrid(evid, betas, indexing="ij")                       # (20, 19)
        seeds = cfg.seed + np.arange(E.size)
        _, m, _ = run_batch(E.ravel(), Bt.ravel(), seeds, cfg, device)
        res["grid"] = {"evidence": evid.tolist(), "beta": betas.tolist(),
                       **{k: np.asarray(m[k], dtype=float).reshape(E.shape).tolist()
                          for k in ("dR2_retrieval", "dR2_generalisation", "n_attractors",
                                    "orthogonality_deg")}}
        res["grid_wall_s"] = time.perf_counter() - t0
        fig, axes = plt.subplots(1, 4, figsize=(18, 4))
        for ax, k in zip(axes, ("dR2_retrieval", "dR2_generalisation", "n_attractors",
                                "orthogonality_deg")):
            im = ax.imshow(np.asarray(m[k], dtype=float).reshape(E.shape).T, origin="lower",
                           aspect="auto", extent=(0.5, 20.5, -0.5, 18.5))
            ax.set(xlabel="evidence", ylabel="β index (10^(−2 + k/9))", title=k)
            fig.colorbar(im, ax=ax)
        fig.tight_layout()
        save(fig, out, "fep_sim2_heatmaps.png")
        res["figures"] = ["fep_sim2_heatmaps.png"]
        print(f"Sim 2 grid: 380 runs in {res['grid_wall_s']:.1f} s")
        return res
    regimes = REGIMES
    if cfg.evidence or cfg.beta:
        regimes = {"custom": (cfg.evidence, cfg.beta)}
    names = list(regimes)
    evidence = np.repeat([regimes[n][0] for n in names], cfg.seeds)
    beta = np.repeat([regimes[n][1] for n in names], cfg.seeds)
    seeds = np.tile(cfg.seed + np.arange(cfg.seeds), len(names))
    net, m, att = run_batch(evidence, beta, seeds, cfg, device)
    res["wall_s"] = time.perf_counter() - t0
    res["train_s"], res["eval_s"] = m["train_s"], m["eval_s"]
    for i, n in enumerate(names):
        sl = slice(i * cfg.seeds, (i + 1) * cfg.seeds)
        paper = PAPER.get(n, {})
        res[n] = {"evidence": regimes[n][0], "beta": regimes[n][1], "paper": paper or None,
                  **{k: summary(m[k][sl]) for k in ("dR2_retrieval", "dR2_generalisation",
                                                     "n_attractors", "orthogonality_deg")}}
        r = res[n]
        print(f"Sim 2 {n}: ΔR² retrieval {r['dR2_retrieval']['median']:.3f} "
              f"[{r['dR2_retrieval']['min']:.3f}, {r['dR2_retrieval']['max']:.3f}] (paper "
              f"{paper.get('dR2_retrieval')}), generalisation {r['dR2_generalisation']['median']:.3f} "
              f"(paper {paper.get('dR2_generalisation')}), attractors {r['n_attractors']['median']:.0f} "
              f"(paper {paper.get('n_attractors')}), orthogonality {r['orthogonality_deg']['median']} "
              f"(paper {paper.get('orthogonality_deg')})")
    res["relaxation_converged_fraction"] = m["converged_fraction"]
    fig, axes = plt.subplots(len(names), 10, figsize=(12, 1.4 * len(names) + 0.5),
                             squeeze=False)
    for i, n in enumerate(names):
        for k in range(10):
            ax = axes[i, k]
            ax.imshow(att["sigma"][i * cfg.seeds, k].reshape(8, 8).cpu().numpy(), cmap="RdBu_r",
                      vmin=-1, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[i, 0].set_ylabel(n.replace("_", "\n"), fontsize=7)
    fig.suptitle("attractors reached from each training digit (first seed per regime)")
    fig.tight_layout()
    save(fig, out, "fep_sim2.png")
    res["figures"] = ["fep_sim2.png"]
    return res
