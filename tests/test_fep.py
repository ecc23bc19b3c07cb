"""FEP attractor networks: continuous-Bernoulli primitives, the batched step, the column type."""

import mpmath
import networkx as nx
import pytest
import torch

import columns as C
from experiments.fep.runs import FEPRuns
from columns.rng import counter_uniform
from columns.types.langevin import cb_sample, langevin, langevin_prime, log_x_over_sinh
from graphs.errors import ParameterError, StimulusError

F64 = torch.float64


@pytest.mark.parametrize("theta", [-50.0, -3.0, -0.5, 0.0, 1.0, 5.0, 300.0])
def test_cb_sample_mean_is_the_langevin_function(theta):
    u = counter_uniform(torch.tensor([7]), 0, 200_000)[0]
    th = torch.full_like(u, theta)
    x = cb_sample(th, u)
    assert x.min() >= -1.0 and x.max() <= 1.0
    assert abs(float(x.mean()) - float(langevin(torch.tensor(theta, dtype=F64)))) <= 5e-3


def test_cb_sample_extremes_are_finite_and_bounded():
    u = counter_uniform(torch.tensor([1]), 0, 1000)[0]
    for theta in (-1e6, -500.0, -1e-13, 1e-13, 499.9, 1e6):
        x = cb_sample(torch.full_like(u, theta), u)
        assert torch.isfinite(x).all() and x.abs().max() <= 1.0


def test_langevin_against_high_precision_series_and_finite_differences():
    mpmath.mp.dps = 50
    grid = [1e-9, 1e-4, 0.01, 0.1, 0.2499, 0.25, 0.2501, 0.7, 1.0, 3.0, 20.0, 100.0, 500.0]
    for v in grid + [-g for g in grid]:
        th = torch.tensor(v, dtype=F64)
        Lx = mpmath.coth(v) - 1 / mpmath.mpf(v)
        Lpx = 1 / mpmath.mpf(v) ** 2 - 1 / mpmath.sinh(v) ** 2
        lx = mpmath.log(mpmath.mpf(v) / mpmath.sinh(v))
        assert float(langevin(th)) == pytest.approx(float(Lx), rel=1e-13, abs=1e-300)
        assert float(langevin_prime(th)) == pytest.approx(float(Lpx), rel=1e-12)
        assert float(log_x_over_sinh(th)) == pytest.approx(float(lx), rel=1e-12, abs=1e-300)
    assert float(langevin(torch.tensor(0.0, dtype=F64))) == 0.0
    assert float(langevin_prime(torch.tensor(0.0, dtype=F64))) == pytest.approx(1 / 3, rel=1e-15)
    # the series near 0 and the derivative by central differences
    th = torch.tensor([1e-3, 0.05, 0.2], dtype=F64)
    assert torch.allclose(langevin(th), th / 3 - th ** 3 / 45 + 2 * th ** 5 / 945, rtol=1e-9)
    th = torch.linspace(-20, 20, 401, dtype=F64)
    h = 1e-5
    fd = (langevin(th + h) - langevin(th - h)) / (2 * h)
    assert torch.allclose(langevin_prime(th), fd, rtol=1e-7, atol=1e-10)


def trained(runs=3, n=6, steps=40, edges=None, seeds=None, rule="code", beta=None):
    beta = torch.linspace(0.2, 1.0, runs, dtype=F64) if beta is None else beta
    net = FEPRuns(n, runs, beta=beta, alpha=0.05, seeds=seeds, edges=edges, rule=rule)
    g = torch.Generator().manual_seed(0)
    patterns = torch.randn(3, n, generator=g, dtype=F64)
    sigma = torch.zeros(runs, n, dtype=F64)
    for k in range(steps):
        sigma = net.step(sigma, 5.0 * patterns[k % 3])
    return net, sigma


@pytest.mark.parametrize("rule", ["code", "paper"])
def test_diagonal_stays_exactly_zero(rule):
    net, _ = trained(rule=rule)
    assert torch.count_nonzero(torch.diagonal(net.J, dim1=-2, dim2=-1)) == 0
    assert net.J.abs().max() > 1e-3


