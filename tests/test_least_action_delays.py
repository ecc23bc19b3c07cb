"""Least action with conduction delays (``columns.solvers.delayed_action``): a method-of-steps
reference, zero delays, the optimizers, the momenta, refusals."""

import warnings

import networkx as nx
import numpy as np
import pytest
import torch
from scipy.integrate import solve_ivp

import columns as C
from columns import DelayRoundingWarning
from columns.solvers import delayed_action
from columns.solvers import least_action as LA
from columns.types.bm import NetworkBMColumn

F64 = torch.float64
TAU, GAMMA, MU_D, W_AB, W_BA = 0.3, 1.0, 0.2, 0.8, -0.5
MU0 = (1.0, -0.5)


def linear_pair(delay=TAU):
    """Two linear BM columns coupled both ways through delayed edges; with w = 0 and no stimulus
    the sensory term vanishes, so the least-action path is the delayed prior flow
    μ̇ = −γ (μ − μ_d) + W μ(t − τ) (S = 0)."""
    G = nx.DiGraph()
    G.add_nodes_from(["A", "B"], type="bm")
    kw = {} if delay is None else {"delay": delay}
    G.add_edge("A", "B", weight=W_AB, **kw)
    G.add_edge("B", "A", weight=W_BA, **kw)
    col = NetworkBMColumn(2, rate="linear", gamma_mu=GAMMA, mu_d=MU_D)
    return C.Network.from_graph(G, column_types={"bm": col}, dtype=F64)


def method_of_steps(T):
    """The DDE's solution by the method of steps: on each interval of length τ an ODE whose
    delayed term is the previous interval's dense solution (constant history before 0)."""
    W = np.array([[0.0, W_BA], [W_AB, 0.0]])
    x0, t0, pieces = np.array(MU0), 0.0, []

    def at(t):
        if t <= 0:
            return np.array(MU0)
        for a, b, f in pieces:
            if a - 1e-12 <= t <= b + 1e-12:
                return f(t)
        raise AssertionError(t)

    while t0 < T - 1e-12:
        t1 = min(t0 + TAU, T)
        sol = solve_ivp(lambda t, x: -GAMMA * (x - MU_D) + W @ at(t - TAU), (t0, t1), x0,
                        rtol=1e-12, atol=1e-13, dense_output=True)
        pieces.append((t0, t1, sol.sol))
        x0, t0 = sol.y[:, -1], t1
    return at


def pair_state(net):
    y0 = net.initial_state()
    y0[:, :2] = torch.tensor(MU0, dtype=F64)
    y0[:, 2:4] = 0.0                                                  # w = 0: no sensory term
    return y0


def test_delayed_least_action_matches_the_method_of_steps_to_second_order():
    T, ref = 2.0, method_of_steps(2.0)
    errs = {}
    for dt in (0.02, 0.01):
        t = torch.linspace(0.0, T, round(T / dt) + 1, dtype=F64)
        exact = torch.tensor(np.array([ref(float(s)) for s in t]))
        for window in (None, 10):                 # one window; receding windows reading the past
            net = linear_pair()
            opts = {} if window is None else {"window": window, "overlap": 4}
            rec = C.simulate(net, t, y0=pair_state(net), solver="least_action", progress=False,
                             **opts)
            assert rec.config["delays"]["max_lag_steps"] == round(TAU / dt)
            assert rec.config["solver_converged"]
            errs[dt, window] = float((rec["mu"][:, 0] - exact).abs().max())
    assert errs[0.02, None] < 5e-5 and errs[0.01, None] < 1.5e-5
    assert errs[0.02, None] / errs[0.01, None] > 3.5                   # second order in Δt
    for dt in (0.02, 0.01):
        assert abs(errs[dt, 10] - errs[dt, None]) < 1e-8


def learning_ring(delay):
    G = nx.DiGraph()
    G.add_nodes_from(range(3), type="bm")
    for i in range(3):
        G.add_edge(i, (i + 1) % 3, weight=0.3, learnable=True,
                   **({} if delay is None else {"delay": delay}))
    s = lambda t: torch.stack([torch.sin(torch.as_tensor(t) + k) for k in range(3)])
    return C.Network.from_graph(G, stimulus=s, dtype=F64,
                                plasticity=C.HebbianPlasticity(m_W=0.5, gamma_W=0.2))


T_RING = torch.linspace(0.0, 3.0, 61, dtype=F64)


class Path:
    """A run's states (T, B, S) and its recording's config."""

    def __init__(self, net, rec):
        self.y, self.config = rec.states(net), rec.config


def ring_path(delay, **options):
    net = learning_ring(delay)
    rec = C.simulate(net, T_RING, y0=net.initial_state(noise=0.1, seed=1),
                     solver="least_action", progress=False, window=20, overlap=8, **options)
    return Path(net, rec)


def test_zero_delay_is_the_undelayed_solver_bitwise():
    base = ring_path(None)
    assert torch.equal(ring_path(0.0).y, base.y)
    with pytest.warns(DelayRoundingWarning, match="became 0"):
        rounded = ring_path(0.02)                 # < Δt / 2 = 0.025: zero steps
    assert torch.equal(rounded.y, base.y)


def test_delays_change_the_path_and_both_optimizers_agree():
    base = ring_path(None)
    krylov = ring_path(0.1)                       # 2 steps; "auto" runs Newton–Krylov
    lbfgs = ring_path(0.1, optimizer="lbfgs")
    assert krylov.config["solver_converged"] and lbfgs.config["solver_converged"]
    assert (krylov.y - lbfgs.y).abs().max() < 1e-6
    assert (krylov.y - base.y).abs().max() > 1e-3


def test_momenta_are_continuous_at_the_minimiser_with_delays():
    """p_k = ∂S_{<k}/∂q_k (what the solver returns) equals −∂S_{≥k}/∂q_k, the future's pull
    (which includes the delayed terms of later steps), at interior steps of one window."""
    net = learning_ring(0.1)
    q0 = net.initial_state(noise=0.1, seed=1)
    pos, _ = C.energy.canonical_pairs(net)
    times = T_RING[:31]
    path = delayed_action.DelayedPath(net, float(times[1] - times[0]))
    sol = LA.solve_window(net, q0[:, pos], times, path=path, optimizer="lbfgs")
    assert sol["converged"] and sol["p"][-1].abs().max() < 1e-8        # free end: p_K = 0
    q, dt = sol["q"], times.diff()
    s = LA.stimulus_grid(net, times[:-1] + 0.5 * dt, 1)
    past = path.initial_past(q[0])
    for k in (3, 10, 17, 25):
        qk = q[k:k + 1].clone().requires_grad_(True)
        qq = torch.cat([q[:k], qk, q[k + 1:]], 0)
        Ld = LA.discrete_lagrangian(net, qq[:-1], qq[1:], dt, s, "midpoint",
                                    path.receiver(path.arriving(net, past, qq, "midpoint")))
        future = torch.autograd.grad(Ld[k:].sum(), qk)[0][0]
        assert (sol["p"][k] + future).abs().max() < 1e-7


def test_the_dense_newton_polish_is_refused_with_delays():
    with pytest.raises(C.SolverError, match="optimizer 'newton' polishes with a block-tridiagonal"):
        ring_path(0.1, optimizer="newton")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ring_path(0.1, optimizer="krylov")        # whole steps: no rounding warning
