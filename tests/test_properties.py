"""Property tests over random graphs (hypothesis + hypothesis-networkx): node types, weights,
learnable flags, self-loops allowed or not, isolated nodes. Bounded example counts (the whole
file runs in well under 60 s)."""

import networkx as nx
import numpy as np
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_networkx import graph_builder

import graphs
from graphs.errors import ColumnsError

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

weights = st.floats(min_value=-2.0, max_value=2.0, allow_nan=False, allow_infinity=False)


def digraphs(self_loops: bool):
    return graph_builder(graph_type=nx.DiGraph, min_nodes=1, max_nodes=10, connected=False,
                         self_loops=self_loops, node_keys=st.integers(0, 10_000),
                         node_data=st.fixed_dictionaries({"type": st.sampled_from(["bm", "k6"])}),
                         edge_data=st.fixed_dictionaries({"weight": weights,
                                                          "learnable": st.booleans()}))


def _order(cp, G):
    """G's nodes in the coupling's node order."""
    by_label = {str(v): v for v in G.nodes}
    return [by_label[lbl] for lbl in cp.node_labels]


@SETTINGS
@given(G=digraphs(self_loops=False))
def test_compile_round_trips_to_networkx(G):
    cp = graphs.compile(G)
    assert cp.n_nodes == G.number_of_nodes() and cp.n_edges == G.number_of_edges()
    order = _order(cp, G)
    H = nx.DiGraph()
    H.add_nodes_from((v, {"type": t}) for v, t in zip(order, cp.node_types))
    src, tgt = cp.src.tolist(), cp.tgt.tolist()
    for e, (j, i) in enumerate(zip(src, tgt)):
        H.add_edge(order[j], order[i], weight=float(cp.weight0[e]), learnable=bool(cp.learnable[e]))
    assert nx.utils.graphs_equal(G, H)
    assert all(G.nodes[v]["type"] == H.nodes[v]["type"] for v in G)
    assert all(a <= b for a, b in zip(tgt, tgt[1:]))                      # CSR order by target


@SETTINGS
@given(G=digraphs(self_loops=True))
def test_dense_matrix_is_networkx_transposed_and_products_agree(G):
    cp = graphs.compile(G, allow_self_loops=True)
    order = _order(cp, G)
    A = nx.to_numpy_array(G, nodelist=order, weight="weight")              # A[source, target]
    D = cp.to_dense().numpy()                                              # W[target, source]
    assert np.array_equal(D, A.T)
    g = torch.Generator().manual_seed(cp.n_edges)
    x = torch.randn(3, cp.n_nodes, dtype=torch.float64, generator=g)
    W = cp.weight0 + 0.1 * torch.randn(3, cp.n_edges, dtype=torch.float64, generator=g)
    dense = cp.to_dense(W)                                                 # (3, N, N)
    sparse = cp.forward_product(W, x)
    assert torch.allclose(sparse, (dense @ x.unsqueeze(-1)).squeeze(-1), atol=1e-12)
    assert torch.allclose(cp.transposed_product(W, x),
                          (dense.mT @ x.unsqueeze(-1)).squeeze(-1), atol=1e-12)
    looped = torch.stack([cp.forward_product(W[b], x[b])[0] for b in range(3)])   # batched == looped
    assert torch.allclose(sparse, looped, atol=1e-12)


anything = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.text(max_size=3),
                     st.floats(allow_nan=True, allow_infinity=True), st.lists(st.integers(), max_size=2))


def messy(graph_type):
    return graph_builder(graph_type=graph_type, min_nodes=0, max_nodes=6, connected=False,
                         self_loops=True, node_keys=st.one_of(st.integers(0, 5), st.text(max_size=2)),
                         node_data=st.dictionaries(st.sampled_from(["type", "region", "m_z", "x"]),
                                                   anything, max_size=3),
                         edge_data=st.dictionaries(st.sampled_from(["weight", "learnable", "delay",
                                                                    "kind", "y"]),
                                                   anything, max_size=4))


@SETTINGS
@given(G=st.sampled_from([nx.DiGraph, nx.Graph, nx.MultiDiGraph]).flatmap(messy))
def test_validate_accepts_or_raises_a_columns_error(G):
    try:
        graphs.validate(G)
    except ColumnsError:
        return
    graphs.compile(G, allow_self_loops=True)     # what validate accepts compiles (or names why)