def test_batched_equals_looped_over_runs():
    seeds = torch.tensor([11, 12, 13, 14])
    beta = torch.tensor([0.1, 0.5, 1.0, 2.0], dtype=F64)
    batched, s_b = trained(runs=4, seeds=seeds, beta=beta)
    for r in range(4):
        single, s_1 = trained(runs=1, seeds=seeds[r:r + 1], beta=beta[r:r + 1])
        assert torch.allclose(single.J[0], batched.J[r], rtol=0, atol=1e-13)
        assert torch.allclose(s_1[0], s_b[r], rtol=0, atol=1e-13)


def test_sparse_complete_graph_equals_dense():
    n = 6
    src, tgt = zip(*[(j, i) for i in range(n) for j in range(n) if i != j])
    for rule in ("code", "paper"):
        dense, sd = trained(n=n, rule=rule)
        sparse, ss = trained(n=n, edges=(torch.tensor(src), torch.tensor(tgt)), rule=rule)
        assert torch.allclose(sparse.dense_J(), dense.J, rtol=0, atol=1e-13)
        assert torch.allclose(ss, sd, rtol=0, atol=1e-13)
        s0 = torch.randn(3, 4, n, dtype=F64, generator=torch.Generator().manual_seed(1)) * 0.3
        assert torch.allclose(sparse.vfe(s0), dense.vfe(s0), rtol=1e-12, atol=1e-12)


def test_sparse_graph_trains_only_its_edges():
    src, tgt = torch.tensor([0, 1, 2, 3]), torch.tensor([1, 2, 3, 0])
    net, _ = trained(n=4, edges=(src, tgt))
    J = net.dense_J()
    off = torch.ones(4, 4, dtype=torch.bool)
    off[tgt, src] = False
    assert torch.count_nonzero(J[:, off]) == 0 and J[:, tgt, src].abs().min() > 0


def test_seeds_reproduce_and_differ():
    a, _ = trained(seeds=torch.tensor([1, 2, 3]))
    b, _ = trained(seeds=torch.tensor([1, 2, 3]))
    c, _ = trained(seeds=torch.tensor([1, 2, 4]))
    assert torch.equal(a.J, b.J)
    assert torch.equal(a.J[:2], c.J[:2]) and not torch.equal(a.J[2], c.J[2])


def test_continuous_form_with_euler_dt_tau_is_the_deterministic_map():
    n, beta, tau = 5, 0.7, 0.5
    runs, _ = trained(runs=1, n=n, beta=torch.tensor([beta], dtype=F64))
    J = runs.J[0]
    G = nx.complete_graph(n, create_using=nx.DiGraph)
    for i, j in G.edges:
        G.edges[i, j]["weight"] = float(J[j, i])          # edge i → j carries J[j, i]
    for v in G:
        G.nodes[v]["type"] = "fep"
    bias = torch.linspace(-1, 1, n, dtype=F64)
    net = C.Network.from_graph(G, column_types={"fep": {"beta": beta, "tau": tau}}, stimulus=bias,
                               dtype=F64)
    s0 = torch.linspace(-0.5, 0.5, n, dtype=F64)
    t = torch.arange(0, 6, dtype=F64) * tau
    rec = C.simulate(net, t, y0=s0.unsqueeze(0), method="euler", step_size=tau)
    s = s0.unsqueeze(0)
    for k in range(1, 6):
        s = runs.step(s, bias, learn=False, stochastic=False)
        assert torch.allclose(rec["sigma"][k, 0], s[0], rtol=0, atol=1e-14)


def test_relaxation_reaches_fixed_points_of_the_map():
    net, _ = trained()
    start = torch.randn(3, 8, 6, dtype=F64, generator=torch.Generator().manual_seed(2)) * 0.5
    out = net.relax(start)
    assert out["converged"].all()
    s = out["sigma"]
    assert (langevin(net.field(s)) - s).abs().max() <= 1e-5


def test_bad_input():
    with pytest.raises(ParameterError, match="beta"):
        FEPRuns(3, 2, beta=-1.0)
    with pytest.raises(ParameterError, match="self-loops"):
        FEPRuns(3, 1, edges=(torch.tensor([0, 1]), torch.tensor([0, 2])))
    net = FEPRuns(3, 1)
    with pytest.raises(StimulusError, match="non-finite"):
        net.step(torch.zeros(1, 3, dtype=F64), torch.tensor([[0.0, float("nan"), 0.0]]))
    with pytest.raises(ParameterError, match="rule"):
        FEPRuns(3, 1, rule="oja")
    with pytest.raises(ParameterError, match="tau"):
        C.FEPColumn(2, tau=0.0)


