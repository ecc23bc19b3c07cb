"""The four solvers of docs/theory.md §3 against closed forms and each other (float64)."""


import networkx as nx
import pytest
import torch

import columns as C
from columns import energy
import columns.analysis as A
from columns.solvers.riccati import care_gain
from graphs.errors import SolverError
from tests.conftest import single_type_network


def linear_column():
    """Two positions, linear flows and prediction: Hamilton's equations are linear."""
    return C.GenericBMColumn(
        1, flows={"mu": lambda q, nu, s, P: -(q["mu"] - 0.2) + 0.3 * q["a"],
                  "a": lambda q, nu, s, P: -0.8 * q["a"]},
        prediction=lambda q, P: 0.1 + 0.9 * q["mu"] + 0.4 * q["a"],
        masses={"mu": 1.0, "a": 2.0}, m_z=3.0)


def k6(s=1.0):
    return single_type_network(C.K6Column(1), stimulus=s)


K6_Q0 = {"mu": 0.0, "a": 0.0, "w": 0.5}
FIELDS_K6 = ("mu", "a", "w", "p_mu", "p_a", "p_w")


def states(rec, fields):
    return torch.cat([rec[f] for f in fields], -1)    # (T, B, S)


def test_least_action_equals_the_analytic_bvp_on_a_linear_column():
    net = single_type_network(linear_column(), stimulus=1.0)
    T, K = 4.0, 1000
    t = torch.linspace(0.0, T, K + 1, dtype=torch.float64)
    y0 = net.initial_state(values={"mu": 0.5, "a": -0.3})
    rec = C.simulate(net, t, y0=y0, solver="least_action")
    # analytic: y(t) = y* + e^{Jt} (y0 − y*), with p(0) chosen so that p(T) = 0
    (fp,) = A.find_fixed_points(net, n_starts=4)
    J = A.jacobian(net, fp.y, canonical=False)
    ys, q0 = fp.y, y0[0, :2]
    E = torch.linalg.matrix_exp(J * T)
    p0 = ys[2:] - torch.linalg.solve(E[2:, 2:], ys[2:] + E[2:, :2] @ (q0 - ys[:2]))
    y_start = torch.cat([q0, p0])
    exact = torch.stack([ys + torch.linalg.matrix_exp(J * tk) @ (y_start - ys) for tk in t])
    got = states(rec, ("mu", "a", "p_mu", "p_a"))[:, 0]
    assert (got[:, :2] - exact[:, :2]).abs().max() <= 1e-4
    assert (got[:, 2:] - exact[:, 2:]).abs().max() <= 1e-3
    assert got[-1, 2:].abs().max() <= 1e-8                     # the natural boundary condition
    assert rec.config["solver_converged"]


def test_least_action_converges_at_the_slowest_stable_eigenvalue():
    net = k6()
    t = torch.linspace(0.0, 30.0, 1501, dtype=torch.float64)
    rec = C.simulate(net, t, y0=net.initial_state(values=K6_Q0), solver="least_action")
    q = states(rec, ("mu", "a", "w"))[:, 0]
    fps = A.find_fixed_points(net, center=q[750], n_starts=4, scale=0.1)
    fp = min(fps, key=lambda f: float((f.q - q[750]).abs().max()))
    assert float((q[750] - fp.q).abs().max()) <= 1e-4           # it reached q*(s)
    stable = [-float(z.real) for z in fp.eigenvalues if float(z.real) < -1e-9]
    slowest = min(stable)
    sel = (t >= 4.0) & (t <= 12.0)
    d = (q - fp.q).norm(dim=-1)[sel].log()
    tt = t[sel]
    rate = -float(((tt - tt.mean()) * (d - d.mean())).sum() / ((tt - tt.mean()) ** 2).sum())
    assert rate == pytest.approx(slowest, rel=0.10)


