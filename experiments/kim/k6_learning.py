"""The K6 column under a stimulus switch, every solver side by side (docs/theory.md §2, §3).

s(t) = s₀ + (s₁ − s₀) · ½ (1 + tanh((t − t_switch)/width)) (default 1 → 2 at t = 20, width 0.3),
q(0) = (μ, a, w) = (0, 0, 0.5), t ∈ [0, 40]:

- ``ivp`` (Kim-faithful, p(0) = 0, dopri5): leaves along the unstable manifold; we report when.
- ``least_action`` (whole window, Δt = 0.02; and receding horizon): converges to q*(s); the
  approach rate is fitted and compared with the slowest stable eigenvalue of J at q*(s₀) and
  q*(s₁); the path is checked against scipy's ``solve_bvp`` on the same boundary-value problem;
  the anticipation of the switch (the path leaves q*(s₀) before t_switch) is measured.
- ``riccati`` (causal stable-manifold feedback) and ``gradient`` (predictive coding on U).

Also: the fixed points at s₀ tracked as s goes s₀ → s₁ (the seed's "attractor transitions").
Writes results.json, k6_phase_portraits.png, k6_trajectories.png, k6_fixed_point_track.png.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

import columns as C
import columns.analysis as A
import graphs
from columns import ConfigError, DivergenceError

from ..harness.config import ExperimentConfig
from ..harness.figures import pyplot, save

FIELDS = ("mu", "a", "w", "p_mu", "p_a", "p_w")


@dataclass
class Config(ExperimentConfig):
    POSITIVE = ("t_switch", "width", "t_end", "dt", "dt_causal", "window", "track_levels")
    NONNEGATIVE = ("overlap",)
    UNCHECKED = {"s0": "any stimulus level", "s1": "any stimulus level"}
    s0: float = 1.0
    """stimulus before the switch"""
    s1: float = 2.0
    """stimulus after the switch"""
    t_switch: float = 20.0
    """time of the switch"""
    width: float = 0.3
    """tanh width of the switch (time units)"""
    t_end: float = 40.0
    """end of the run"""
    dt: float = 0.02
    """time step of the least-action and gradient paths"""
    dt_causal: float = 0.1
    """time step of the riccati feedback"""
    window: float = 10.0
    """least action: receding-horizon window (time units)"""
    overlap: float = 5.0
    """least action: overlap of successive windows (time units)"""
    track_levels: int = 41
    """stimulus levels of the fixed-point track"""
    check_bvp: bool = True
    """compare least action with scipy's solve_bvp"""

    def check(self) -> None:
        if self.t_switch >= self.t_end:
            raise ConfigError(f"--t_switch ({self.t_switch:g}) must come before --t_end "
                              f"({self.t_end:g})")
        if self.overlap >= self.window:
            raise ConfigError(f"--overlap ({self.overlap:g}) must be shorter than --window "
                              f"({self.window:g})")

    @classmethod
    def tiny(cls) -> "Config":
        return cls(t_switch=6.0, t_end=12.0, dt=0.05, dt_causal=0.2, window=4.0, overlap=2.0,
                   track_levels=6)


def k6_network(cfg: Config, device) -> C.Network:
    import networkx as nx
    G = nx.DiGraph()
    G.add_node("k6", type="k6")
    s0, s1, ts, w = cfg.s0, cfg.s1, cfg.t_switch, cfg.width
    stim = lambda t: s0 + (s1 - s0) * 0.5 * (1 + torch.tanh((torch.as_tensor(t) - ts) / w))
    return C.Network(graphs.compile(G), {"k6": C.K6Column(1)}, stimulus=stim,
                     dtype=torch.float64).to(device)


def fit_rate(t, d, lo, hi) -> float:
    """−slope of log d(t) on [lo, hi] (least squares)."""
    sel = (t >= lo) & (t <= hi) & (d > 0)
    tt, ld = t[sel], np.log(d[sel])
    return float(-np.polyfit(tt, ld, 1)[0]) if sel.sum() > 2 else float("nan")


def states(rec) -> np.ndarray:
    return torch.cat([rec[f] for f in FIELDS], -1)[:, 0].numpy()     # (T, 6)


