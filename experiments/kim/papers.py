"""Kim's four paper models (docs/theory.md §5): fixed points, spectra, runs.

- K18 (Neural Comput 2018, §4.1): perception only, (μ, p); g = μ + μ², f = 0.1μ + μ² + μ³,
  s = 1, m_w = m_z = 0.1. All fixed points (multi-start Newton on ∇U, cross-checked against the
  roots of the polynomial U′), their classes, and orbits started on the circle μ² + p² = 1.6.
- K21 (Biol Cybern 2021): the linear correlated-noise model ẏ = −R y + S(φ), y = (μ, p), for
  κ = 10 and κ = 1; fixed points at φ = 4, 10, 15, 20, eigenvalues, and runs under
  φ(t) = 20/(1 + x(t)²), x(t) = 2x₀/(1 + eᵗ) for x₀ = 2 and 10.
- K23 (Interface Focus 2023): complex parameters, 4-D (μ, a, p_μ, p_a), as a ``GenericBMColumn``
  with complex parameters integrated by ``simulate`` in complex128 (cross-checked against the
  paper's matrix R); both precision sets; the sigmoid stimulus s(t) = 100/(1 + e^{−0.2(t−250)}).
- K24 (Entropy 2024): learning, (μ, w, p_μ, p_w), both (μ_d, w_d) sets and both Hebbian signs.

Writes results.json (per model: fixed_points, eigenvalues, classification, figures, notes) and
k18_phase.png, k21_runs.png, k23_attractor.png, k24_learning.png.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

import columns as C
from columns import energy
import columns.analysis as A
import graphs
from columns import DivergenceError

from ..harness import resume
from columns.solvers.ivp import METHODS

from ..harness.config import ExperimentConfig
from ..harness.figures import pyplot, save


@dataclass
class Config(ExperimentConfig):
    POSITIVE = ("k18_t_end", "k21_t_end", "k23_t_end", "k23_step", "k24_t_end")
    AT_LEAST_ONE = ("k18_orbits",)
    CHOICES = {"k23_method": METHODS}
    k18_orbits: int = 16
    """[K18]: orbits drawn in the phase portrait"""
    k18_t_end: float = 30.0
    """[K18]: length of each orbit (time units)"""
    k21_t_end: float = 15.0
    """[K21]: length of the runs (time units)"""
    k23_t_end: float = 500.0
    """[K23]: length of the complex-parameter run (time units)"""
    k23_method: str = "dopri5"
    """[K23]: torchdiffeq method"""
    k23_step: float = 0.1
    """[K23]: step of fixed-step methods"""
    k24_t_end: float = 10.0
    """[K24]: length of the learning runs (time units)"""

    @classmethod
    def tiny(cls) -> "Config":
        return cls(k18_orbits=4, k18_t_end=5.0, k21_t_end=5.0, k23_method="rk4", k23_step=0.2,
                   k24_t_end=4.0)


def _complex_list(v) -> list:
    v = torch.as_tensor(v).detach().cpu()
    if v.is_complex():
        return [[float(z.real), float(z.imag)] for z in v.reshape(-1)]
    return [float(x) for x in v.reshape(-1)]


def _network(column, stimulus, dtype, device):
    import networkx as nx
    G = nx.DiGraph()
    G.add_node("c", type="col")
    return C.Network(graphs.compile(G), {"col": column}, stimulus=stimulus, dtype=dtype).to(device)


def _run(net, y0, t, **kw):
    """simulate, keeping the partial recording and the time if it diverges."""
    try:
        return C.simulate(net, t, y0=y0, **kw), None
    except DivergenceError as err:
        return err.recording, err.time


# --------------------------------------------------------------------------------------- K18
def k18(cfg: Config, out: str, device) -> dict:
    col = C.GenericBMColumn(1, flows={"mu": lambda q, nu, s, P: 0.1 * q["mu"] + q["mu"] ** 2 + q["mu"] ** 3},
                            prediction=lambda q, P: q["mu"] + q["mu"] ** 2,
                            masses={"mu": 0.1}, m_z=0.1)
    net = _network(col, 1.0, torch.float64, device)
    fps = A.find_fixed_points(net, center=torch.zeros(1, dtype=torch.float64, device=device),
                              n_starts=64, scale=2.0, seed=cfg.seed)
    fps = sorted(fps, key=lambda f: float(f.q[0]))
    # cross-check: U′(μ) = m_w f f′ − m_z (1 − g) g′ is a quintic; its real roots
    f = np.polynomial.Polynomial([0, 0.1, 1, 1])
    g = np.polynomial.Polynomial([0, 1, 1])
    dU = 0.1 * f * f.deriv() - 0.1 * (1 - g) * g.deriv()
    roots = sorted(r.real for r in dU.roots() if abs(r.imag) < 1e-9)
    angles = torch.linspace(0, 2 * math.pi, cfg.k18_orbits + 1, dtype=torch.float64)[:-1]
    y0 = torch.stack([1.6 ** 0.5 * angles.cos(), 1.6 ** 0.5 * angles.sin()], -1).to(device)
    t = torch.linspace(0, cfg.k18_t_end, int(cfg.k18_t_end * 20) + 1, dtype=torch.float64)
    orbits = []
    for k in range(cfg.k18_orbits):
        # f is cubic: orbits that leave blow up in finite time; stop them soon after they leave
        rec, t_div = _run(net, y0[k], t, method="dopri5", rtol=1e-9, atol=1e-11, max_norm=1e3,
                          chunk=2, options={"max_num_steps": 200})
        orbits.append((rec["mu"][:, 0, 0].numpy(), rec["p_mu"][:, 0, 0].numpy(), t_div))
    # energy levels: bounded orbits around the centre need H below the lowest saddle's H
    with torch.no_grad():
        th_ = torch.linspace(0, 2 * math.pi, 721, dtype=torch.float64)
        circle = torch.stack([1.6 ** 0.5 * th_.cos(), 1.6 ** 0.5 * th_.sin()], -1).to(device)
        H_circle = energy.hamiltonian(net, torch.tensor(0.0, dtype=torch.float64), circle)
    H_fp = {fp.classification["kind"] + f"@{float(fp.q[0]):.4f}": -fp.U for fp in fps}
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 5))
    for mu, p, t_div in orbits:
        ax.plot(mu, p, lw=0.8, color="tab:red" if t_div is not None else "tab:blue")
    th = np.linspace(0, 2 * np.pi, 200)
    ax.plot(1.6 ** 0.5 * np.cos(th), 1.6 ** 0.5 * np.sin(th), "k:", lw=0.8)
    for fp in fps:
        ax.plot(float(fp.y[0]), float(fp.y[1]), "ko" if fp.classification["kind"] == "centre" else "kx",
                ms=7)
    ax.set(xlim=(-3, 2), ylim=(-3, 3), xlabel="μ", ylabel="p_μ",
           title="[K18] orbits from μ²+p²=1.6 (red: left the box)")
    fig.tight_layout()
    save(fig, out, "k18_phase.png")
    return {
        "fixed_points": [_complex_list(fp.y) for fp in fps],
        "eigenvalues": [_complex_list(fp.eigenvalues) for fp in fps],
        "classification": [fp.classification["kind"] for fp in fps],
        "U": [fp.U for fp in fps], "U_morse_index": [fp.U_morse_index for fp in fps],
        "rhs_residual_max": max(fp.rhs_norm for fp in fps),
        "polynomial_roots_of_dU": roots,
        "orbits_bounded": sum(o[2] is None for o in orbits), "orbits_total": len(orbits),
        "H_at_fixed_points": H_fp, "H_on_circle_min": float(H_circle.min()),
        "H_on_circle_max": float(H_circle.max()),
        "figures": ["k18_phase.png"],
        "notes": "fixed points = real roots of U′ (a quintic); maxima of U are centres of the BM "
                 "flow (closed orbits), minima are saddles (docs/theory.md §2.3); "
                 "at a fixed point H = −U. "
                 "Orbits started on μ² + p² = 1.6 stay bounded only if their H lies between the "
                 "centre's H and the lower saddle's H (compare H_on_circle_min)",
    }


# --------------------------------------------------------------------------------------- K21
def k21_matrices(kappa: float, sigma_w=1.0, sigma_z=10.0, cov=-2.8, theta_d=20.0):
    rho = cov / math.sqrt(sigma_w * sigma_z)
    m_w = 1 / (sigma_w * (1 - rho ** 2))
    m_z = 1 / (sigma_z * (1 - rho ** 2))
    alpha = rho / math.sqrt(m_z * m_w)
    beta = m_z * alpha
    gamma = rho * math.sqrt(kappa)
    R = torch.tensor([[1 + beta, -1 / m_w], [(gamma ** 2 - 1) * m_z, -(1 + beta)]], dtype=torch.float64)

    def S(phi):
        phi = torch.as_tensor(phi, dtype=torch.float64)
        return torch.stack([theta_d + beta * phi, (gamma ** 2 - 1) * m_z * phi], -1)
    return R, S, {"rho": rho, "m_w": m_w, "m_z": m_z, "alpha": alpha, "beta": beta, "gamma": gamma}


def k21(cfg: Config, out: str, device) -> dict:
    from torchdiffeq import odeint
    res, runs = {"fixed_points": [], "eigenvalues": [], "classification": [], "cases": []}, []
    t = torch.linspace(0, cfg.k21_t_end, int(cfg.k21_t_end * 50) + 1, dtype=torch.float64)
    for kappa in (10.0, 1.0):
        R, S, par = k21_matrices(kappa)
        ev = A.eigenvalues(-R)
        cls = A.classify(ev)["kind"]
        for phi in (4.0, 10.0, 15.0, 20.0):
            ystar = torch.linalg.solve(R, S(phi))
            res["fixed_points"].append(_complex_list(ystar))
            res["eigenvalues"].append(_complex_list(ev))
            res["classification"].append(cls)
            res["cases"].append({"kappa": kappa, "phi": phi})
        for x0 in (2.0, 10.0):
            phi_t = lambda tt, x0=x0: 20 / (1 + (2 * x0 / (1 + torch.exp(tt))) ** 2)
            y0 = torch.linalg.solve(R, S(phi_t(torch.tensor(0.0, dtype=torch.float64))))
            ys = odeint(lambda tt, y: -(R @ y) + S(phi_t(tt)), y0, t, method="dopri5",
                        rtol=1e-10, atol=1e-10)
            grow = float((ys - y0).norm(dim=-1).max())
            runs.append({"kappa": kappa, "x0": x0, "mu": ys[:, 0].numpy(), "p": ys[:, 1].numpy(),
                         "phi": phi_t(t).numpy(), "max_excursion": grow})
        res[f"parameters_kappa{int(kappa)}"] = par
        res[f"R_kappa{int(kappa)}"] = R.tolist()
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for r in runs:
        ax = axes[0 if r["kappa"] == 10.0 else 1]
        ax.plot(t.numpy(), r["mu"], label=f"μ, x₀={r['x0']:g}")
        ax.plot(t.numpy(), r["phi"], "--", lw=0.8, label=f"φ, x₀={r['x0']:g}")
    axes[0].set(title="[K21] κ = 10 (centre)", xlabel="t")
    axes[1].set(title="[K21] κ = 1 (saddle)", xlabel="t", yscale="symlog")
    for ax in axes:
        ax.legend(fontsize=7)
    fig.tight_layout()
    save(fig, out, "k21_runs.png")
    ev10 = A.eigenvalues(-k21_matrices(10.0)[0])
    res["runs"] = [{"kappa": r["kappa"], "x0": r["x0"], "max_excursion": r["max_excursion"],
                    "mu_final": float(r["mu"][-1])} for r in runs]
    res["figures"] = ["k21_runs.png"]
    res["paper_printed_eigenvalues"] = "±1.84i (κ = 10)"
    res["notes"] = (f"R from the paper's own definitions gives eigenvalues ±{abs(float(ev10[0].imag)):.4f}i "
                    "for κ = 10 (a centre), not the printed ±1.84i (known erratum); κ = 1 (the exact "
                    "Euler–Lagrange equation) gives a real pair, a saddle")
    return res


# --------------------------------------------------------------------------------------- K23
def k23_column(m_z, m_w, m_eta):
    return C.GenericBMColumn(
        1, flows={"mu": lambda q, nu, s, P: P["tf0"] + P["tf1"] * q["mu"],
                  "a": lambda q, nu, s, P: P["tp0"] + P["tp2"] * q["a"]},
        prediction=lambda q, P: P["tg0"] + P["tg1"] * q["mu"] + P["tg2"] * q["a"],
        masses={"mu": m_w, "a": m_eta}, m_z=m_z,
        extra={"tf0": 10.0, "tf1": -1.0, "tp0": 10.0, "tp2": 1j, "tg0": 0.0, "tg1": 2j, "tg2": 1j})


def k23_matrices(m_z, m_w, m_eta, tg0=0.0, tg1=2j, tg2=1j, tf0=10.0, tf1=-1.0, tp0=10.0, tp2=1j):
    R = torch.tensor([[-tf1, 0, -1 / m_w, 0], [0, -tp2, 0, -1 / m_eta],
                      [-m_z * tg1 ** 2, -m_z * tg1 * tg2, tf1, 0],
                      [-m_z * tg1 * tg2, -m_z * tg2 ** 2, 0, tp2]], dtype=torch.complex128)

    def I(s):
        return torch.tensor([tf0, tp0, m_z * tg1 * (tg0 - s), m_z * tg2 * (tg0 - s)], dtype=torch.complex128)
    return R, I


def k23(cfg: Config, out: str, device) -> dict:
    stim = lambda t: 100.0 / (1.0 + torch.exp(-0.2 * (torch.as_tensor(t) - 250.0)))
    res = {"fixed_points": [], "eigenvalues": [], "classification": [], "cases": [], "runs": []}
    t = torch.arange(0.0, cfg.k23_t_end + 1e-9, 0.5, dtype=torch.float64)
    trajs = []
    for masses in ((1.0, 1.0, 1.0), (10.0, 1.0, 10.0)):
        net = _network(k23_column(*masses), stim, torch.complex128, device)
        R, I = k23_matrices(*masses)
        # the library's complex network reproduces the paper's linear system: J = −R, rhs = −Ry + I
        y_test = torch.randn(4, dtype=torch.complex128, generator=torch.Generator().manual_seed(1))
        tt = torch.tensor(0.0, dtype=torch.float64)
        lin = -(R @ y_test) + I(float(stim(tt)))
        with torch.no_grad():
            err = float((net(tt, y_test.unsqueeze(0).to(device))[0].cpu() - lin).abs().max())
        ev = A.eigenvalues(-R)
        for s in (0.0, 100.0):
            ystar = torch.linalg.solve(R, I(s))
            res["fixed_points"].append(_complex_list(ystar))
            res["eigenvalues"].append(_complex_list(ev))
            res["classification"].append(A.classify(ev)["kind"])
            res["cases"].append({"m_z, m_w, m_eta": list(masses), "s": s})
        y0 = net.initial_state(values={"mu": -16.9, "a": 21.1, "p_mu": -13.3})
        step = cfg.k23_step if cfg.k23_method in ("rk4", "euler", "midpoint", "implicit_midpoint") else None
        rec, t_div = _run(net, y0, t, method=cfg.k23_method, step_size=step, rtol=1e-8,
                          atol=1e-8, max_norm=1e8)
        Y = torch.cat([rec[f] for f in ("mu", "a", "p_mu", "p_a")], -1)[:, 0].cpu()
        tt_ = rec.t
        before = Y[(tt_ >= 100) & (tt_ <= 240)].real
        after = Y[(tt_ >= 360) & (tt_ <= 500)].real
        summary = {"masses": list(masses), "network_vs_paper_R_max_abs_error": err,
                   "diverged_at": t_div}
        for name, seg in (("before", before), ("after", after)):
            if len(seg):
                c = seg.mean(0)
                summary[f"centre_{name}"] = c[:3].tolist()
                summary[f"orbit_radius_{name}"] = float((seg[:, :3] - c[:3]).norm(dim=-1).max())
        for s, key in ((0.0, "before"), (100.0, "after")):
            summary[f"fixed_point_re_{key}"] = torch.linalg.solve(R, I(s)).real[:3].tolist()
        res["runs"].append(summary)
        trajs.append((masses, Y.real.numpy(), tt_.numpy()))
    plt = pyplot()
    fig = plt.figure(figsize=(11, 5))
    for k, (masses, Y, tt_) in enumerate(trajs):
        ax = fig.add_subplot(1, 2, k + 1, projection="3d")
        pre, post = tt_ < 250, tt_ >= 250
        ax.plot(Y[pre, 0], Y[pre, 1], Y[pre, 2], lw=0.5, color="tab:blue", label="t < 250")
        ax.plot(Y[post, 0], Y[post, 1], Y[post, 2], lw=0.5, color="tab:red", label="t ≥ 250")
        ax.set(xlabel="Re μ", ylabel="Re a", zlabel="Re p_μ",
               title=f"[K23] (m_z, m_w, m_η) = {tuple(masses)}")
        ax.legend(fontsize=7)
    fig.tight_layout()
    save(fig, out, "k23_attractor.png")
    res["figures"] = ["k23_attractor.png"]
    res["notes"] = ("integrated by the library's ivp solver in complex128 (GenericBMColumn with complex "
                    "parameters; Hamilton's equations by holomorphic autograd); its right-hand side "
                    "equals the paper's −R y + I(s) to rounding; the attractor is the orbit about "
                    "the fixed point, which the stimulus step moves")
    return res


# --------------------------------------------------------------------------------------- K24
def k24_column(mu_d, w_d, sign):
    return C.GenericBMColumn(
        1, flows={"mu": lambda q, nu, s, P: -P["gm"] * (q["mu"] - P["mu_d"]) + P["s"] * q["w"],
                  "w": lambda q, nu, s, P: -P["gw"] * (q["w"] - P["w_d"]) + P["sign"] * P["s"] * q["mu"]},
        prediction=lambda q, P: torch.zeros_like(q["mu"]),     # no likelihood term in [K24]
        masses={"mu": 5.0, "w": 0.5}, m_z=1.0,
        extra={"gm": 1.0, "gw": 0.1, "s": 5.0, "mu_d": mu_d, "w_d": w_d, "sign": sign})


def _winding(mu, w, c):
    ang = np.unwrap(np.arctan2(w - c[1], mu - c[0]))
    return float(abs(ang[-1] - ang[0]) / (2 * np.pi))


def k24(cfg: Config, out: str, device) -> dict:
    res = {"fixed_points": [], "eigenvalues": [], "classification": [], "cases": [], "runs": []}
    t = torch.linspace(0, cfg.k24_t_end, int(cfg.k24_t_end * 100) + 1, dtype=torch.float64)
    plt = pyplot()
    fig, axes = plt.subplots(2, 2, figsize=(9, 8))
    for i, (mu_d, w_d) in enumerate(((5.0, 5.0), (10.0, 0.0))):
        for j, sign in enumerate((1.0, -1.0)):
            net = _network(k24_column(mu_d, w_d, sign), 0.0, torch.float64, device)
            (fp,) = A.find_fixed_points(net, center=torch.zeros(2, dtype=torch.float64), n_starts=4)
            res["fixed_points"].append(_complex_list(fp.y))
            res["eigenvalues"].append(_complex_list(fp.eigenvalues))
            res["classification"].append(fp.classification["kind"])
            res["cases"].append({"mu_d": mu_d, "w_d": w_d, "hebbian_sign": sign})
            y0 = net.initial_state(values={"mu": 0.0, "w": 0.0, "p_mu": -1e-4, "p_w": 1e-4})
            rec, t_div = _run(net, y0, t, method="dopri5", rtol=1e-9, atol=1e-12, max_norm=1e6)
            mu, w = rec["mu"][:, 0, 0].numpy(), rec["w"][:, 0, 0].numpy()
            turns = _winding(mu, w, fp.q.tolist())
            res["runs"].append({"mu_d": mu_d, "w_d": w_d, "hebbian_sign": sign, "diverged_at": t_div,
                                "turns_around_fixed_point": turns, "spiral": turns >= 1.0,
                                "final_distance": float(np.hypot(mu[-1] - float(fp.q[0]),
                                                                 w[-1] - float(fp.q[1])))})
            ax = axes[i, j]
            ax.plot(mu, w, lw=0.8)
            ax.plot(float(fp.q[0]), float(fp.q[1]), "kx")
            ax.set(xlabel="μ", ylabel="w", title=f"(μ_d, w_d) = ({mu_d:g}, {w_d:g}), σ_H = {sign:+g}"
                   + (f"\ndiverged at t = {t_div:.2f}" if t_div is not None else ""))
            if t_div is not None:
                ax.set(xscale="symlog", yscale="symlog")
    fig.tight_layout()
    save(fig, out, "k24_learning.png")
    spirals = {r["hebbian_sign"] for r in res["runs"] if r["spiral"]}
    res["figures"] = ["k24_learning.png"]
    res["spiral_reproduced_by_hebbian_sign"] = sorted(spirals)
    res["notes"] = ("the printed equations (σ_H = +1) give a real eigenvalue pair of the prior flow "
                    "(a runaway, not a spiral); the figures' spiral needs σ_H = −1, as in the "
                    "paper's code" if spirals == {-1.0} else
                    f"spirals found for Hebbian signs {sorted(spirals)}")
    return res


def main(cfg: Config, out: str) -> dict:
    import time
    device = torch.device(cfg.device)
    results, timings = {}, {}
    for name, fn in (("K18", k18), ("K21", k21), ("K23", k23), ("K24", k24)):
        t0 = time.perf_counter()
        results[name] = resume.unit(name, lambda: fn(cfg, out, device))   # its figures are in out
        timings[name + "_s"] = time.perf_counter() - t0
    for name, r in results.items():
        print(f"{name}: " + "; ".join(f"{c}" for c in sorted(set(r["classification"]))))
    return {**results, "timings": timings}
