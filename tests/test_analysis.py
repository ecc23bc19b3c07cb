"""columns.analysis: fixed points, closed forms, Hamiltonian structure, energy, Lyapunov."""

import math

import networkx as nx
import pytest
import torch

import columns as C
from columns import energy
import columns.analysis as A
from tests.conftest import single_type_network


def k6_net(s=1.0, **params):
    return single_type_network(C.K6Column(1, **params), stimulus=s)


def bm_learning_net(seed=0):
    """Four BM columns, a directed ring of learnable edges plus one fixed chord."""
    G = nx.DiGraph()
    G.add_nodes_from(range(4), type="bm")
    for i in range(4):
        G.add_edge(i, (i + 1) % 4, weight=0.3 - 0.1 * i, learnable=True)
    G.add_edge(0, 2, weight=-0.4)
    s = torch.tensor([1.0, -0.5, 0.8, 0.3], dtype=torch.float64)
    return C.Network.from_graph(G, stimulus=s, dtype=torch.float64)


@pytest.mark.parametrize("make", [k6_net, lambda: k6_net(h_rule="oja"), bm_learning_net],
                         ids=["k6", "k6-oja", "bm-learnable"])
def test_fixed_points_are_critical_points_and_rest_points(make):
    net = make()
    fps = A.find_fixed_points(net, n_starts=24, seed=1)
    assert len(fps) >= 1
    for fp in fps:
        gU = torch.autograd.functional.jacobian(lambda q: A.energy_of_positions(net, q), fp.q)
        assert gU.abs().max() <= 1e-10
        assert fp.rhs_norm <= 1e-10 and fp.grad_norm <= 1e-10
        res = A.hamiltonian_residuals(A.jacobian(net, fp.y))
        assert max(res.values()) <= 1e-8
    # every minimum of U (a MAP estimate) is a saddle of the flow (§2.3)
    for fp in fps:
        if fp.U_morse_index == 0:
            assert fp.classification["real_pairs"] >= 1


def test_k6_mirror_pairs_when_symmetric():
    net = k6_net(mu_d=0.0, theta0=0.0, beta=0.0)
    fps = A.find_fixed_points(net, n_starts=40, seed=2)
    qs = [fp.q for fp in fps]
    for q in qs:   # (μ, a, w) -> (−μ, a, −w) is again a fixed point (docs/theory.md §2.7)
        mirror = q * torch.tensor([-1.0, 1.0, -1.0], dtype=q.dtype)
        assert min(float((mirror - r).abs().max()) for r in qs) <= 1e-8


def test_perception_only_closed_form():
    """§2.8: w frozen, no motor: μ*, p_μ*, eigenvalues ±√(γ² + m_z w²/m_μ)."""
    gm, md, mz, mm, w, s, th = 1.3, 0.2, 4.0, 0.7, 0.8, 1.5, 0.1
    col = C.GenericBMColumn(1, flows={"mu": lambda q, nu, s, P: -P["g"] * (q["mu"] - P["md"])},
                            prediction=lambda q, P: P["th"] + P["w"] * q["mu"],
                            masses={"mu": mm}, m_z=mz, extra={"g": gm, "md": md, "w": w, "th": th})
    net = single_type_network(col, stimulus=s)
    (fp,) = A.find_fixed_points(net, n_starts=8)
    mu = (mm * gm ** 2 * md + mz * w * (s - th)) / (mm * gm ** 2 + mz * w ** 2)
    lam = math.sqrt(gm ** 2 + mz * w ** 2 / mm)
    assert abs(float(fp.q[0]) - mu) <= 1e-12
    assert abs(float(fp.y[1]) - mm * gm * (mu - md)) <= 1e-12
    ev = sorted(float(z.real) for z in fp.eigenvalues)
    assert ev == pytest.approx([-lam, lam], abs=1e-12)
    assert fp.classification["kind"] == "saddle"


def test_hamiltonian_residuals_at_random_states():
    net = bm_learning_net()
    g = torch.Generator().manual_seed(3)
    for _ in range(3):
        y = torch.randn(net.state_size, generator=g, dtype=torch.float64)
        res = A.hamiltonian_residuals(A.jacobian(net, y))
        assert max(res.values()) <= 1e-8
    # a non-Hamiltonian matrix is flagged
    J = torch.eye(4, dtype=torch.float64)
    assert A.hamiltonian_residuals(J)["trace"] > 0.1
    assert A.classify(torch.linalg.eigvals(J))["kind"] == "not Hamiltonian"


