"""The native whole-loop kernel (``columns.solvers.native_loop``): equal to the torch fixed-step
loop (≤ 1e−12 in float64), with and without conduction delays, in chunks and resumed; taken only
where it applies."""

import warnings

import networkx as nx
import numpy as np
import pytest
import torch

import columns as C
import graphs
from columns import SolverError
from columns.solvers import native_loop

pytestmark = pytest.mark.skipif(not native_loop.kernels.AVAILABLE, reason="numba not installed")
F64 = torch.float64


def _sl(B=1, lengths=False, dtype=F64, seed=0):
    rng = np.random.default_rng(seed)
    n = 12
    A = rng.random((n, n)) * (rng.random((n, n)) < 0.4)
    np.fill_diagonal(A, 0.0)
    L = None
    if lengths:
        L = rng.uniform(1.0, 6.0, (n, n))
        L = np.triu(L, 1) + np.triu(L, 1).T
    G = graphs.from_numpy(A, column_type="stuart_landau", lengths=L)
    K = None if B == 1 else np.linspace(0.3, 0.9, B)
    col = C.StuartLandauColumn(n, K_sets=K, k_in=torch.as_tensor(A.sum(1)),
                               omega=torch.linspace(0.1, 0.3, n))
    net = C.Network.from_graph(G, speed=2.0 if lengths else None, dtype=dtype,
                               column_types={"stuart_landau": col})
    return net, net.initial_state(batch=B, noise=0.5, seed=seed)


@pytest.mark.parametrize("method, B", [("euler", 1), ("euler", 3), ("rk4", 1), ("rk4", 4)])
def test_native_equals_the_torch_loop(method, B):
    net, y0 = _sl(B)
    t = torch.arange(0, 601, 7, dtype=F64) * 0.05                      # outputs every 7 steps
    kw = dict(y0=y0, method=method, step_size=0.05, progress=False, update_state=False, chunk=5)
    a = C.simulate(net, t, **kw)
    b = C.simulate(net, t, native=False, **kw)
    for f in ("x", "y"):
        assert float((a[f] - b[f]).abs().max()) <= 1e-12 * float(b[f].abs().max())
    assert float(b["x"].abs().max()) > 0.1                            # not a trivial run


def test_native_float32_is_float32_and_close():
    net, y0 = _sl(2, dtype=torch.float32)
    t = torch.arange(0, 201, 10, dtype=torch.float32) * 0.05
    kw = dict(y0=y0, method="rk4", step_size=0.05, progress=False, update_state=False)
    a, b = C.simulate(net, t, **kw), C.simulate(net, t, native=False, **kw)
    assert a["x"].dtype == torch.float32 and float((a["x"] - b["x"]).abs().max()) < 1e-5


def test_native_with_delays_equals_the_torch_loop_in_chunks_and_resumed(tmp_path):
    net, y0 = _sl(3, lengths=True)
    t = torch.arange(0, 801, 10, dtype=F64) * 0.1
    kw = dict(y0=y0, method="euler", step_size=0.1, progress=False, update_state=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", C.DelayRoundingWarning)
        a = C.simulate(net, t, chunk=3, **kw)
        b = C.simulate(net, t, chunk=7, native=False, **kw)
        assert a.config["delays"]["max_lag_steps"] >= 20
        assert float((a["x"] - b["x"]).abs().max()) <= 1e-12 * float(b["x"].abs().max())
        # interrupted after a checkpoint, resumed: bit-identical to the uninterrupted native run
        ck = tmp_path / "ck.pt"
        C.simulate(net, t[:41], chunk=3, checkpoint=ck, **kw)
        rest = C.simulate(net, t, chunk=3, **kw)
        assert torch.equal(rest["x"], a["x"])


def _stimulated():
    net, y0 = _sl(1)
    net.set_stimulus(lambda t: torch.full((1, 12), 0.1, dtype=F64))
    return net, y0


def _mixed():
    """Stuart–Landau columns and one Bayesian-mechanics column: not all native."""
    G = nx.DiGraph()
    G.add_node("a", type="stuart_landau", region="0")
    G.add_node("b", type="bm", region="0")
    G.add_edge("a", "b", weight=0.3)
    net = C.Network.from_graph(G, dtype=F64)
    return net, net.initial_state()


@pytest.mark.parametrize("make, ts, method, step, expect", [
    (lambda: _sl(1), torch.arange(5, dtype=F64) * 0.1, "euler", 0.1, True),
    (lambda: _sl(1), torch.arange(5, dtype=F64) * 0.1, "rk4", None, True),
    (lambda: _sl(1), torch.tensor([0.0, 0.15, 0.3], dtype=F64), "euler", 0.1, False),  # off grid
    (lambda: _sl(1), torch.arange(5, dtype=F64) * 0.1, "dopri5", None, False),
    (lambda: _sl(1, dtype=torch.float32), torch.arange(5, dtype=torch.float32) * 0.1, "rk4", 0.1,
     True),
    (_stimulated, torch.arange(5, dtype=F64) * 0.1, "euler", 0.1, False),
    (_mixed, torch.arange(5, dtype=F64) * 0.1, "euler", 0.1, False),
    (lambda: (C.Network.from_graph(graphs.ring(3), dtype=F64), None), torch.arange(5, dtype=F64) * 0.1,
     "euler", 0.1, False),
])
def test_the_native_path_is_taken_only_where_it_applies(make, ts, method, step, expect):
    net, y0 = make()
    y0 = net.initial_state() if y0 is None else y0
    assert (native_loop.plan(net, y0, ts, method, step) is not None) == expect


def test_delays_take_the_native_path_with_euler_only():
    net, y0 = _sl(1, lengths=True)
    ts = torch.arange(5, dtype=F64) * 0.1
    assert native_loop.plan(net, y0, ts, "euler", 0.1, delayed=True) is not None
    assert native_loop.plan(net, y0, ts, "rk4", 0.1, delayed=True) is None
    assert native_loop.plan(net, y0, ts, "euler", 0.1) is None          # not without its buffer


def test_native_option_must_be_a_bool():
    net, y0 = _sl(1)
    with pytest.raises(SolverError, match="option 'native' must be True or False"):
        C.simulate(net, [0.0, 0.1], method="euler", native="yes")
