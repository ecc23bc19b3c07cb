"""Spisak & Friston Sim 3: sequence learning gives asymmetric couplings (docs/theory.md §6).

Digits 1, 2, 3 (training images 1..3, z-scored squared pixels), evidence 20, β = 1, α = 0.001,
2000 single-step epochs in cyclic order 1→2→3→1 (code semantics). Controls: a random order with
one step per pattern, and a random order with 10-step epochs (same number of steps). Reported per
condition over ``seeds`` (one batch): the asymmetry ‖J − Jᵀ‖_F/‖J‖_F (paper 0.981 for the cyclic
order); for the cyclic runs, the attractors of J_sym = (J + Jᵀ)/2 (correlation with the digits)
and a 100-step free run (b = 0, β = 1, stochastic) whose winning digit (largest correlation)
should replay 1→2→3 forward: the fraction of forward among all changes of winner.

Writes results.json and fep_sim3.png.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
import torch

import columns as C
from columns.types.langevin import langevin

from ..harness.config import ExperimentConfig
from .runs import FEPRuns
from ..digits import digits
from ..harness.stats import corr, summary
from ..harness.figures import pyplot, save

PAPER = {"asymmetry_cyclic": 0.981}


@dataclass
class Config(ExperimentConfig):
    POSITIVE = ("epochs", "evidence", "beta", "alpha", "seeds", "free_run_steps",
                "continuous_presentations", "continuous_alpha", "tau_trace")
    epochs: int = 2000
    """training epochs (one step per digit)"""
    evidence: float = 20.0
    """input amplitude"""
    beta: float = 1.0
    """inverse temperature β"""
    alpha: float = 0.001
    """learning rate α"""
    seeds: int = 5
    """seeds (one batch)"""
    free_run_steps: int = 100
    """steps of the free run without input"""
    continuous_presentations: int = 600
    """continuous form: patterns presented"""
    continuous_alpha: float = 0.01
    """continuous form: learning rate"""
    tau_trace: float = 1.0
    """continuous form: time constant of the presynaptic trace"""

    @classmethod
    def tiny(cls) -> "Config":
        return cls(epochs=300, seeds=2, continuous_presentations=60)


def continuous_form(cfg: Config, Z: torch.Tensor) -> dict:
    """Asymmetry learned by the continuous mean-field form (the "fep_trace" column type on the
    complete graph, rk4, τ = 1, one pattern per τ) with and without the lagged presynaptic trace,
    cyclic vs random order."""
    T = cfg.continuous_presentations
    rnd = np.random.default_rng(cfg.seed + 3).integers(0, 3, T + 2)
    G = nx.complete_graph(Z.shape[1], create_using=nx.DiGraph)
    nx.set_node_attributes(G, "fep_trace", "type")
    nx.set_edge_attributes(G, 0.0, "weight")
    nx.set_edge_attributes(G, True, "learnable")
    ts = torch.arange(0, T + 1, dtype=Z.dtype, device=Z.device)
    out = {}
    for lag in (True, False):
        for order in ("cyclic", "random"):
            def bias(t, order=order):
                k = int(torch.floor(torch.as_tensor(t) + 1e-9))
                return cfg.evidence * Z[(k % 3) if order == "cyclic" else int(rnd[k])]
            params = {"beta": cfg.beta, "alpha": cfg.continuous_alpha, "tau": 1.0,
                      "tau_trace": cfg.tau_trace, "lag": lag}
            net = C.Network.from_graph(G, column_types={"fep_trace": params}, stimulus=bias,
                                       dtype=Z.dtype).to(Z.device)
            C.simulate(net, ts, y0=net.initial_state(), solver=C.IVP(method="rk4", step_size=0.25),
                       record=["sigma"], progress=False)
            J = net.coupling_matrix()[0]
            out[f"{'trace' if lag else 'no_trace'}_{order}"] = float((J - J.T).norm() / J.norm())
    out["order_specific_trace"] = out["trace_cyclic"] - out["trace_random"]
    out["order_specific_no_trace"] = out["no_trace_cyclic"] - out["no_trace_random"]
    return out


def main(cfg: Config, out: str) -> dict:
    plt = pyplot()
    device = torch.device(cfg.device)
    train_Z, _ = digits(device)
    Z = train_Z[1:4]                                                        # digits 1, 2, 3
    S, N, T = cfg.seeds, Z.shape[1], cfg.epochs
    seeds = np.arange(cfg.seed, cfg.seed + S)
    # three conditions × seeds in one batch: cyclic, random (1 step), random (10-step epochs)
    cyc = np.tile(np.arange(T) % 3, (S, 1))
    rnd1 = np.stack([np.random.default_rng(int(s) + 1).integers(0, 3, T) for s in seeds])
    rnd10 = np.stack([np.repeat(np.random.default_rng(int(s) + 2).integers(0, 3, T // 10 + 1), 10)[:T]
                      for s in seeds])
    order = torch.as_tensor(np.concatenate([cyc, rnd1, rnd10]), device=device)      # (3S, T)
    run_seeds = torch.as_tensor(np.concatenate([seeds, seeds + 1000, seeds + 2000]))
    net = FEPRuns(N, 3 * S, beta=cfg.beta, alpha=cfg.alpha, seeds=run_seeds, device=device)
    sigma = torch.zeros(3 * S, N, dtype=torch.float64, device=device)
    for t in range(T):
        sigma = net.step(sigma, cfg.evidence * Z[order[:, t]])
    J = net.J
    asym = ((J - J.mT).norm(dim=(-2, -1)) / J.norm(dim=(-2, -1))).cpu().numpy()
    res = {"paper": PAPER}
    for i, name in enumerate(("cyclic", "random_1step", "random_10step_epochs")):
        res[f"asymmetry_{name}"] = summary(asym[i * S:(i + 1) * S])
    # attractors of the symmetric part (cyclic runs)
    Jc = J[:S]
    Jsym = 0.5 * (Jc + Jc.mT)
    cyc_net = FEPRuns(N, S, beta=1.0, alpha=0.0, seeds=torch.as_tensor(seeds), device=device)
    start = langevin(0.1 * cfg.evidence * Z).unsqueeze(0).expand(S, -1, -1)
    rel = cyc_net.relax(start, J=Jsym)
    match = corr(rel["sigma"], Z.unsqueeze(0)).cpu().numpy()                 # (S, 3)
    res["jsym_attractor_corr_with_digit"] = summary(match.ravel())
    # free run with the learned (asymmetric) couplings, b = 0, β = 1, stochastic
    cyc_net.J = Jc.clone()
    s = start[:, 0].clone()
    winners = []
    for _ in range(cfg.free_run_steps):
        s = cyc_net.step(s, None, learn=False)
        winners.append(corr(s.unsqueeze(1), Z.unsqueeze(0)).argmax(-1).cpu().numpy())
    W = np.stack(winners, 1)                                                 # (S, steps)
    fwd, changes = [], []
    for r in range(S):
        ch = [(a, b) for a, b in zip(W[r, :-1], W[r, 1:]) if a != b]
        changes.append(len(ch))
        fwd.append(float(sum((b - a) % 3 == 1 for a, b in ch) / len(ch)) if ch else float("nan"))
    res["free_run"] = {"winner_changes": changes, "forward_fraction": fwd,
                       "winners_seed0": (W[0] + 1).tolist()}
    res["continuous_form"] = continuous_form(cfg, Z)
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.5))
    im = axes[0].imshow(Jc[0].cpu().numpy(), cmap="RdBu_r")
    axes[0].set_title("J after cyclic training (seed 0)")
    fig.colorbar(im, ax=axes[0], shrink=0.8)
    axes[1].bar(["cyclic", "random 1", "random 10"],
                [res[f"asymmetry_{n}"]["median"] for n in ("cyclic", "random_1step",
                                                           "random_10step_epochs")])
    axes[1].axhline(PAPER["asymmetry_cyclic"], color="k", ls="--", label="paper (cyclic)")
    axes[1].set_title("asymmetry ‖J − Jᵀ‖/‖J‖ (median)")
    axes[1].legend(fontsize=7)
    axes[2].plot(np.arange(1, cfg.free_run_steps + 1), W[0] + 1, drawstyle="steps-post")
    axes[2].set(xlabel="free-run step", ylabel="winning digit", yticks=[1, 2, 3],
                title="free run (b = 0, β = 1), seed 0")
    fig.tight_layout()
    save(fig, out, "fep_sim3.png")
    res["figures"] = ["fep_sim3.png"]
    a = res["asymmetry_cyclic"]
    print(f"Sim 3: asymmetry cyclic {a['median']:.3f} [{a['min']:.3f}, {a['max']:.3f}] (paper 0.981); "
          f"random 1-step {res['asymmetry_random_1step']['median']:.3f}, random 10-step "
          f"{res['asymmetry_random_10step_epochs']['median']:.3f}; J_sym attractor/digit corr "
          f"{res['jsym_attractor_corr_with_digit']['median']:.3f}; free-run forward fraction {fwd}; "
          f"continuous form {res['continuous_form']}")
    return res
