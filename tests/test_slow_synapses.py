"""Slow synapses (graph edges with ``synapse="slow"``): they transmit the source's presynaptic
trace x̄_j and learn from x̄_j − x_j; the network's closed-form equations equal Hamilton's
equations by autograd of H, with the message split between rates and traces."""

import networkx as nx
import pytest
import torch

import columns as C
import graphs
from columns import energy


def trace_graph(n=12, seed=0, slow_fraction=0.5, learnable="some"):
    G = graphs.random_directed(n, p=0.4, weight_scale=0.3, learnable=learnable != "none", seed=seed)
    g = torch.Generator().manual_seed(seed + 1)
    for k, (u, v) in enumerate(list(G.edges)):
        G.nodes[u]["type"] = G.nodes[v]["type"] = "bm_trace"
        if float(torch.rand((), generator=g)) < slow_fraction:
            G.edges[u, v]["synapse"] = "slow"
        if learnable == "some" and k % 3 == 0:
            G.edges[u, v]["learnable"] = False
    return G


@pytest.mark.parametrize("learnable", ["all", "some", "none"])
def test_closed_form_with_slow_synapses_equals_autograd_of_H(learnable):
    net = C.Network.from_graph(trace_graph(learnable=learnable), stimulus=0.8, dtype=torch.float64)
    assert bool(net.coupling.slow.any()) and not bool(net.coupling.slow.all())
    for seed in range(3):
        y = net.initial_state(batch=2, noise=0.6, seed=seed)
        with torch.no_grad():
            closed = net(torch.tensor(0.2, dtype=torch.float64), y)
        assert net.edges.backend == "eager"
        auto = energy.rhs_autograd(net, torch.tensor(0.2, dtype=torch.float64), y)
        assert float((closed - auto).abs().max() / auto.abs().max()) <= 1e-12


def test_a_slow_synapse_transmits_the_trace_and_learns_from_its_lag():
    """One slow edge 0 → 1: ν_1 = W x̄_0, and Ẇ = α x_1 (x̄_0 − x_0) − γ W (P = 0)."""
    G = nx.DiGraph()
    G.add_nodes_from([0, 1], type="bm_trace")
    G.add_edge(0, 1, weight=0.7, learnable=True, synapse="slow")
    net = C.Network.from_graph(G, plasticity=C.HebbianPlasticity(alpha_W=0.3, gamma_W=0.1),
                               stimulus=0.0, dtype=torch.float64)
    y = net.initial_state(values={"mu": 0.5, "trace": -0.2})
    d = net(torch.tensor(0.0, dtype=torch.float64), y)
    parts, dW, _ = net.layout.split(d)
    mu = torch.tensor(0.5, dtype=torch.float64)
    x = torch.tanh(mu)
    col = net.columns["bm_trace"]
    # μ̇_1 = −γ_μ (μ − μ_d) + W x̄_0 (p = 0)
    assert float(parts["bm_trace"]["mu"][0, 1]) == pytest.approx(
        float(-col.gamma_mu * (mu - col.mu_d) + 0.7 * -0.2), rel=1e-12)
    assert float(dW[0, 0]) == pytest.approx(float(0.3 * x * (-0.2 - x) - 0.1 * 0.7), rel=1e-12)


def test_slow_synapses_need_a_source_with_a_trace():
    G = nx.DiGraph()
    G.add_nodes_from([0, 1], type="bm")
    G.add_edge(0, 1, weight=0.1, synapse="slow")
    with pytest.raises(C.GraphError, match=r"edge \('0' -> '1'\) is a slow synapse.*no trace"):
        C.Network.from_graph(G)
    G.edges[0, 1]["synapse"] = "slower"
    with pytest.raises(C.GraphError, match="'synapse' must be one of"):
        graphs.compile(G)


def test_multiregion_slow_fraction_keeps_the_graph_and_marks_edges():
    a = graphs.multiregion(n=16, seed=2)
    b = graphs.multiregion(n=16, seed=2, slow_fraction=0.5)
    assert nx.utils.edges_equal(a.edges, b.edges)
    slow = sum(1 for _, _, d in b.edges(data=True) if d.get("synapse") == "slow")
    assert 0.4 < slow / b.number_of_edges() < 0.6


def sequence_network(lag: bool, lam: float, N=60, P=4, J=2.5, tau=2.0, seed=0):
    """Sompolinsky–Kanter on bm_trace columns: a complete graph, each edge fast or slow at random;
    the fast ones hold W_s = (2J/N) Σ_k ξ_k ξ_kᵀ, the slow ones W_a = (2Jλ/N) Σ_k ξ_{k+1} ξ_kᵀ
    (each population on about half the pairs). Without the lag the same weights are all fast."""
    g = torch.Generator().manual_seed(seed)
    xi = torch.sign(torch.randn(P, N, generator=g, dtype=torch.float64))
    Ws = 2 * J / N * xi.T @ xi
    Wa = 2 * J * lam / N * xi.roll(-1, 0).T @ xi
    slow = torch.rand(N, N, generator=g) < 0.5
    G = nx.DiGraph()
    G.add_nodes_from(range(N), type="bm_trace")
    for i in range(N):
        for j in range(N):
            if i != j:
                attrs = ({"weight": float(Wa[i, j]), "synapse": "slow" if lag else "fast"}
                         if slow[i, j] else {"weight": float(Ws[i, j])})
                G.add_edge(j, i, **attrs)
    net = C.Network.from_graph(G, column_types={"bm_trace": {"mu_d": 0.0, "tau_trace": tau}},
                               dtype=torch.float64)
    return net, xi


def visited_order(traj, xi, threshold=0.7):
    """(changes of the pattern held with overlap > threshold, how many went to the next one)."""
    from columns import analysis as A
    c = torch.tanh(traj) @ xi.T / xi.shape[1]
    lab = torch.where(c.max(1).values > threshold, c.argmax(1), -1)
    v = A.visits(lab).tolist()
    steps = list(zip(v[:-1], v[1:]))
    return len(steps), sum(1 for a, b in steps if b == (a + 1) % xi.shape[0])


@pytest.mark.parametrize("lam", [1.5, 2.5])
def test_replay_recovers_the_order_through_the_lag_and_not_without_it(lam):
    from columns import analysis as A
    for lag in (True, False):
        net, xi = sequence_network(lag, lam)
        traj = A.replay(net, net.initial_state(), 1.5 * xi[:1], steps=4000, every=10, dt=0.05)
        n, fwd = visited_order(traj[:, 0], xi)
        if lag:
            assert n >= 20 and fwd >= 0.85 * n, (n, fwd)      # the cycle, forward
        else:
            assert n <= 2, n                                   # stays (the fixed point moved)