def main(cfg: Config, out: str) -> dict:
    plt = pyplot()
    device = torch.device(cfg.device)
    net = k6_network(cfg, device)
    q0 = {"mu": 0.0, "a": 0.0, "w": 0.5}
    y0 = net.initial_state(values=q0)
    res, timings, runs = {}, {}, {}

    # fixed points before/after the switch, and the track between
    fp_at = {}
    for name, s in (("before", cfg.s0), ("after", cfg.s1)):
        net.set_stimulus(s)
        fps = A.find_fixed_points(net, center=y0[0, :3], n_starts=48, scale=1.5, seed=cfg.seed)
        fp_at[name] = fps
    levels = np.linspace(cfg.s0, cfg.s1, cfg.track_levels).tolist()
    branches = []
    for fp in fp_at["before"]:
        net.set_stimulus(cfg.s0)
        tr = A.track_fixed_points(net, levels, lambda n, s: n.set_stimulus(s), fp.q)
        branches.append({"start": fp.q.tolist(), "s": levels,
                         "mu": [None if p is None else float(p.q[0]) for p in tr],
                         "a": [None if p is None else float(p.q[1]) for p in tr],
                         "w": [None if p is None else float(p.q[2]) for p in tr],
                         "classification": [None if p is None else p.classification["kind"] for p in tr],
                         "U_morse_index": [None if p is None else p.U_morse_index for p in tr]})
    net = k6_network(cfg, device)
    res["fixed_points_before"] = [fp.as_dict() for fp in fp_at["before"]]
    res["fixed_points_after"] = [fp.as_dict() for fp in fp_at["after"]]
    res["fixed_point_track"] = branches

    t = torch.arange(0.0, cfg.t_end + cfg.dt / 2, cfg.dt, dtype=torch.float64)
    tc = torch.arange(0.0, cfg.t_end + cfg.dt_causal / 2, cfg.dt_causal, dtype=torch.float64)

    # ivp: Kim-faithful forward integration from p(0) = 0
    t0 = time.perf_counter()
    try:
        rec = C.simulate(net, tc, y0=y0, method="dopri5", max_norm=1e6)
        res["ivp"] = {"diverged_at": None}
    except DivergenceError as err:
        rec = err.recording
        res["ivp"] = {"diverged_at": err.time, "message": str(err)}
    runs["ivp"] = (rec.t.numpy(), states(rec))
    timings["ivp_s"] = time.perf_counter() - t0

    # least action, one window, and receding horizon
    t0 = time.perf_counter()
    rec = C.simulate(net, t, y0=y0, solver="least_action")
    timings["least_action_s"] = time.perf_counter() - t0
    Y = states(rec)
    runs["least_action"] = (rec.t.numpy(), Y)
    t0 = time.perf_counter()
    steps = lambda x: int(round(x / cfg.dt))
    rh = C.simulate(net, t, y0=y0, solver="least_action",
                    solver_options={"window": steps(cfg.window), "overlap": steps(cfg.overlap)})
    timings["least_action_receding_s"] = time.perf_counter() - t0
    Yr = states(rh)
    tn = t.numpy()
    qs0 = min(fp_at["before"], key=lambda f: float(np.abs(f.q.numpy() - Y[steps(cfg.t_switch / 2), :3]).max()))
    qs1 = min(fp_at["after"], key=lambda f: float(np.abs(f.q.numpy() - Y[-steps(cfg.t_end / 8), :3]).max()))
    slow = lambda fp: min(-float(z.real) for z in fp.eigenvalues if float(z.real) < -1e-9)
    d0 = np.linalg.norm(Y[:, :3] - qs0.q.numpy(), axis=1)
    d1 = np.linalg.norm(Y[:, :3] - qs1.q.numpy(), axis=1)
    ts_, te = cfg.t_switch, cfg.t_end
    la = {"rate_before": fit_rate(tn, d0, 0.15 * ts_, 0.6 * ts_), "slowest_eig_before": slow(qs0),
          "rate_after": fit_rate(tn, d1, ts_ + 0.15 * (te - ts_), ts_ + 0.45 * (te - ts_)),
          "slowest_eig_after": slow(qs1),
          "q_star_before": qs0.q.tolist(), "q_star_after": qs1.q.tolist(),
          "classification_before": qs0.classification["kind"],
          "classification_after": qs1.classification["kind"],
          "distance_to_q_star_before_at_switch_minus_5": float(d0[steps(ts_ - 0.25 * ts_)]),
          "iterations": rec.config.get("solver_iterations_max"),
          "grad_max": rec.config.get("solver_grad_max"), "converged": rec.config.get("solver_converged"),
          "receding_vs_whole_max_abs_q": float(np.abs(Yr[:, :3] - Y[:, :3]).max()),
          "receding_windows": rh.config.get("solver_windows"),
          "momentum_at_end": Y[-1, 3:].tolist()}
    # anticipation: the first time before the switch at which the path leaves q*(s0) by 1e-3
    pre = (tn > 0.5 * ts_) & (tn < ts_ + 1)
    left = np.nonzero(pre & (d0 > 1e-3))[0]
    la["anticipation_lead"] = float(ts_ - tn[left[0]]) if left.size else 0.0
    if cfg.check_bvp:
        la["solve_bvp_max_abs_diff"] = _bvp_check(net, tn, Y)
    res["least_action"] = la

    for solver, opts in (("riccati", {"substeps": 4}), ("gradient", {})):
        t0 = time.perf_counter()
        try:
            r = C.simulate(net, tc, y0=y0, solver=solver, solver_options=opts)
            Ys = states(r)
            runs[solver] = (r.t.numpy(), Ys)
            res[solver] = {"final_q": Ys[-1, :3].tolist(),
                           "distance_to_q_star_after": float(np.linalg.norm(Ys[-1, :3] - qs1.q.numpy())),
                           "distance_to_q_star_before_at_switch": float(np.linalg.norm(
                               Ys[int(round(ts_ / cfg.dt_causal)), :3] - qs0.q.numpy()))}
        except C.ColumnsError as err:
            res[solver] = {"error": str(err)}
        timings[solver + "_s"] = time.perf_counter() - t0
    res["least_action"]["distance_to_q_star_after_at_end_minus"] = float(d1[-steps(te / 8)])

    # figures
    fig = plt.figure(figsize=(12, 4))
    for k, name in enumerate(("ivp", "least_action", "riccati", "gradient")):
        if name not in runs:
            continue
        tt, Ys = runs[name]
        ax = fig.add_subplot(1, 4, k + 1, projection="3d")
        ax.plot(Ys[:, 0], Ys[:, 1], Ys[:, 3], lw=0.8)
        for fp, m in ((qs0, "o"), (qs1, "s")):
            ax.scatter([fp.y[0]], [fp.y[1]], [fp.y[3]], color="k", marker=m)
        ax.set(xlabel="μ", ylabel="a", zlabel="p_μ", title=name)
    fig.tight_layout()
    save(fig, out, "k6_phase_portraits.png")
    fig, axes = plt.subplots(3, 1, figsize=(8, 7), sharex=True)
    for name, (tt, Ys) in runs.items():
        for i, ax in enumerate(axes):
            ax.plot(tt, Ys[:, i], label=name, lw=1)
    for i, (ax, lab) in enumerate(zip(axes, ("μ", "a", "w"))):
        ax.axvline(cfg.t_switch, color="grey", ls=":")
        ax.axhline(qs0.q[i].item(), color="k", lw=0.5, ls="--")
        ax.axhline(qs1.q[i].item(), color="k", lw=0.5, ls="-.")
        ax.set(ylabel=lab, ylim=(min(-0.5, float(qs1.q[i]) - 1), max(2.5, float(qs1.q[i]) + 1)))
    axes[0].legend(fontsize=8)
    axes[-1].set(xlabel="t")
    fig.tight_layout()
    save(fig, out, "k6_trajectories.png")
    fig, ax = plt.subplots(figsize=(6, 4))
    colors = {"saddle": "tab:red", "saddle-centre": "tab:green", "centre": "tab:blue",
              "focus-saddle": "tab:orange", "degenerate": "k"}
    for br in branches:
        for s, mu, c in zip(br["s"], br["mu"], br["classification"]):
            if mu is not None:
                ax.plot(s, mu, "o", ms=3, color=colors.get(c, "grey"))
    ax.set(xlabel="s", ylabel="μ*", title="K6 fixed points tracked as s goes s₀ → s₁")
    for c, col in colors.items():
        ax.plot([], [], "o", color=col, label=c)
    ax.legend(fontsize=7)
    fig.tight_layout()
    save(fig, out, "k6_fixed_point_track.png")
    res["figures"] = ["k6_phase_portraits.png", "k6_trajectories.png", "k6_fixed_point_track.png"]
    print(f"ivp diverged at t = {res['ivp'].get('diverged_at')}; least action: rate before "
          f"{la['rate_before']:.4f} vs slowest eigenvalue {la['slowest_eig_before']:.4f}, after "
          f"{la['rate_after']:.4f} vs {la['slowest_eig_after']:.4f}; anticipation "
          f"{la['anticipation_lead']:.2f}; solve_bvp diff {la.get('solve_bvp_max_abs_diff')}")
    return {**res, "timings": timings}


def _bvp_check(net, tn, Y) -> float:
    """max |q_least_action − q_solve_bvp| on the grid (scipy, tol 1e-8, same BVP)."""
    from scipy.integrate import solve_bvp
    stim = net.stimulus

    def fun(x, y):
        S = torch.stack([stim(torch.tensor(v, dtype=torch.float64)).reshape(()) for v in x]).reshape(-1, 1)
        with torch.no_grad():
            return net(torch.tensor(0.0), torch.as_tensor(y.T).to(net.device), S.to(net.device)).cpu().numpy().T

    def bc(ya, yb):
        return np.concatenate([ya[:3] - Y[0, :3], yb[3:]])
    sol = solve_bvp(fun, bc, tn, Y.T.copy(), tol=1e-8, max_nodes=500000)
    if sol.status != 0:
        return float("nan")
    return float(np.abs(sol.sol(tn)[:3].T - Y[:, :3]).max())
