"""Network-level identities: batching, per-column equivalence, dense == sparse, conventions,
closed form == autograd of the collective H, gradcheck."""

import networkx as nx
import pytest
import torch

import columns as C
from columns import energy
import graphs

from conftest import jacobian, symplectic

T0 = torch.tensor(0.3, dtype=torch.float64)


def hetero_graph(seed=0):
    """K6 and network-BM columns, learnable and fixed edges, two kinds."""
    G = graphs.random_directed(7, p=0.5, weight_scale=0.3, learnable=True, seed=seed)
    for v in (1, 4, 6):
        G.nodes[v]["type"] = "k6"
    for k, (u, v) in enumerate(list(G.edges)):
        if k % 3 == 0:
            G.edges[u, v]["learnable"] = False
    G.nodes[2]["m_z"] = 2.5                 # a per-node override
    return G


def stim(n):
    g = torch.Generator().manual_seed(5)
    base = torch.rand(n, generator=g, dtype=torch.float64)
    return lambda t: base + 0.3 * torch.sin(torch.as_tensor(t, dtype=torch.float64))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_collective_closed_form_equals_autograd(seed):
    G = hetero_graph(seed)
    net = C.Network.from_graph(G, stimulus=stim(7), dtype=torch.float64,
                               plasticity=C.HebbianPlasticity(m_W=0.5, alpha_W=0.3, gamma_W=0.2))
    y = net.initial_state(batch=3, noise=0.5, seed=seed)
    d, da = net(T0, y), energy.rhs_autograd(net, T0, y)
    assert (d - da).abs().max() <= 1e-10 * da.abs().max().clamp(min=1)


def test_collective_hamiltonian_structure():
    net = C.Network.from_graph(hetero_graph(3), stimulus=stim(7), dtype=torch.float64)
    y = net.initial_state(noise=0.4, seed=3)
    J = jacobian(net, y, t=0.3)
    n = J.shape[0] // 2
    assert abs(torch.trace(J).item()) <= 1e-10 * J.abs().max().item()
    SJ = symplectic(n) @ J
    assert (SJ - SJ.T).abs().max() <= 1e-10 * J.abs().max()


def test_batched_equals_loop_over_batch():
    net = C.Network.from_graph(hetero_graph(1), stimulus=stim(7), dtype=torch.float64)
    y = net.initial_state(batch=4, noise=0.5, seed=1)
    d = net(T0, y)
    for b in range(4):
        assert torch.allclose(d[b], net(T0, y[b]), rtol=1e-13, atol=1e-14)


def test_uncoupled_network_equals_single_columns():
    """A type module holding N columns == N one-column networks (batched == looped over columns)."""
    n = 5
    ps = {"m_z": torch.linspace(1, 3, n, dtype=torch.float64), "mu_d": torch.linspace(-.2, .4, n, dtype=torch.float64)}
    G = nx.DiGraph()
    G.add_nodes_from(range(n), type="k6")
    net = C.Network.from_graph(G, column_types={"k6": ps}, stimulus=torch.linspace(0.5, 1.5, n),
                               dtype=torch.float64)
    y = net.initial_state(noise=0.5, seed=2)
    d = net(T0, y)
    for i in range(n):
        G1 = graphs.single_column("k6")
        one = C.Network.from_graph(G1, column_types={"k6": {k: v[i].item() for k, v in ps.items()}},
                                   stimulus=[0.5 + 0.25 * i], dtype=torch.float64)
        y1 = torch.stack([y[0, net.layout.offset("k6", f) + i] for f in one.columns["k6"].fields])
        d1 = one(T0, y1.unsqueeze(0))[0]
        dd = torch.stack([d[0, net.layout.offset("k6", f) + i] for f in one.columns["k6"].fields])
        assert torch.allclose(d1, dd, rtol=1e-13, atol=1e-14)


def test_column_view_matches_vectorised_state():
    net = C.Network.from_graph(hetero_graph(0), dtype=torch.float64)
    net.state = net.initial_state(batch=2, noise=0.3, seed=0)
    v = net.column(4)
    assert v.type_name == "k6" and set(v.fields) == {"mu", "a", "w", "p_mu", "p_a", "p_w"}
    parts, _, _ = net.layout.split(net.state)
    assert torch.equal(v.mu, parts["k6"]["mu"][:, v.local_index])
    v.mu = 0.75                              # writes through to the network state
    assert torch.all(net.state[:, net.layout.offset("k6", "mu") + v.local_index] == 0.75)
    W = net.coupling.to_dense(net.edge_weights(net.layout.split(net.state)[1]))
    i = net.coupling.index_of(4)
    src = [net.coupling.index_of(s) for s in v.sources]
    assert torch.equal(v.incoming_weights, W[:, i, src])
    assert net.column(2).params["m_z"] == 2.5 and net.column(0).params["m_z"] == 4.0


