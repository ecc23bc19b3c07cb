"""Spisak & Friston Sim 4: spontaneous activity without input barely changes J (docs/theory.md §6).

The balanced Sim 2 network (evidence 11, β = 0.16681, α = 0.001, trained on the 10 digits) then
runs ``steps`` stochastic steps with b = 0 and learning on (α = 0.001), at β = 1 (the paper) and
at the training β. Reported over seeds (one batch): Pearson r between the upper triangles of J
before and after (paper 0.973 at β = 1), the norm ratio ‖J_after‖/‖J_before‖, and retrieval and
one-shot generalisation ΔR² before and after (the Sim 2 protocol).

Writes results.json and fep_sim4.png.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


from ..harness.config import ExperimentConfig
from ..digits import digits
from ..harness.progress import progress
from ..harness.stats import summary
from .retrieval import evaluate, train
from .runs import FEPRuns
from ..harness.figures import pyplot, save

PAPER = {"corr_J_before_after_beta1": 0.973}


@dataclass
class Config(ExperimentConfig):
    POSITIVE = ("train_epochs", "steps", "evidence", "beta_train", "alpha", "seeds", "trials",
                "trial_steps")
    train_epochs: int = 5000
    """training epochs before the free run"""
    steps: int = 50000
    """free-run steps without input"""
    evidence: float = 11.0
    """input amplitude in training"""
    beta_train: float = 0.16681
    """β in training"""
    alpha: float = 0.001
    """learning rate α"""
    seeds: int = 5
    """seeds (one batch)"""
    trials: int = 100
    """retrieval trials"""
    trial_steps: int = 100
    """map steps per retrieval trial"""

    @classmethod
    def tiny(cls) -> "Config":
        return cls(train_epochs=200, steps=500, seeds=2, trials=5, trial_steps=10)


def main(cfg: Config, out: str) -> dict:
    plt = pyplot()
    device = torch.device(cfg.device)
    train_Z, test_Z = digits(device)
    S = cfg.seeds
    seeds = torch.arange(cfg.seed, cfg.seed + S)
    ev = torch.full((S,), cfg.evidence, dtype=torch.float64, device=device)
    net = FEPRuns(64, S, beta=cfg.beta_train, alpha=cfg.alpha, seeds=seeds, device=device)
    train(net, train_Z, ev, cfg.train_epochs, 10)
    J0 = net.J.clone()
    # two forgetting conditions per seed: β = 1 and β = β_train, b = 0, learning on
    ev2 = torch.cat([ev, ev])
    both = FEPRuns(64, 2 * S, beta=torch.cat([torch.ones(S), torch.full((S,), cfg.beta_train)]),
                     alpha=cfg.alpha, seeds=torch.cat([seeds + 5000, seeds + 6000]), device=device)
    both.J = torch.cat([J0, J0]).clone()
    before = {"retrieval": evaluate(both, train_Z, ev2, cfg.trials, cfg.trial_steps, False, 1).cpu().numpy(),
              "generalisation": evaluate(both, test_Z, ev2, cfg.trials, cfg.trial_steps, True, 2).cpu().numpy()}
    both.J = torch.cat([J0, J0]).clone()
    sigma = torch.zeros(2 * S, 64, dtype=torch.float64, device=device)
    for _ in progress(range(cfg.steps), "fep-sim4: free run", "step"):
        sigma = both.step(sigma, None)
    J1 = both.J.clone()
    iu = torch.triu_indices(64, 64, 1)
    a, b = torch.cat([J0, J0])[:, iu[0], iu[1]], J1[:, iu[0], iu[1]]
    a, b = a - a.mean(-1, keepdim=True), b - b.mean(-1, keepdim=True)
    r = ((a * b).sum(-1) / (a.norm(dim=-1) * b.norm(dim=-1))).cpu().numpy()
    ratio = (J1.norm(dim=(-2, -1)) / torch.cat([J0, J0]).norm(dim=(-2, -1))).cpu().numpy()
    after = {"retrieval": evaluate(both, train_Z, ev2, cfg.trials, cfg.trial_steps, False, 3).cpu().numpy(),
             "generalisation": evaluate(both, test_Z, ev2, cfg.trials, cfg.trial_steps, True, 4).cpu().numpy()}
    res = {"paper": PAPER}
    for i, name in enumerate(("beta1", "beta_train")):
        sl = slice(i * S, (i + 1) * S)
        res[name] = {"corr_J_before_after": summary(r[sl]), "norm_ratio": summary(ratio[sl]),
                     "dR2_retrieval_before": summary(before["retrieval"][sl]),
                     "dR2_retrieval_after": summary(after["retrieval"][sl]),
                     "dR2_generalisation_before": summary(before["generalisation"][sl]),
                     "dR2_generalisation_after": summary(after["generalisation"][sl])}
    fig, ax = plt.subplots(figsize=(4.5, 4))
    ax.plot(a[0].cpu(), b[0].cpu(), ".", ms=2)
    ax.set(xlabel="J before (centred)", ylabel="J after 50 000 free steps (β = 1)",
           title=f"r = {r[0]:.3f} (paper 0.973)")
    fig.tight_layout()
    save(fig, out, "fep_sim4.png")
    res["figures"] = ["fep_sim4.png"]
    for name in ("beta1", "beta_train"):
        c = res[name]["corr_J_before_after"]
        print(f"Sim 4 ({name}): r(J before, after) {c['median']:.3f} [{c['min']:.3f}, {c['max']:.3f}]; "
              f"norm ratio {res[name]['norm_ratio']['median']:.3f}; retrieval "
              f"{res[name]['dR2_retrieval_before']['median']:.3f} -> "
              f"{res[name]['dR2_retrieval_after']['median']:.3f}")
    return res
