"""simulate: divergence detection, chunking, stimulus forms, recordings on disk."""

import os

import numpy as np
import pytest
import torch

import columns as C
import graphs

from conftest import map_fixed_point, single_type_network


def test_k6_near_map_diverges_under_ivp():
    """§2.3: started 1e−6 from its MAP fixed point, the K6 column diverges forward in time; the
    error names the time and the kept trajectory ends right before it."""
    net = single_type_network(C.K6Column(1), stimulus=1.0)
    y_star = map_fixed_point(net)
    rhs = net(torch.tensor(0.0), y_star)
    assert rhs.abs().max() < 1e-12                           # it is a fixed point
    y0 = y_star + 1e-6
    t = torch.linspace(0, 40, 401, dtype=torch.float64)
    with pytest.raises(C.DivergenceError, match=r"diverged at t = [0-9.]+") as info:
        C.simulate(net, t, y0=y0, chunk=50)
    err = info.value
    rec = err.recording
    assert rec.status == "diverged"
    assert 2.0 < err.time < 40.0
    assert float(rec.t[-1]) < err.time <= float(rec.t[-1]) + 0.1 + 1e-9
    assert torch.isfinite(rec["mu"]).all() and len(rec) == int(round(float(rec.t[-1]) / 0.1)) + 1
    # it left the fixed point exponentially before blowing up
    dev = (rec["mu"][:, 0, 0] - y_star[0, 0]).abs()
    assert dev[-1] > 1e3 * dev[1]


def test_chunked_equals_unchunked():
    net = C.Network.from_graph(graphs.random_directed(5, p=0.5, weight_scale=0.3, learnable=True,
                                                      seed=1), stimulus=0.5, dtype=torch.float64)
    y0 = net.initial_state(batch=2, noise=0.05, seed=0)
    t = torch.linspace(0, 1, 21, dtype=torch.float64)
    a = C.simulate(net, t, y0=y0, method="rk4", chunk=3)
    b = C.simulate(net, t, y0=y0, method="rk4", chunk=1000)
    for f in a.fields:
        assert torch.equal(a[f], b[f])
    assert torch.equal(net.layout.split(net.state)[0]["bm"]["mu"], b["mu"][-1])   # final state kept
    assert a["W"].shape == (21, 2, net.coupling.n_edges)


def test_simulate_updates_network_state_and_views():
    net = C.Network.from_graph(graphs.ring(3, weight=0.2), stimulus=0.5, dtype=torch.float64)
    net.state = net.initial_state()
    net.column(1).mu = 0.3
    rec = C.simulate(net, torch.linspace(0, 0.5, 6, dtype=torch.float64), method="rk4")
    assert rec["mu"][0, 0, net.coupling.index_of(1)] == 0.3
    assert torch.allclose(net.column(1).mu, rec["mu"][-1, :, net.coupling.index_of(1)])


def test_sampled_stimulus_equals_callable():
    fn = lambda t: torch.stack([torch.sin(torch.as_tensor(t, dtype=torch.float64)),
                                torch.cos(torch.as_tensor(t, dtype=torch.float64)),
                                torch.as_tensor(0.5, dtype=torch.float64)])
    ts = torch.linspace(0, 2, 2001, dtype=torch.float64)
    sampled = C.Stimulus.sampled(ts, torch.stack([fn(t) for t in ts]))
    for t in (0.0, 0.3337, 1.9):
        assert torch.allclose(sampled(torch.tensor(t)), fn(t), atol=1e-6)
    held = C.Stimulus.sampled([0.0, 1.0], [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], interpolation="previous")
    assert held(torch.tensor(0.99)).tolist() == [1.0, 2.0, 3.0] and held(torch.tensor(1.5))[0] == 4.0
    G = graphs.ring(3, weight=0.2)
    grid = torch.linspace(0, 1, 11, dtype=torch.float64)
    a = C.simulate(C.Network.from_graph(G, stimulus=fn, dtype=torch.float64), grid, method="rk4")
    b = C.simulate(C.Network.from_graph(G, stimulus=sampled, dtype=torch.float64), grid, method="rk4")
    assert torch.allclose(a["mu"], b["mu"], atol=1e-6)


def test_implicit_midpoint_through_simulate():
    net = single_type_network(C.K6Column(2), stimulus=1.0)
    y0 = net.initial_state()
    t = torch.linspace(0, 0.5, 6, dtype=torch.float64)
    a = C.simulate(net, t, y0=y0, method="implicit_midpoint", step_size=0.01)
    b = C.simulate(net, t, y0=y0, method="dopri8", rtol=1e-11, atol=1e-12)
    assert torch.allclose(a["mu"], b["mu"], atol=1e-4)


def test_recording_save_load_roundtrip(tmp_path):
    G = graphs.modular(2, 3, p_intra=0.7, p_inter=0.3, seed=2)
    G.nodes["r1c0"]["type"] = "k6"
    net = C.Network.from_graph(G, stimulus=0.5, dtype=torch.float64)
    rec = C.simulate(net, torch.linspace(0, 0.5, 6, dtype=torch.float64), y0=net.initial_state(batch=2),
                     method="rk4")
    ds = rec.to_xarray()
    assert ds["mu"].dims == ("time", "batch", "node") and ds["W"].dims == ("time", "batch", "edge")
    k6 = net.coupling.index_of("r1c0")
    assert np.isnan(ds["a"].values[:, :, k6 - 1]).all() and np.isfinite(ds["a"].values[:, :, k6]).all()
    path = tmp_path / "sub" / "rec.nc"
    rec.save(path)
    rec.save(path)                                  # overwrite atomically
    assert sorted(os.listdir(path.parent)) == ["rec.nc"]
    back = C.Recording.load(path)
    assert back.node_labels == rec.node_labels and back.node_types == rec.node_types
    assert back.edge_source == rec.edge_source and back.config["method"] == "rk4"
    for f in rec.fields:
        assert torch.equal(back[f], rec[f]) or torch.allclose(back[f], rec[f], equal_nan=True)


def test_partial_recording_kept_on_stimulus_failure():
    def s(t):
        v = 1.0 if float(t) < 0.55 else float("nan")
        return torch.full((3,), v, dtype=torch.float64)
    net = C.Network.from_graph(graphs.ring(3, weight=0.2), stimulus=s, dtype=torch.float64)
    with pytest.raises(C.StimulusError) as info:
        C.simulate(net, torch.linspace(0, 1, 11, dtype=torch.float64), method="rk4", chunk=2)
    rec = info.value.recording
    assert 3 <= len(rec) <= 6 and torch.isfinite(rec["mu"]).all()
