"""Generators, compile order, loaders."""

import zipfile

import networkx as nx
import numpy as np
import pytest
import torch

import graphs


@pytest.mark.parametrize("make", [
    lambda s: graphs.random_directed(20, p=0.2, seed=s),
    lambda s: graphs.modular(3, 5, p_intra=0.5, p_inter=0.1, seed=s),
])
def test_generators_are_seeded(make):
    a, b, c = make(1), make(1), make(2)
    assert sorted(a.edges(data="weight")) == sorted(b.edges(data="weight"))
    assert sorted(a.edges(data="weight")) != sorted(c.edges(data="weight"))
    graphs.validate(a)


def test_modular_attributes():
    G = graphs.modular(2, 4, p_intra=1.0, p_inter=1.0, learn_inter=False, seed=0)
    assert G.number_of_edges() == 8 * 7
    for u, v, a in G.edges(data=True):
        same = G.nodes[u]["region"] == G.nodes[v]["region"]
        assert a["kind"] == ("intra" if same else "inter")
        assert a["learnable"] == same
    cp = graphs.compile(G)
    assert cp.kind_names == ["intra", "inter"] or set(cp.kind_names) == {"intra", "inter"}
    assert cp.regions[:4] == ["r0"] * 4


def test_ring_and_single():
    G = graphs.ring(5, weight=0.3)
    assert set(G.edges) == {(i, (i + 1) % 5) for i in range(5)}
    assert graphs.compile(graphs.single_column("k6")).n_edges == 0


def test_compile_groups_types_contiguously():
    G = nx.DiGraph()
    for i, t in enumerate(["bm", "k6", "bm", "k6", "bm"]):
        G.add_node(f"n{i}", type=t)
    G.add_edge("n0", "n3", weight=1.0)
    G.add_edge("n4", "n1", weight=2.0)
    cp = graphs.compile(G)
    assert cp.node_labels == ["n0", "n2", "n4", "n1", "n3"]
    assert cp.type_slices == {"bm": slice(0, 3), "k6": slice(3, 5)}
    assert torch.equal(cp.crow, torch.tensor([0, 0, 0, 0, 1, 2]))


def test_from_numpy_conventions():
    A = np.array([[0.0, 2.0, 0.0], [0.0, 0.0, 3.0], [5.0, 0.0, 0.0]])
    G = graphs.from_numpy(A, convention="target_source", labels=["a", "b", "c"])
    assert G.edges["b", "a"]["weight"] == 2.0            # A[a, b] = weight of b -> a
    H = graphs.from_numpy(A, convention="source_target", labels=["a", "b", "c"])
    assert H.edges["a", "b"]["weight"] == 2.0
    assert torch.equal(graphs.compile(G).to_dense(), torch.from_numpy(A))


def test_graphml_roundtrip(tmp_path):
    G = graphs.modular(2, 3, p_intra=0.8, p_inter=0.4, seed=3)
    path = tmp_path / "g.graphml"
    nx.write_graphml(G, path)
    H = graphs.from_graphml(path)
    a, b = graphs.compile(G), graphs.compile(H)
    assert a.node_labels == b.node_labels and torch.equal(a.to_dense(), b.to_dense())
    assert torch.equal(a.learnable, b.learnable) and a.regions == b.regions


def test_tvb_zip(tmp_path):
    W = np.array([[0.0, 1.5, 0.0], [0.5, 0.0, 0.0], [0.0, 2.0, 0.0]])
    path = tmp_path / "connectivity_3.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("weights.txt", "\n".join(" ".join(str(v) for v in row) for row in W))
        z.writestr("centres.txt", "lV1 0 0 0\nrV1 1 0 0\nlA1 0 1 0\n")
        z.writestr("tract_lengths.txt", "0 10 0\n10 0 0\n0 20 0\n")
    G = graphs.from_tvb_zip(path, convention="target_source")
    assert list(G.nodes) == ["lV1", "rV1", "lA1"]
    assert G.edges["rV1", "lV1"]["weight"] == 1.5 and G.edges["rV1", "lA1"]["weight"] == 2.0
    assert G.graph["tract_lengths"][2][1] == 20.0


def test_compile_arrays_takes_an_empty_edge_list():
    cp = graphs.compile_arrays(3, [], [], [])                 # torch reads [] as float32
    assert cp.n_nodes == 3 and cp.n_edges == 0 and cp.crow.tolist() == [0, 0, 0, 0]
