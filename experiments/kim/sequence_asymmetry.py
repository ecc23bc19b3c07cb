"""Do BM networks learn asymmetric couplings from sequential input? (docs/theory.md §4)

N network-BM columns (``NetworkBMColumn``), every ordered pair coupled by a learnable edge (initial
weights ε·N(0, 1), seeded). Patterns P_k = 2 e_k − 0.5 are presented for ``steps_per_pattern``
steps of Δt each, either in cyclic order (0, 1, …, N−1, 0, …) or in a random order (i.i.d.,
seeded) of the same length. Training runs:

- ``least_action`` in receding horizon (window / overlap in steps) on the cyclic stream,
- the same on the random-order stream (control),
- the ``gradient`` (predictive-coding) baseline on the cyclic stream: it has no kinetic term.

For each: the asymmetry index ‖W − Wᵀ‖_F / ‖W‖_F of the learned coupling matrix, the mean
forward (k → k+1, i.e. W[k+1, k]) and backward (W[k, k+1]) weights and their difference, the
order-aligned circulation (zero on average for an order-blind rule), and a free-run replay test:
the learned prior
flow μ̇ = −γ_μ(μ − μ_d) + W tanh(μ) (no stimulus, p = 0) from pattern 0; the sequence of
winning columns (argmax μ) is compared with the cyclic order. Median and range over seeds.

Writes results.json, asymmetry.png, learned_W.png.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import networkx as nx
import numpy as np
import torch

import columns as C
from columns import analysis

from ..harness import resume
from ..harness.config import ExperimentConfig
from ..harness.progress import progress
from ..harness.stats import summary
from ..harness.figures import pyplot, save


@dataclass
class Config(ExperimentConfig):
    POSITIVE = ("n_columns", "n_cycles", "steps_per_pattern", "dt", "window", "m_W", "seeds",
                "free_run_t")
    NONNEGATIVE = ("overlap", "gamma_W", "alpha_W", "init_scale")
    n_columns: int = 3
    """BM columns (all-to-all, learnable couplings)"""
    n_cycles: int = 20
    """cycles through the pattern sequence"""
    steps_per_pattern: int = 20
    """steps each pattern is held"""
    dt: float = 0.1
    """time step"""
    window: int = 120
    """least action: steps per window"""
    overlap: int = 60
    """least action: overlap of windows (steps)"""
    m_W: float = 0.2
    """precision of the couplings"""
    gamma_W: float = 0.05
    """decay of the couplings"""
    alpha_W: float = 0.5
    """Hebbian learning rate"""
    init_scale: float = 0.1
    """std of the initial couplings"""
    seeds: int = 5
    """seeds (batched)"""
    free_run_t: float = 60.0
    """length of the free run after training (time units)"""
    sensitivity: bool = True
    """also run the parameter-sensitivity sweep"""

    @classmethod
    def tiny(cls) -> "Config":
        return cls(n_cycles=3, seeds=2, window=40, overlap=20, free_run_t=10.0, sensitivity=False)


def build(cfg: Config, seed: int, device) -> C.Network:
    g = torch.Generator().manual_seed(seed)
    G = nx.DiGraph()
    G.add_nodes_from(range(cfg.n_columns), type="bm")
    for i in range(cfg.n_columns):
        for j in range(cfg.n_columns):
            if i != j:
                G.add_edge(j, i, weight=float(cfg.init_scale * torch.randn((), generator=g)),
                           learnable=True)
    pl = C.HebbianPlasticity(m_W=cfg.m_W, gamma_W=cfg.gamma_W, alpha_W=cfg.alpha_W)
    return C.Network.from_graph(G, plasticity=pl, dtype=torch.float64).to(device)


def stream(cfg: Config, order: str, seed: int):
    """(times (T,), stimulus values (T, N), pattern index per step)."""
    n = cfg.n_columns
    n_pat = cfg.n_cycles * n
    if order == "cyclic":
        seq = np.arange(n_pat) % n
    else:
        seq = np.random.default_rng(seed + 1000).integers(0, n, n_pat)
    idx = np.repeat(seq, cfg.steps_per_pattern)
    idx = np.append(idx, idx[-1])
    P = 2.0 * np.eye(n) - 0.5
    times = np.arange(idx.size) * cfg.dt
    return torch.tensor(times), torch.tensor(P[idx]), seq


def coupling_matrix(net: C.Network, W_edges: torch.Tensor) -> np.ndarray:
    """Dense W[target, source] from the learnable-edge vector."""
    edges = net.learned_edges()
    W = np.zeros((net.n_nodes, net.n_nodes))
    W[edges["target"].cpu().numpy(), edges["source"].cpu().numpy()] = W_edges.cpu().numpy()
    return W


def asymmetry(W: np.ndarray) -> float:
    """‖W − Wᵀ‖/‖W‖ (``columns.analysis.asymmetry``) of a NumPy matrix."""
    return analysis.asymmetry(torch.as_tensor(W))


def free_run(net: C.Network, W: np.ndarray, cfg: Config) -> dict:
    """Integrate the learned prior flow from pattern 0 and read the winner sequence."""
    col = net.columns["bm"]
    gm, md = float(col.gamma_mu), float(col.mu_d)
    Wt = torch.as_tensor(W)
    mu = torch.as_tensor(2.0 * np.eye(cfg.n_columns)[0] - 0.5)
    h, winners = 0.01, []
    for _ in range(int(cfg.free_run_t / h)):
        mu = mu + h * (-gm * (mu - md) + Wt @ torch.tanh(mu))
        k = int(torch.argmax(mu))
        if not winners or winners[-1] != k:
            winners.append(k)
    n = cfg.n_columns
    trans = list(zip(winners[:-1], winners[1:]))
    fwd = sum((b - a) % n == 1 for a, b in trans)
    return {"winners": winners[:50], "n_transitions": len(trans),
            "replay_fraction": (fwd / len(trans)) if trans else 0.0,
            "replays_order": bool(len(trans) >= n and fwd == len(trans)),
            "final_mu": mu.tolist()}


def train(cfg: Config, order: str, solver: str, seed: int, device) -> dict:
    net = build(cfg, seed, device)
    times, values, seq = stream(cfg, order, seed)
    net.set_stimulus(C.Stimulus.sampled(times, values, interpolation="previous"))
    y0 = net.initial_state()
    slv = (C.LeastAction(window=cfg.window, overlap=cfg.overlap) if solver == "least_action"
           else C.Gradient(method="rk4"))
    t0 = time.perf_counter()
    rec = C.simulate(net, times, y0=y0, solver=slv, record=["W"], progress=False)
    wall = time.perf_counter() - t0
    W = coupling_matrix(net, rec["W"][-1, 0])
    n = cfg.n_columns
    fwd = np.mean([W[(k + 1) % n, k] for k in range(n)])
    bwd = np.mean([W[k, (k + 1) % n] for k in range(n)])
    traj = [asymmetry(coupling_matrix(net, rec["W"][k, 0])) for k in
            range(0, len(rec), max(1, len(rec) // 100))]
    return {"asymmetry": asymmetry(W), "W": W.tolist(), "forward_mean": float(fwd),
            "backward_mean": float(bwd), "circulation": float(fwd - bwd), "norm_W": float(np.linalg.norm(W)),
            "free_run": free_run(net, W, cfg), "wall_s": wall,
            "converged": rec.config.get("solver_converged", True), "asymmetry_trace": traj,
            "pattern_order": seq[:12].tolist()}


def main(cfg: Config, out: str) -> dict:
    plt = pyplot()
    device = torch.device(cfg.device)
    conditions = {"least_action_cyclic": ("cyclic", "least_action"),
                  "least_action_random": ("random", "least_action"),
                  "gradient_cyclic": ("cyclic", "gradient")}
    results, runs = {}, {}
    for name, (order, solver) in conditions.items():
        rs = [resume.unit(f"{name}/seed-{k}",
                          lambda: train(cfg, order, solver, cfg.seed + k, device))
              for k in progress(range(cfg.seeds), f"sequence-asymmetry: {order} {solver}", "seed")]
        runs[name] = rs
        results[name] = {
            "asymmetry": summary([r["asymmetry"] for r in rs]),
            "forward_mean": summary([r["forward_mean"] for r in rs]),
            "backward_mean": summary([r["backward_mean"] for r in rs]),
            "circulation": summary([r["circulation"] for r in rs]),
            "replay_fraction": summary([r["free_run"]["replay_fraction"] for r in rs]),
            "replays_order": [r["free_run"]["replays_order"] for r in rs],
            "wall_s": summary([r["wall_s"] for r in rs]),
            "all_windows_converged": all(r["converged"] for r in rs),
            "runs": rs}
        a = results[name]["asymmetry"]
        print(f"{name}: asymmetry median {a['median']:.3f} [{a['min']:.3f}, {a['max']:.3f}]; "
              f"forward {results[name]['forward_mean']['median']:+.3f}, backward "
              f"{results[name]['backward_mean']['median']:+.3f}, circulation "
              f"{results[name]['circulation']['median']:+.3f}; replay "
              f"{results[name]['replay_fraction']['median']:.2f}")
    la_c = results["least_action_cyclic"]["asymmetry"]
    la_r = results["least_action_random"]["asymmetry"]
    gr_c = results["gradient_cyclic"]["asymmetry"]
    results["finding"] = {
        "cyclic_exceeds_random_all_seeds": la_c["min"] > la_r["max"],
        "cyclic_exceeds_gradient_all_seeds": la_c["min"] > gr_c["max"],
        "cyclic_circulation_same_sign_all_seeds": bool(
            len({np.sign(v) for v in results["least_action_cyclic"]["circulation"]["values"]}) == 1),
        "stream_length_time": cfg.n_cycles * cfg.n_columns * cfg.steps_per_pattern * cfg.dt}
    if cfg.sensitivity:     # what the lookahead does: a short window (one pattern of overlap)
        short = {}
        for order in ("cyclic", "random"):
            c2 = dataclasses.replace(cfg, window=2 * cfg.steps_per_pattern,
                                     overlap=cfg.steps_per_pattern)
            r = train(c2, order, "least_action", cfg.seed, device)
            short[order] = {k: r[k] for k in ("asymmetry", "forward_mean", "backward_mean",
                                               "circulation", "W")}
            print(f"short window ({c2.window}/{c2.overlap}), {order}: asymmetry "
                  f"{r['asymmetry']:.3f}, circulation {r['circulation']:+.3f}")
        results["short_window_sensitivity"] = short
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, rs in runs.items():
        for k, r in enumerate(rs):
            ax.plot(np.linspace(0, 1, len(r["asymmetry_trace"])), r["asymmetry_trace"],
                    color={"least_action_cyclic": "tab:red", "least_action_random": "tab:blue",
                           "gradient_cyclic": "tab:green"}[name], lw=1, label=name if k == 0 else None)
    ax.set(xlabel="training progress", ylabel="‖W − Wᵀ‖/‖W‖", title="asymmetry during training")
    ax.legend(fontsize=8)
    fig.tight_layout()
    save(fig, out, "asymmetry.png")
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.5))
    for ax, (name, rs) in zip(axes, runs.items()):
        W = np.asarray(rs[0]["W"])
        v = max(np.abs(W).max(), 1e-9)
        im = ax.imshow(W, cmap="RdBu_r", vmin=-v, vmax=v)
        ax.set(title=f"{name}\n(seed {cfg.seed})", xlabel="source", ylabel="target")
        fig.colorbar(im, ax=ax, shrink=0.8)
    fig.tight_layout()
    save(fig, out, "learned_W.png")
    results["figures"] = ["asymmetry.png", "learned_W.png"]
    return results
