"""Bad input: each case raises a specific error class whose message names what is wrong."""

import networkx as nx
import numpy as np
import pytest
import torch

import columns as C
import graphs
from columns import (ConfigError, DeviceError, GraphError, ParameterError, SolverError,
                     StateError, StimulusError)


def edge_graph(**attrs):
    G = nx.DiGraph()
    G.add_edge("a", "b", **attrs)
    return G


def net3(**kw):
    return C.Network.from_graph(graphs.ring(3, weight=0.2), dtype=torch.float64, **kw)


def nan_later(t):
    return torch.tensor([1.0, 1.0, float("nan") if float(t) > 0.5 else 1.0], dtype=torch.float64)


CASES = {
    "undirected graph": (lambda: graphs.compile(nx.path_graph(3)), GraphError, "expected a networkx.DiGraph.*to_directed"),
    "multigraph": (lambda: graphs.compile(nx.MultiDiGraph([(0, 1)])), GraphError, "MultiDiGraph"),
    "empty graph": (lambda: graphs.compile(nx.DiGraph()), GraphError, "empty"),
    "missing weight": (lambda: graphs.compile(edge_graph()), GraphError, r"edge \('a' -> 'b'\) has no 'weight'"),
    "non-numeric weight": (lambda: graphs.compile(edge_graph(weight="strong")), GraphError, "'weight' must be a number"),
    "NaN weight": (lambda: graphs.compile(edge_graph(weight=float("nan"))), GraphError, "'weight' is not finite"),
    "non-bool learnable": (lambda: graphs.compile(edge_graph(weight=1.0, learnable="yes")), GraphError, "'learnable' must be a bool"),
    "negative delay": (lambda: graphs.compile(edge_graph(weight=1.0, delay=-2)), GraphError, "'delay' must be a finite number >= 0"),
    "self-loop not allowed": (lambda: graphs.compile(nx.DiGraph([(0, 0, {"weight": 1.0})])), GraphError, "self-loop"),
    "duplicate labels after str()": (lambda: graphs.compile(nx.DiGraph([(1, "1", {"weight": 1.0})])), GraphError, "both become '1'"),
    "non-numeric node attribute": (lambda: graphs.compile(_node_attr("m_z", "big")), GraphError, "'m_z' must be a number"),
    "unknown column type": (lambda: C.Network.from_graph(graphs.single_column("pyramidal")), GraphError, "unknown column type 'pyramidal'"),
    "negative precision (node attribute)": (lambda: C.Network.from_graph(_node_attr("m_z", -1.0)), ParameterError, "'m_z' must be > 0"),
    "negative precision (column parameter)": (lambda: C.K6Column(2, m_mu=[1.0, -0.5]), ParameterError, "'m_mu' must be > 0.*column 1"),
    "unknown node parameter": (lambda: C.Network.from_graph(_node_attr("m_q", 1.0)), ParameterError, "'m_q', which is not a parameter"),
    "parameter of wrong shape": (lambda: C.K6Column(3, gamma_mu=[1.0, 2.0]), ParameterError, r"shape \(3,\)"),
    "non-zero delay in a network": (lambda: C.Network.from_graph(edge_graph(weight=1.0, delay=2.0)), GraphError, "does not support delays"),
    "stimulus with too many columns": (lambda: net3(stimulus=C.Stimulus.sampled([0.0, 1.0], np.ones((2, 4)))), StimulusError, "4 columns, the network has 3"),
    "stimulus of wrong time length": (lambda: C.Stimulus.sampled([0.0, 1.0, 2.0], np.ones((2, 3))), StimulusError, "T = 3 samples"),
    "NaN in sampled stimulus": (lambda: C.Stimulus.sampled([0.0, 1.0], [[1.0, float("nan"), 0.0], [0, 0, 0]]), StimulusError, r"non-finite entry at index \[0, 1\]"),
    "callable stimulus of wrong shape": (lambda: C.simulate(net3(stimulus=lambda t: torch.ones(5, dtype=torch.float64)), [0.0, 1.0]), StimulusError, r"broadcasts to \(B, N\) = \(1, 3\)"),
    "stimulus NaN during the run": (lambda: C.simulate(net3(stimulus=nan_later), torch.linspace(0, 1, 11), method="rk4"), StimulusError, "non-finite value at t ="),
    "state on another device": (lambda: C.simulate(net3(), [0.0, 1.0], y0=torch.zeros(12, device="meta", dtype=torch.float64)), DeviceError, "y0 is on meta"),
    "state of wrong shape": (lambda: C.simulate(net3(), [0.0, 1.0], y0=torch.zeros(2, 11, dtype=torch.float64)), StateError, "S = 12"),
    "state with NaN": (lambda: C.simulate(net3(), [0.0, 1.0], y0=torch.full((12,), float("nan"), dtype=torch.float64)), StateError, "non-finite"),
    "state of wrong dtype": (lambda: C.simulate(net3(), [0.0, 1.0], y0=torch.zeros(12)), StateError, "dtype torch.float32"),
    "unknown solver": (lambda: C.simulate(net3(), [0.0, 1.0], solver="leapfrog"), SolverError, "unknown solver 'leapfrog'"),
    "unknown method": (lambda: C.simulate(net3(), [0.0, 1.0], method="rk45"), SolverError, "unknown ivp method 'rk45'"),
    "non-increasing time grid": (lambda: C.simulate(net3(), [0.0, 1.0, 0.5]), SolverError, "strictly increasing"),
    "unknown recorded field": (lambda: C.simulate(net3(), [0.0, 1.0], record=["nu"]), StateError, r"cannot record \['nu'\]"),
    "non-square matrix": (lambda: graphs.from_numpy(np.ones((2, 3))), GraphError, "square"),
    "unknown config key": (lambda: __import__("experiments.runner", fromlist=["run"]).run("two-region", "/tmp/x", overrides={"n_colums": "3"}), ConfigError, "unknown config key 'n_colums'"),
    "unknown experiment": (lambda: __import__("experiments.runner", fromlist=["run"]).run("nope", "/tmp/x"), ConfigError, "unknown experiment 'nope'"),
}


def _node_attr(key, value):
    G = graphs.single_column("bm")
    G.nodes[0][key] = value
    return G


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input(case):
    fn, exc, pattern = CASES[case]
    with pytest.raises(exc, match=pattern):
        fn()


def test_at_least_15_distinct_cases():
    assert len(CASES) >= 15


def test_errors_share_one_base():
    for _, exc, _ in CASES.values():
        assert issubclass(exc, C.ColumnsError)