def trace_net(n, J0, stimulus, **params):
    """The mean-field type "fep_trace" on the complete graph, couplings J0 (N, N), learnable."""
    G = nx.complete_graph(n, create_using=nx.DiGraph)
    nx.set_node_attributes(G, "fep_trace", "type")
    for i, j in G.edges:
        G.edges[i, j].update(weight=float(J0[j, i]), learnable=True)
    return C.Network.from_graph(G, column_types={"fep_trace": params}, stimulus=stimulus,
                                dtype=F64)


def test_meanfield_form_euler_is_the_map_and_keeps_the_diagonal_zero():
    n, beta = 5, 0.8
    runs, _ = trained(runs=1, n=n, beta=torch.tensor([beta], dtype=F64))
    bias = torch.linspace(-1, 1, n, dtype=F64)
    mf = trace_net(n, runs.J[0], bias, beta=beta, alpha=0.0, tau=0.5)
    s0 = torch.linspace(-0.5, 0.5, n, dtype=F64).unsqueeze(0)
    rec = C.simulate(mf, torch.tensor([0.0, 0.5, 1.0], dtype=F64),
                     y0=mf.initial_state(values={"sigma": s0, "trace": s0}), method="euler",
                     options={"step_size": 0.5})
    s = s0
    for k in (1, 2):
        s = runs.step(s, bias, learn=False, stochastic=False)
        assert torch.allclose(rec["sigma"][k], s, rtol=0, atol=1e-14)
    learner = trace_net(n, torch.zeros(n, n, dtype=F64), bias, beta=beta, alpha=0.1)
    C.simulate(learner, torch.linspace(0, 5, 6, dtype=F64),
               y0=learner.initial_state(values={"sigma": s0, "trace": s0}), method="rk4",
               options={"step_size": 0.25})
    J = learner.coupling_matrix()[0]
    assert torch.count_nonzero(torch.diagonal(J)) == 0 and J.abs().max() > 1e-3


def test_continuous_trace_keeps_the_order_specific_asymmetry(tmp_path):
    from experiments.digits import digits
    from experiments.fep import sim3 as fep_sim3
    cfg = fep_sim3.Config()                       # 600 presentations (about 15 s)
    out = fep_sim3.continuous_form(cfg, digits()[0][1:4])
    assert out["order_specific_trace"] > 3 * abs(out["order_specific_no_trace"])


def fep_graph(n, edges=None, learnable=True):
    """FEP columns on a directed graph (complete by default), every edge learnable from 0."""
    G = nx.DiGraph()
    G.add_nodes_from(range(n))                       # compiled node order = 0..n−1
    G.add_edges_from(nx.complete_graph(n, create_using=nx.DiGraph).edges if edges is None else edges)
    for v in G:
        G.nodes[v]["type"] = "fep"
    for e in G.edges:
        G.edges[e].update(weight=0.0, learnable=learnable)
    return G


@pytest.mark.parametrize("rule,stochastic,sparse", [("code", True, False), ("paper", True, False),
                                                     ("code", False, False), ("code", True, True)])
def test_network_step_mode_equals_fep_runs(rule, stochastic, sparse):
    """The column type wired by graphs, run by simulate(solver="step"), is the batched FEPRuns."""
    n, B, beta, alpha = 6, 3, 0.6, 0.05
    g = torch.Generator().manual_seed(3)
    edges = None
    if sparse:
        mask = torch.rand(n, n, generator=g) < 0.5
        mask.fill_diagonal_(False)
        edges = [(int(j), int(i)) for i, j in mask.nonzero()]               # j → i
    G = fep_graph(n, edges)
    patterns = 4.0 * torch.randn(3, n, generator=g, dtype=F64)
    T = 30
    stim = C.Stimulus.sampled(torch.arange(T, dtype=F64), patterns[torch.arange(T) % 3],
                              interpolation="previous")
    net = C.Network.from_graph(G, column_types={"fep": {"beta": beta, "alpha": alpha, "rule": rule}},
                               stimulus=stim, dtype=F64)
    rec = C.simulate(net, torch.arange(T + 1, dtype=F64), y0=net.initial_state(B), solver="step",
                     chunk=7, solver_options={"stochastic": stochastic, "seed": 10})
    src, tgt = (torch.tensor(e) for e in zip(*G.edges)) if sparse else (None, None)
    runs = FEPRuns(n, B, beta=beta, alpha=alpha, seeds=10 + torch.arange(B), rule=rule,
                     edges=(src, tgt) if sparse else None)
    sigma = torch.zeros(B, n, dtype=F64)
    for k in range(T):
        sigma = runs.step(sigma, patterns[k % 3], stochastic=stochastic)
        assert torch.allclose(rec["sigma"][k + 1], sigma, rtol=0, atol=1e-12)
    J_net = torch.zeros(B, n, n, dtype=F64)
    J_net[:, net.coupling.tgt, net.coupling.src] = rec["W"][-1]
    assert torch.allclose(J_net, runs.dense_J(), rtol=0, atol=1e-12)
    assert J_net.abs().max() > 1e-3