def test_least_action_path_solves_hamiltons_equations_on_a_learning_network():
    """The midpoint-rule minimiser is a variational integrator: Δy/Δt = rhs(ȳ) at every step of
    every receding-horizon window, for BM columns with learnable couplings. At a commit point the
    positions continue but the momenta jump (the next window sees further ahead)."""
    G = nx.DiGraph()
    G.add_nodes_from(range(3), type="bm")
    for i in range(3):
        G.add_edge(i, (i + 1) % 3, weight=0.2, learnable=True)
    s = lambda t: torch.stack([torch.sin(torch.as_tensor(t) + k) for k in range(3)])
    net = C.Network.from_graph(G, stimulus=s, dtype=torch.float64,
                               plasticity=C.HebbianPlasticity(m_W=0.5, gamma_W=0.2))
    t = torch.linspace(0.0, 6.0, 121, dtype=torch.float64)
    rec = C.simulate(net, t, y0=net.initial_state(noise=0.1, seed=1), solver="least_action",
                     solver_options={"window": 60, "overlap": 30})
    assert rec.config["solver_windows"] == 4 and rec.config["solver_converged"]
    Y = torch.cat([states(rec, ("mu", "w", "p_mu", "p_w")), rec["W"], rec["p_W"]], -1)[:, 0]
    dt = float(t[1] - t[0])
    with torch.no_grad():
        mid = 0.5 * (Y[1:] + Y[:-1])
        rhs = torch.stack([net(t[k] + dt / 2, mid[k:k + 1])[0] for k in range(len(t) - 1)])
    err = ((Y[1:] - Y[:-1]) / dt - rhs).abs().amax(-1)          # per step
    inside = torch.ones_like(err, dtype=torch.bool)
    inside[[29, 59, 89]] = False                                 # the steps into commit points
    assert err[inside].max() <= 1e-6
    assert err[~inside].max() > 1e-3
    assert float(rec["W"][-1].sub(rec["W"][0]).abs().max()) > 1e-3     # the couplings learned


def test_receding_horizon_agrees_with_one_window_away_from_the_ends():
    net = k6(lambda t: 1.0 + 0.5 * (1 + torch.tanh((torch.as_tensor(t) - 6.0) / 0.5)))
    t = torch.linspace(0.0, 16.0, 321, dtype=torch.float64)
    y0 = net.initial_state(values=K6_Q0)
    whole = states(C.simulate(net, t, y0=y0, solver="least_action"), FIELDS_K6)
    rh = states(C.simulate(net, t, y0=y0, solver="least_action",
                           solver_options={"window": 140, "overlap": 100}), FIELDS_K6)
    assert (whole[:200, :, :3] - rh[:200, :, :3]).abs().max() <= 2e-3


def test_riccati_closed_loop_eigenvalues_are_the_stable_eigenvalues():
    net = k6()
    fp = [f for f in A.find_fixed_points(net, n_starts=16) if f.U_morse_index == 0][0]
    J = A.jacobian(net, fp.y)
    X, closed = care_gain(J)
    key = lambda z: (round(z.real, 6), round(z.imag, 6))
    stable = sorted((complex(z) for z in torch.linalg.eigvals(J) if z.real < 0), key=key)
    closed = sorted((complex(z) for z in closed), key=key)
    assert max(abs(a - b) for a, b in zip(stable, closed)) <= 1e-8
    assert torch.allclose(X, X.T, atol=1e-10)
    # the closed loop from a nearby state converges to q*, on the stable manifold p − p* = −X δq
    y0 = fp.y.clone().unsqueeze(0)
    y0[0, :3] += torch.tensor([0.05, -0.02, 0.04], dtype=torch.float64)
    t = torch.linspace(0.0, 20.0, 41, dtype=torch.float64)
    rec = C.simulate(net, t, y0=y0, solver="riccati")
    Y = states(rec, FIELDS_K6)[:, 0]
    assert (Y[-1] - fp.y).abs().max() <= 1e-6
    assert (Y[5, 3:] - fp.y[3:] + X @ (Y[5, :3] - fp.y[:3])).abs().max() <= 1e-10


def test_riccati_refuses_a_centre_and_large_systems():
    J = torch.tensor([[0.0, 1.0], [-1.0, 0.0]], dtype=torch.float64)
    with pytest.raises(SolverError, match="imaginary axis"):
        care_gain(J)
    net = single_type_network(C.NetworkBMColumn(120))
    with pytest.raises(SolverError, match="max_positions"):
        C.simulate(net, torch.linspace(0, 1, 3), solver="riccati")


def test_gradient_flow_converges_to_argmin_U():
    net = k6()
    t = torch.linspace(0.0, 40.0, 81, dtype=torch.float64)
    rec = C.simulate(net, t, y0=net.initial_state(values=K6_Q0), solver="gradient")
    q = states(rec, ("mu", "a", "w"))[:, 0]
    U = A.energy_of_positions(net, q)
    assert (U.diff() <= 1e-12).all()                      # U decreases along the flow
    fp = A.describe(net, q[-1])
    assert fp.grad_norm <= 1e-6 and fp.U_morse_index == 0   # a minimum of U: the MAP estimate
    (near,) = [f for f in A.find_fixed_points(net, n_starts=16) if
               float((f.q - q[-1]).abs().max()) < 1e-4]
    assert near.U_morse_index == 0
    # the recorded momenta are the rest momenta −M F(q)
    p = states(rec, ("p_mu", "p_a", "p_w"))[-1, 0]
    assert (p - near.y[3:]).abs().max() <= 1e-4


