"""The shared contract every column class satisfies (float64; the tolerances of docs/theory.md)."""

import math

import pytest
import torch

import columns as C
from columns import energy

from conftest import jacobian, map_fixed_point, single_type_network, symplectic


def random_state(col, B, seed):
    g = torch.Generator().manual_seed(seed)
    return {f: torch.randn(B, col.n, generator=g, dtype=torch.float64) for f in col.fields}


def test_closed_form_equals_autograd(column_factory):
    col = column_factory(5).double()
    for seed in range(5):
        st = random_state(col, 3, seed)
        nu = torch.randn(3, col.n, dtype=torch.float64, generator=torch.Generator().manual_seed(99 + seed))
        s = 1.0 + torch.rand(3, col.n, dtype=torch.float64)
        d, g = col.rhs(st, nu, s)
        da, ga = col.rhs_autograd(st, nu, s)
        for f in col.fields:
            scale = da[f].abs().max().clamp(min=1.0)
            assert (d[f] - da[f]).abs().max() / scale <= 1e-10, f
        assert torch.allclose(g, ga, rtol=1e-10, atol=1e-12)


def test_a_coupling_gradient_known_before_nu_is_the_autograd_one(column_factory):
    """Where a type says ∂H/∂ν without ν (``coupling_gradient``, the network's one-pass edge
    kernel relies on it), it equals autograd's ∂H/∂ν at every ν."""
    col = column_factory(4).double()
    st = random_state(col, 2, 7)
    g0 = col.coupling_gradient(st)
    if g0 is None:
        pytest.skip(f"{type(col).__name__}: ∂H/∂ν depends on ν (two passes)")
    for seed in range(3):
        nu = torch.randn(2, col.n, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
        s = 1.0 + torch.rand(2, col.n, dtype=torch.float64)
        _, ga = col.rhs_autograd(st, nu, s)
        assert torch.allclose(g0, ga, rtol=1e-12, atol=1e-14)


def test_hamiltonian_structure_at_random_states(column_factory):
    col = column_factory(2)
    net = single_type_network(col, stimulus=1.3)
    for seed in range(3):
        y = net.initial_state(noise=0.7, seed=seed)
        J = jacobian(net, y)
        n = J.shape[0] // 2
        assert abs(torch.trace(J).item()) <= 1e-10 * J.abs().max().item()
        SJ = symplectic(n) @ J
        assert (SJ - SJ.T).abs().max() <= 1e-10 * J.abs().max()
        ev = torch.linalg.eigvals(J)
        # eigenvalues come in ±λ pairs: the spectrum equals its negation
        for lam in ev:
            assert (ev + lam).abs().min() <= 1e-6 * (1 + lam.abs())


def test_momentum_identity(column_factory):
    """p = M (q̇ − F) along a trajectory (q̇ from the equations of motion)."""
    col = column_factory(3)
    net = single_type_network(col, stimulus=1.0)
    y = net.initial_state(noise=0.3, seed=4)
    dy = net(torch.tensor(0.0), y)
    parts, _, _ = net.layout.split(y)
    dparts, _, _ = net.layout.split(dy)
    st = parts["x"]
    q = {k: st[k] for k in col.positions}
    qdot = {k: dparts["x"][k] for k in col.positions}
    p = col.momenta_from_velocity(q, qdot, torch.zeros_like(q[col.positions[0]]),
                                  torch.ones_like(q[col.positions[0]]))
    for k in col.positions:
        assert torch.allclose(p["p_" + k], st["p_" + k], rtol=1e-12, atol=1e-12)


def near_map(net, reach=0.05, horizon=4.0):
    """Start ε from the MAP fixed point (a saddle), ε = reach·e^{−λ_max·horizon}: the run leaves
    the saddle by about ``reach`` at t = horizon and stays bounded. (From p(0) = 0 the quartic
    −½ m_z (s − wμ)² in H makes runs of these columns blow up by t ≈ 2.)"""
    y = map_fixed_point(net)
    lam = torch.linalg.eigvals(jacobian(net, y)).real.max().item()
    eps = reach * math.exp(-lam * horizon)
    return y + eps * torch.randn(y.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(1))


def test_energy_conserved_dopri8(column_factory):
    """dopri8 at rtol 1e-10: |H(t) − H(0)| ≤ 1e−8 over t ≤ 4 (constant s)."""
    col = column_factory(1)
    net = single_type_network(col, stimulus=1.0)
    y0 = near_map(net)
    rec_t = torch.linspace(0, 4, 41, dtype=torch.float64)
    from torchdiffeq import odeint
    with torch.no_grad():
        traj = odeint(net, y0, rec_t, method="dopri8", rtol=1e-10, atol=1e-12)
    H = torch.stack([energy.hamiltonian(net, t, y) for t, y in zip(rec_t, traj)]).squeeze(-1)
    assert (H - H[0]).abs().max() <= 1e-8


def test_energy_bounded_implicit_midpoint(column_factory):
    """Symplectic midpoint near the MAP saddle: small energy error, second order in h."""
    col = column_factory(1)
    net = single_type_network(col, stimulus=1.0)
    y0 = near_map(net)
    t = torch.linspace(0, 4, 401, dtype=torch.float64)
    rec = C.implicit_midpoint(net, y0, t)                 # h = 0.01
    H = torch.stack([energy.hamiltonian(net, tt, y) for tt, y in zip(t, rec)]).squeeze(-1)
    err = (H - H[0]).abs()
    assert err.max() <= 1e-6 * max(1.0, H[0].abs().item())
    # second order: halving the step divides the max error by ~4
    rec2 = C.implicit_midpoint(net, y0, t, step_size=0.005)
    H2 = torch.stack([energy.hamiltonian(net, tt, y) for tt, y in zip(t, rec2)]).squeeze(-1)
    ratio = err.max() / (H2 - H2[0]).abs().max()
    assert 3.0 <= ratio <= 5.0


def test_perception_only_closed_form():
    """§2.8: w frozen, no a: μ*, p_μ* and eigenvalues ±√(γ_μ² + m_z w²/m_μ)."""
    m_mu, gam, mu_d, m_z, w, s, th = 2.0, 0.7, 0.3, 3.0, 0.8, 1.5, 0.1
    col = C.GenericBMColumn(
        1, flows={"mu": lambda q, nu, s_, P: -P["gam"] * (q["mu"] - P["mu_d"])},
        prediction=lambda q, P: P["th"] + P["w"] * q["mu"], masses={"mu": m_mu}, m_z=m_z,
        extra={"gam": gam, "mu_d": mu_d, "w": w, "th": th})
    net = single_type_network(col, stimulus=s)
    mu_star = (m_mu * gam**2 * mu_d + m_z * w * (s - th)) / (m_mu * gam**2 + m_z * w**2)
    p_star = m_mu * gam * (mu_star - mu_d)
    y = torch.tensor([[mu_star, p_star]], dtype=torch.float64)
    assert net(torch.tensor(0.0), y).abs().max() <= 1e-12
    ev = torch.linalg.eigvals(jacobian(net, y)).real.sort().values
    lam = math.sqrt(gam**2 + m_z * w**2 / m_mu)
    assert torch.allclose(ev, torch.tensor([-lam, lam], dtype=torch.float64), atol=1e-12)


@pytest.mark.parametrize("factory", ["k6", "k6-oja"])
def test_mirror_symmetry(factory):
    """§2.7: with μ_d = θ₀ = 0, U(μ, a, w) = U(−μ, a, −w) and the flow is mirror-equivariant."""
    col = C.K6Column(4, mu_d=0.0, theta0=0.0, h_rule="oja" if factory == "k6-oja" else "hebb").double()
    st = random_state(col, 2, 7)
    s = torch.full((2, 4), 1.2, dtype=torch.float64)
    nu = torch.zeros(2, 4, dtype=torch.float64)
    q = {k: st[k] for k in col.positions}
    qm = {"mu": -q["mu"], "a": q["a"], "w": -q["w"]}
    assert torch.allclose(col.static_energy(q, nu, s), col.static_energy(qm, nu, s), rtol=1e-13)
    sign = {"mu": -1, "a": 1, "w": -1, "p_mu": -1, "p_a": 1, "p_w": -1}
    d, _ = col.rhs(st, nu, s)
    dm, _ = col.rhs({f: sign[f] * v for f, v in st.items()}, nu, s)
    for f in col.fields:
        assert torch.allclose(dm[f], sign[f] * d[f], rtol=1e-13, atol=1e-14)


def test_midpoint_energy_bounded_on_periodic_orbit():
    """On a bounded orbit (g = sin μ: the particle oscillates in V = −½ m_z sin²μ) the implicit
    midpoint energy error stays bounded over 60 periods, while RK4's grows secularly."""
    col = C.GenericBMColumn(1, flows={"mu": lambda q, nu, s, P: 0.0 * q["mu"]},
                            prediction=lambda q, P: torch.sin(q["mu"]), masses={"mu": 1.0}, m_z=1.0)
    net = single_type_network(col, stimulus=0.0)
    y0 = torch.tensor([[1.2, 0.0]], dtype=torch.float64)
    t = torch.linspace(0, 400, 4001, dtype=torch.float64)              # period ≈ 6.6
    with torch.no_grad():
        mid = C.implicit_midpoint(net, y0, t)                       # h = 0.1
        from torchdiffeq import odeint
        rk4 = odeint(net, y0, t, method="rk4", options={"step_size": 0.5})
    H0 = energy.hamiltonian(net, 0.0, y0)
    e_mid = (torch.stack([energy.hamiltonian(net, 0.0, y) for y in mid]).squeeze(-1) - H0).abs()
    e_rk4 = (torch.stack([energy.hamiltonian(net, 0.0, y) for y in rk4]).squeeze(-1) - H0).abs()
    assert (mid[:, 0, 0] - 1.5708).abs().max() < 0.5                 # the orbit stays bounded
    assert e_mid.max() < 1e-3
    assert e_mid[3000:].max() <= 1.5 * e_mid[:1000].max()           # no secular growth
    assert e_rk4[3000:].max() >= 2.0 * e_rk4[:1000].max()           # the non-symplectic one drifts