def test_network_step_mode_checks():
    from graphs.errors import SolverError
    net = C.Network.from_graph(fep_graph(4), dtype=F64)
    with pytest.raises(SolverError, match="solver='step'"):
        C.simulate(net, torch.arange(3, dtype=F64))                           # ivp cannot learn them
    G = fep_graph(3, learnable=False)
    G.add_node(3, type="bm")
    G.add_edge(3, 0, weight=0.1)
    mixed = C.Network.from_graph(G, dtype=F64)
    with pytest.raises(SolverError, match="'bm'"):
        C.simulate(mixed, torch.arange(3, dtype=F64), solver="step")
    with pytest.raises(ParameterError, match="rule"):
        C.FEPColumn(2, rule="oja")
    # the deterministic map without learning reaches a fixed point of σ = L(β(s + Jσ))
    rec = C.simulate(net, torch.arange(40, dtype=F64), y0=net.initial_state(1), solver="step",
                     solver_options={"stochastic": False, "learn": False}, record=["sigma"])
    assert rec["sigma"].shape == (40, 1, 4)


def test_a_region_without_evidence_learns_nothing_on_average_at_beta_one():
    """The code rule's error e_i = σ_i(t+1) − L(ν_i(t)) has mean L(β(s_i + ν_i)) − L(ν_i): zero at
    β = 1 where s_i = 0, and σ_j(t+1) is drawn independently of σ_i(t+1), so ΔJ_ij = α e_i σ_j(t+1)
    is a martingale for every i without evidence, however strongly its inputs drive it. Here
    region C (nodes 6–11) is driven by region A (0–5, with evidence) through fixed one-to-one
    edges of weight 3; over 400 seeds C's learned couplings average to noise while A's do not."""
    n, B, T = 6, 400, 60
    G = nx.DiGraph()
    G.add_nodes_from(range(2 * n), type="fep")
    within = [(j + o, i + o) for o in (0, n) for i in range(n) for j in range(n) if i != j]
    G.add_edges_from(within, weight=0.0, learnable=True)
    G.add_edges_from([(k, k + n) for k in range(n)], weight=3.0, learnable=False)
    g = torch.Generator().manual_seed(5)
    pats = torch.sign(torch.randn(3, n, generator=g, dtype=F64))
    bias = torch.cat([4.0 * pats, torch.zeros(3, n, dtype=F64)], 1)
    stim = C.Stimulus.sampled(torch.arange(T, dtype=F64), bias[torch.arange(T) % 3],
                              interpolation="previous")
    net = C.Network.from_graph(G, column_types={"fep": {"beta": 1.0, "alpha": 0.05}},
                               stimulus=stim, dtype=F64)
    rec = C.simulate(net, torch.arange(T + 1, dtype=F64), y0=net.initial_state(B), solver="step",
                     solver_options={"stochastic": True, "seed": 1}, progress=False)
    dW = rec["W"][-1]                                                # (B, E_learnable)
    in_c = net.coupling.tgt[net.learn_idx] >= n                      # node order = 0..2n−1
    mean, sem = dW.mean(0), dW.std(0) / B ** 0.5
    assert (mean[~in_c].abs() / sem[~in_c]).median() > 10             # A learns its patterns
    z = mean[in_c] / sem[in_c]
    assert z.abs().max() < 4.5 and abs(float(z.mean())) < 0.5          # C: noise around zero
    assert float(sem[in_c].mean()) > 1e-3                              # (but it does move)