def test_classification_kinds():
    c = torch.complex128
    assert A.classify(torch.tensor([1j, -1j, 2j, -2j], dtype=c))["kind"] == "centre"
    assert A.classify(torch.tensor([1, -1, 2j, -2j], dtype=c))["kind"] == "saddle-centre"
    assert A.classify(torch.tensor([1 + 1j, 1 - 1j, -1 + 1j, -1 - 1j], dtype=c))["kind"] == "focus-saddle"
    assert A.classify(torch.tensor([2, -2, 1, -1], dtype=c))["kind"] == "saddle"
    assert A.classify(torch.tensor([0, 0, 1, -1], dtype=c))["kind"] == "degenerate"


def test_energy_rate_matches_dH_ds_times_sdot():
    """§2.4: along a run with time-varying s, dH/dt = (∂H/∂s) ṡ."""
    net = k6_net(s=lambda t: 1.0 + 0.5 * torch.sin(1.3 * torch.as_tensor(t)))
    y0 = net.initial_state(values={"mu": 0.3, "w": 0.6, "p_mu": 0.1, "p_w": -0.05})
    t = torch.linspace(0.0, 1.5, 31, dtype=torch.float64)
    rec = C.simulate(net, t, y0=y0, method="dopri8", rtol=1e-10, atol=1e-12, chunk=100)
    Y = torch.stack([rec[f][:, 0, 0] for f in ("mu", "a", "w", "p_mu", "p_a", "p_w")], -1)
    from torchdiffeq import odeint
    for k in (5, 15, 25):     # dH/dt by a central difference of H along the exact trajectory
        h = 1e-4
        H = []
        for tk in (t[k] - h, t[k] + h):
            ys = odeint(net, Y[k].unsqueeze(0), torch.stack([t[k], tk]), method="dopri8",
                        rtol=1e-12, atol=1e-13)
            H.append(energy.hamiltonian(net, tk, ys[-1]))
        dHdt = float((H[1] - H[0]) / (2 * h))
        assert float(A.power(net, t[k], Y[k])) == pytest.approx(dHdt, rel=1e-6, abs=1e-8)
    drift = A.energy_drift(k6_net(), t, Y.unsqueeze(1))
    assert drift["max_abs"] > 1e-3          # H is not conserved when s varies


def test_energy_conserved_for_constant_s():
    net = k6_net()
    y0 = net.initial_state(values={"mu": 0.3, "w": 0.6, "p_mu": 0.1})
    t = torch.linspace(0.0, 1.0, 11, dtype=torch.float64)     # (it blows up in finite time at t ≈ 1.95)
    rec = C.simulate(net, t, y0=y0, method="dopri8", rtol=1e-11, atol=1e-12)
    Y = torch.cat([rec[f] for f in ("mu", "a", "w", "p_mu", "p_a", "p_w")], -1)
    drift = A.energy_drift(net, t, Y)
    rough = C.simulate(net, t, y0=y0, method="euler")
    Yr = torch.cat([rough[f] for f in ("mu", "a", "w", "p_mu", "p_a", "p_w")], -1)
    assert drift["relative"] <= 1e-6
    assert A.energy_drift(net, t, Yr)["relative"] > 1e3 * drift["relative"]


def test_lyapunov_at_a_linear_saddle_equals_the_largest_eigenvalue():
    col = C.GenericBMColumn(1, flows={"mu": lambda q, nu, s, P: -0.5 * q["mu"]},
                            prediction=lambda q, P: 0.8 * q["mu"], masses={"mu": 1.0}, m_z=2.0)
    net = single_type_network(col, stimulus=0.0)
    lam = math.sqrt(0.25 + 2.0 * 0.64)
    y0 = torch.zeros(2, dtype=torch.float64)       # the fixed point (a saddle)
    out = A.largest_lyapunov(net, y0, t_total=12.0, renorm=0.5, seed=4, transient=2.0)
    assert out["lambda"] == pytest.approx(lam, rel=0.02)


def test_track_fixed_points_along_stimulus():
    net = k6_net()
    (fp0,) = [f for f in A.find_fixed_points(net, n_starts=24) if f.U_morse_index == 0][:1]
    levels = torch.linspace(1.0, 2.0, 6).tolist()
    track = A.track_fixed_points(net, levels, lambda n, s: n.set_stimulus(s), fp0.q)
    assert all(fp is not None for fp in track)
    for fp, s in zip(track, levels):
        net.set_stimulus(s)
        assert float(net(torch.tensor(0.0), fp.y.unsqueeze(0)).abs().max()) <= 1e-10
    mus = [float(fp.q[0]) for fp in track]
    assert mus != sorted(mus)[::-1] or mus[0] != mus[-1]
    assert abs(mus[-1] - mus[0]) > 0.01