def test_least_action_rejects_bad_windows():
    net = k6()
    t = torch.linspace(0.0, 1.0, 11, dtype=torch.float64)
    with pytest.raises(SolverError, match="window"):
        C.simulate(net, t, solver="least_action", solver_options={"window": 5, "overlap": 5})
    with pytest.raises(SolverError, match="rule"):
        C.simulate(net, t, solver="least_action", solver_options={"rule": "simpson"})


def test_block_thomas_equals_a_dense_solve():
    from columns.solvers.gauss_newton import block_thomas
    g = torch.Generator().manual_seed(5)
    K, B, n = 7, 2, 3
    M = torch.zeros(B, K * n, K * n, dtype=torch.float64)
    D = torch.randn(K, B, n, n, generator=g, dtype=torch.float64)
    D = D @ D.mT + 5 * torch.eye(n, dtype=torch.float64)
    O = 0.5 * torch.randn(K - 1, B, n, n, generator=g, dtype=torch.float64)
    for i in range(K):
        M[:, i * n:(i + 1) * n, i * n:(i + 1) * n] = D[i]
        if i < K - 1:
            M[:, i * n:(i + 1) * n, (i + 1) * n:(i + 2) * n] = O[i]
            M[:, (i + 1) * n:(i + 2) * n, i * n:(i + 1) * n] = O[i].mT
    rhs = torch.randn(K, B, n, generator=g, dtype=torch.float64)
    x = block_thomas(D, O, rhs)
    dense = torch.linalg.solve(M, rhs.permute(1, 0, 2).reshape(B, K * n))
    assert (x.permute(1, 0, 2).reshape(B, K * n) - dense).abs().max() <= 1e-12


def test_newton_polish_reaches_the_lbfgs_minimum_to_high_accuracy():
    from columns.solvers import least_action as LA
    net = k6(lambda t: 1.0 + torch.tanh(torch.as_tensor(t) - 2.0))
    y0 = net.initial_state(values=K6_Q0)
    t = torch.linspace(0.0, 6.0, 121, dtype=torch.float64)
    pos, _ = energy.canonical_pairs(net)
    a = LA.solve_window(net, y0[:, pos], t, optimizer="lbfgs")
    b = LA.solve_window(net, y0[:, pos], t, optimizer="newton")
    assert b["grad_max"] <= 1e-9 and b["grad_max"] < a["grad_max"]
    assert float(a["action"]) == pytest.approx(float(b["action"]), rel=1e-10)
    assert (a["q"] - b["q"]).abs().max() <= 1e-6


def test_newton_krylov_equals_the_newton_polish_on_the_pinned_problems():
    """Matrix-free Newton–Krylov reaches the same minimiser as L-BFGS + block-tridiagonal Newton
    on the analytic linear BVP and the K6 window of the slowest-eigenvalue test."""
    from columns.solvers import least_action as LA
    cases = [(single_type_network(linear_column(), stimulus=1.0), {"mu": 0.5, "a": -0.3},
              torch.linspace(0.0, 4.0, 401, dtype=torch.float64)),
             (k6(), K6_Q0, torch.linspace(0.0, 30.0, 601, dtype=torch.float64))]
    for net, q0, t in cases:
        y0 = net.initial_state(values=q0)
        pos, _ = energy.canonical_pairs(net)
        a = LA.solve_window(net, y0[:, pos], t, optimizer="newton")
        b = LA.solve_window(net, y0[:, pos], t, optimizer="krylov")
        assert b["optimizer"] == "krylov" and b["grad_max"] <= 1e-9
        assert float(b["action"]) == pytest.approx(float(a["action"]), rel=1e-10)
        assert (a["q"] - b["q"]).abs().max() <= 1e-7


def test_krylov_is_the_default_for_large_windows_and_converges():
    from columns.solvers import least_action as LA
    from experiments.bench.solvers import network
    net = network(40, 0, "cpu", torch.float64, 20, 0.05)       # 2·40 + 400 positions > 64
    y0 = net.initial_state(noise=0.1, seed=0)
    pos, _ = energy.canonical_pairs(net)
    t = torch.arange(21, dtype=torch.float64) * 0.05
    b = LA.solve_window(net, y0[:, pos], t)
    assert b["optimizer"] == "krylov" and b["converged"] and b["grad_max"] <= 1e-9
    a = LA.solve_window(net, y0[:, pos], t, optimizer="lbfgs")
    assert float(b["action"]) == pytest.approx(float(a["action"]), rel=1e-9)
