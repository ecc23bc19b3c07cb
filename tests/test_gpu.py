"""The same code on CUDA (skipped without a GPU; CI has none): results equal the CPU's."""

import networkx as nx
import pytest
import torch

import columns as C
from experiments.fep.runs import FEPRuns
import columns.analysis as A

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")


def learning_net(device):
    G = nx.DiGraph()
    G.add_nodes_from(range(4), type="bm")
    for i in range(4):
        G.add_edge(i, (i + 1) % 4, weight=0.2, learnable=True)
        G.add_edge((i + 2) % 4, i, weight=-0.1)
    s = C.Stimulus.sampled(torch.tensor([0.0, 1.0, 2.0]),
                           torch.tensor([[1.0, -0.5, 0.3, 0.0], [0.0, 1.0, -0.5, 0.2],
                                         [0.5, 0.0, 1.0, -0.5]]))
    return C.Network.from_graph(G, stimulus=s, dtype=torch.float64).to(device)


@pytest.mark.parametrize("solver, opts", [("ivp", {}), ("least_action", {"window": 20, "overlap": 10}),
                                          ("least_action", {"optimizer": "lbfgs"}),
                                          ("gradient", {})])
def test_solvers_on_cuda_match_cpu(solver, opts):
    t = torch.linspace(0.0, 2.0, 41, dtype=torch.float64)
    out = {}
    for dev in ("cpu", "cuda"):
        net = learning_net(dev)
        y0 = net.initial_state(noise=0.1, seed=2)
        opts = dict(opts, method="rk4") if solver == "ivp" else opts
        rec = C.simulate(net, t.to(dev), y0=y0, solver=solver, solver_options=opts, progress=False)
        out[dev] = torch.cat([rec["mu"], rec["W"]], -1)
    tol = 1e-9 if solver == "ivp" else 1e-6
    assert (out["cpu"] - out["cuda"]).abs().max() <= tol


def test_analysis_on_cuda():
    net = learning_net("cuda")
    fps = A.find_fixed_points(net, n_starts=8)
    assert fps and all(fp.rhs_norm <= 1e-10 for fp in fps)
    res = A.hamiltonian_residuals(A.jacobian(net, fps[0].y))
    assert max(res.values()) <= 1e-8


def test_fep_runs_on_cuda_match_cpu():
    out = {}
    for dev in ("cpu", "cuda"):
        net = FEPRuns(16, 4, beta=torch.tensor([0.1, 0.3, 1.0, 2.0]), alpha=0.01, device=dev)
        g = torch.Generator().manual_seed(0)
        pats = torch.randn(3, 16, generator=g, dtype=torch.float64).to(dev)
        s = torch.zeros(4, 16, dtype=torch.float64, device=dev)
        for k in range(60):
            s = net.step(s, 5.0 * pats[k % 3])
        out[dev] = (net.J.cpu(), s.cpu())
    assert torch.allclose(out["cpu"][0], out["cuda"][0], rtol=0, atol=1e-9)
    assert torch.allclose(out["cpu"][1], out["cuda"][1], rtol=0, atol=1e-9)


def test_fep_step_mode_on_cuda_matches_cpu():
    import networkx as nx
    G = nx.gnp_random_graph(24, 0.4, seed=0).to_directed()
    nx.set_node_attributes(G, "fep", "type")
    nx.set_edge_attributes(G, 0.0, "weight")
    nx.set_edge_attributes(G, True, "learnable")
    pats = 5.0 * torch.randn(3, 24, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    out = {}
    for dev in ("cpu", "cuda"):
        stim = C.Stimulus.sampled(torch.arange(41.0), pats[torch.arange(41) % 3], interpolation="previous")
        net = C.Network.from_graph(G, column_types={"fep": {"alpha": 0.05}}, stimulus=stim,
                                   dtype=torch.float64).to(dev)
        rec = C.simulate(net, torch.arange(41.0, dtype=torch.float64, device=dev),
                         y0=net.initial_state(2), solver="step", progress=False)
        out[dev] = torch.cat([rec["sigma"], rec["W"]], -1)
    assert (out["cpu"] - out["cuda"]).abs().max() <= 1e-9


@pytest.mark.parametrize("method", ["euler", "rk4"])
def test_delayed_network_on_cuda_matches_cpu(method):
    """The delay ring buffer, its gather and the rounding report on the device."""
    G = nx.DiGraph()
    G.add_nodes_from(range(5), type="bm")
    for i in range(5):
        G.add_edge(i, (i + 1) % 5, weight=0.3, learnable=True, delay=0.1 * (i + 1))
        G.add_edge((i + 2) % 5, i, weight=-0.2, delay=0.05)
    t = torch.linspace(0.0, 1.0, 21, dtype=torch.float64)
    out = {}
    for dev in ("cpu", "cuda"):
        net = C.Network.from_graph(G, stimulus=0.5, dtype=torch.float64).to(dev)
        y0 = net.initial_state(batch=3, noise=0.1, seed=2)
        rec = C.simulate(net, t.to(dev), y0=y0, method=method, step_size=0.025, progress=False)
        assert rec.config["delays"]["max_lag_steps"] == 20
        out[dev] = torch.cat([rec["mu"], rec["W"]], -1)
    assert (out["cpu"] - out["cuda"]).abs().max() <= 1e-10