def test_dense_equals_sparse_products():
    cp = graphs.compile(graphs.random_directed(30, p=0.2, seed=4))
    g = torch.Generator().manual_seed(0)
    W = torch.randn(3, cp.n_edges, generator=g, dtype=torch.float64)
    x = torch.randn(3, cp.n_nodes, generator=g, dtype=torch.float64)
    D = cp.to_dense(W)
    assert torch.allclose(cp.forward_product(W, x), torch.einsum("bij,bj->bi", D, x), atol=1e-13)
    assert torch.allclose(cp.forward_product(W[:1], x), torch.einsum("ij,bj->bi", D[0], x), atol=1e-13)
    assert torch.allclose(cp.transposed_product(W, x), torch.einsum("bij,bi->bj", D, x), atol=1e-13)
    # the differentiable path (scatter-add) equals the CSR fast path
    Wg = W.clone().requires_grad_(True)
    assert torch.allclose(cp.forward_product(Wg, x), cp.forward_product(W, x), atol=1e-13)


def test_network_dense_equals_sparse():
    """The network's sparse dynamics == the same equations written with a dense W matrix."""
    G = graphs.random_directed(6, p=0.5, weight_scale=0.4, learnable=True, seed=8)
    net = C.Network.from_graph(G, stimulus=1.2, dtype=torch.float64)
    y = net.initial_state(batch=2, noise=0.5, seed=8)
    d = net(T0, y)
    col, pl = net.columns["bm"], net.plasticity
    parts, W_l, P_l = net.layout.split(y)
    st = parts["bm"]
    D, DP = net.coupling.to_dense(W_l), net.coupling.to_dense(P_l)        # [b, target, source]
    x, phi1 = torch.tanh(st["mu"]), 1 - torch.tanh(st["mu"]) ** 2
    nu = torch.einsum("bij,bj->bi", D, x)
    ref, g = col.rhs(st, nu, torch.full_like(nu, 1.2))
    force = torch.einsum("bij,bi->bj", D, g) + pl.alpha_W * (
        torch.einsum("bij,bj->bi", DP, x) + torch.einsum("bij,bi->bj", DP, x))
    ref["p_mu"] = ref["p_mu"] - phi1 * force
    mask = net.coupling.to_dense(torch.ones_like(W_l))
    dW = (DP / pl.m_W + pl.alpha_W * x[:, :, None] * x[:, None, :] - pl.gamma_W * D) * mask
    dP = (pl.gamma_W * DP - g[:, :, None] * x[:, None, :]) * mask
    dparts, dWs, dPs = net.layout.split(d)
    for f in col.fields:
        assert torch.allclose(dparts["bm"][f], ref[f], atol=1e-13)
    assert torch.allclose(net.coupling.to_dense(dWs), dW, atol=1e-13)
    assert torch.allclose(net.coupling.to_dense(dPs), dP, atol=1e-13)


def test_target_source_convention_pinned():
    """Edge a -> b with weight 2, b -> c with 3, c -> a with 5: W[b, a] = 2, W[c, b] = 3, W[a, c] = 5."""
    G = nx.DiGraph()
    G.add_edge("a", "b", weight=2.0)
    G.add_edge("b", "c", weight=3.0)
    G.add_edge("c", "a", weight=5.0)
    cp = graphs.compile(G)
    D = cp.to_dense()
    ia, ib, ic = (cp.index_of(k) for k in "abc")
    assert D[ib, ia] == 2.0 and D[ic, ib] == 3.0 and D[ia, ic] == 5.0
    assert D[ia, ib] == 0.0 and D.sum() == 10.0
    # ν = W x: column b receives 2·x_a
    x = torch.zeros(1, 3, dtype=torch.float64)
    x[0, ia] = 1.0
    nu = cp.forward_product(cp.weight0, x)
    assert nu[0, ib] == 2.0 and nu[0, ia] == 0.0 and nu[0, ic] == 0.0
    # networkx is row = source: ours is its transpose
    A = nx.to_numpy_array(G, nodelist=[cp.node_labels[i] for i in range(3)])
    assert torch.equal(D, torch.from_numpy(A).T)
    # CSR by target: column b's own incoming slice holds exactly the edge from a
    assert cp.src[cp.incoming(ib)].tolist() == [ia]


def test_gradcheck_one_dynamics_call():
    G = graphs.random_directed(4, p=0.6, weight_scale=0.5, learnable=True, seed=2)
    G.nodes[0]["type"] = "k6"
    net = C.Network.from_graph(G, stimulus=0.8, dtype=torch.float64)
    y = net.initial_state(noise=0.3, seed=1).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda z: net(T0, z), (y,))
    assert torch.autograd.gradcheck(lambda z: energy.rhs_autograd(net, T0, z), (y,))


def test_generic_column_in_a_network():
    """A user column (autograd equations) coupled to built-in columns: still Hamiltonian."""
    G = graphs.ring(4, weight=0.4, learnable=True)
    G.nodes[0]["type"] = "mine"
    mine = C.GenericBMColumn(1, flows={"mu": lambda q, nu, s, P: -q["mu"] ** 3 + nu},
                             prediction=lambda q, P: torch.sin(q["mu"]), masses={"mu": 2.0}, m_z=1.5)
    net = C.Network.from_graph(G, column_types={"mine": mine}, stimulus=0.7, dtype=torch.float64)
    y = net.initial_state(noise=0.4, seed=0)
    assert torch.allclose(net(T0, y), energy.rhs_autograd(net, T0, y), atol=1e-12)
