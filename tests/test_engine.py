"""The fast engine (issue 14): the fused CPU kernels equal the eager torch path, buffers follow
``.to()``, ``out=`` writes in place, autograd still gets the differentiable path."""

import pytest
import torch

import columns as C
from columns.coupling import kernels
import graphs

from conftest import generic_k6_like

T0 = torch.tensor(0.3, dtype=torch.float64)

needs_numba = pytest.mark.skipif(not kernels.AVAILABLE, reason="numba not installed: eager only")


def mixed_graph(n, learnable, seed, types=("bm",)):
    """A random graph of ``n`` columns, above the dense cut-off in sparsity; ``learnable``:
    "all", "none" or "some" (every third edge fixed)."""
    G = graphs.random_directed(n, p=0.08, weight_scale=0.3, learnable=learnable != "none",
                               seed=seed)
    for k, v in enumerate(G.nodes):
        G.nodes[v]["type"] = types[k % len(types)]
    if learnable == "some":
        for k, (u, v) in enumerate(list(G.edges)):
            if k % 3 == 0:
                G.edges[u, v]["learnable"] = False
    return G


def both_paths(net, y, **kw):
    with torch.no_grad():
        fused = net(T0, y, **kw)
        net.kernels = False
        eager = net(T0, y, **kw)
        net.kernels = True
    return fused, eager


@needs_numba
@pytest.mark.parametrize("types", [("bm",), ("k6",), ("generic",), ("bm", "k6")])
@pytest.mark.parametrize("learnable", ["all", "none", "some"])
@pytest.mark.parametrize("B", [1, 3])
def test_fused_equals_eager_for_every_ode_column_type(types, learnable, B):
    n = 300 if learnable == "none" else 60        # fixed W on ≤ 256 columns goes dense instead
    G = mixed_graph(n, learnable, seed=len(types) + B, types=types)
    given = {"generic": generic_k6_like(n)} if "generic" in types else None
    net = C.Network.from_graph(G, column_types=given, stimulus=0.7, dtype=torch.float64)
    assert sorted(net.columns) == sorted(types)
    y = net.initial_state(batch=B, noise=0.4, seed=3)
    fused, eager = both_paths(net, y)
    with torch.no_grad():
        net(T0, y)
    assert net.edges.backend == "fused"                # all, none or some edges learnable
    assert net.edges.passes == (2 if "generic" in types else 1)   # g = p_μ known before ν: one
    assert net.edges.node_kernels == (["bm"] if "bm" in types else [])   # bm: its node kernel
    scale = eager.abs().max()
    assert float((fused - eager).abs().max() / scale) <= 1e-12


@needs_numba
@pytest.mark.parametrize("rate", ["tanh", "linear"])
def test_the_bm_node_kernel_takes_per_column_parameters(rate):
    """The compiled node kernel of bm columns (one loop: four derivatives and −φ′ F) equals the
    torch rhs plus the network's coupling term, with parameters per column and shared."""
    n = 70
    g = torch.Generator().manual_seed(4)
    per = {k: 0.5 + torch.rand(n, generator=g, dtype=torch.float64)
           for k in ("m_mu", "m_z", "alpha", "gamma_w", "theta0")}
    net = C.Network.from_graph(mixed_graph(n, "some", seed=9), stimulus=lambda t: 0.4 + t,
                               column_types={"bm": {"rate": rate, "mu_d": -0.1, **per}},
                               dtype=torch.float64)
    y = net.initial_state(batch=2, noise=0.6, seed=5)
    fused, eager = both_paths(net, y)
    assert net.edges.node_kernels == ["bm"]
    assert float((fused - eager).abs().max() / eager.abs().max()) <= 1e-13


@needs_numba
def test_fused_per_edge_plasticity_parameters_and_float32():
    n = 80
    G = mixed_graph(n, "all", seed=5)
    E = G.number_of_edges()
    g = torch.Generator().manual_seed(1)
    pl = C.HebbianPlasticity(alpha_W=torch.rand(E, generator=g, dtype=torch.float64),
                             gamma_W=0.3, m_W=0.5 + torch.rand(E, generator=g, dtype=torch.float64))
    net = C.Network.from_graph(G, plasticity=pl, stimulus=1.1, dtype=torch.float64)
    y = net.initial_state(batch=2, noise=0.5, seed=2)
    fused, eager = both_paths(net, y)
    assert float((fused - eager).abs().max() / eager.abs().max()) <= 1e-12
    net32 = net.to(torch.float32)                       # buffers rebuilt for the new dtype
    assert net32.edges._work == {}
    with torch.no_grad():
        f32 = net32(T0.float(), y.float())
    assert f32.dtype == torch.float32
    assert float((f32.double() - eager).abs().max() / eager.abs().max()) <= 1e-5


@needs_numba
def test_out_buffer_and_work_buffers_reused():
    net = C.Network.from_graph(mixed_graph(50, "all", seed=7), stimulus=0.5, dtype=torch.float64)
    y = net.initial_state(batch=2, noise=0.3, seed=1)
    out = torch.empty_like(y)
    with torch.no_grad():
        ref = net(T0, y)
        work = next(iter(net.edges._work.values()))
        got = net(T0, y, out=out)
        assert next(iter(net.edges._work.values())) is work     # same buffers, second call
    assert got.data_ptr() == out.data_ptr()
    assert torch.equal(got, ref)
    net.to("cpu")
    assert net.edges._work == {} or next(iter(net.edges._work.values())) is not work


def test_autograd_takes_the_differentiable_path():
    """With a state that requires grad the kernels are skipped: gradients flow."""
    net = C.Network.from_graph(mixed_graph(40, "all", seed=2), stimulus=0.5, dtype=torch.float64)
    y = net.initial_state(noise=0.3, seed=1).requires_grad_(True)
    (g,) = torch.autograd.grad(net(T0, y).square().sum(), y)
    assert net.edges.backend == "eager"
    assert torch.isfinite(g).all() and g.abs().max() > 0


def test_small_fixed_coupling_goes_dense_and_equals_the_sparse_product():
    cp = graphs.compile(graphs.random_directed(80, p=0.2, seed=4, learnable=False))
    assert cp.dense_for(True) and not cp.dense_for(False)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(4, 80, generator=g, dtype=torch.float64)
    W = cp.weight0.unsqueeze(0)
    dense = cp.forward_product(W, x)
    sparse = torch.zeros(4, 80, dtype=torch.float64).index_add(1, cp.tgt, W * x[:, cp.src])
    assert torch.allclose(dense, sparse, atol=1e-14)


# -- the fixed-step loop -------------------------------------------------------------------------

def _odeint(net, y0, ts, method, h):
    from torchdiffeq import odeint
    with torch.no_grad():
        return odeint(net, y0, ts, method=method, options={"step_size": h} if h else None)


@pytest.mark.parametrize("method", ["euler", "rk4"])
@pytest.mark.parametrize("h", [None, 0.03, 0.07])
def test_fixed_step_loop_equals_torchdiffeq(method, h):
    """Same grid (0.07 does not divide the outputs' spacing: interpolated outputs, a short last
    step), same formulas: equal to round-off, on the fused (learning) and the dense paths."""
    from columns.solvers.fixed_step import fixed_grid
    ts = torch.linspace(0.0, 1.0, 11, dtype=torch.float64)
    for G in (mixed_graph(60, "all", seed=1), mixed_graph(20, "none", seed=2)):
        net = C.Network.from_graph(G, stimulus=lambda t: 0.7 + 0.2 * torch.sin(torch.as_tensor(t)),
                                   dtype=torch.float64)
        y0 = net.initial_state(batch=2, noise=0.3, seed=0)
        ref = _odeint(net, y0, ts, method, h)
        got = fixed_grid(net, y0, ts, method, h)
        assert float((got - ref).abs().max() / ref.abs().max()) <= 1e-13


def test_simulate_runs_the_loop_and_torchdiffeq_on_request():
    net = C.Network.from_graph(mixed_graph(40, "all", seed=3), stimulus=0.5, dtype=torch.float64)
    ts = torch.linspace(0.0, 0.5, 6, dtype=torch.float64)
    a = C.simulate(net, ts, method="rk4", step_size=0.05, progress=False, update_state=False)
    b = C.simulate(net, ts, method="rk4", step_size=0.05, options={"step_size": 0.05},
                   progress=False, update_state=False)            # options: torchdiffeq itself
    assert float((a["mu"] - b["mu"]).abs().max()) <= 1e-13
    assert float((a["W"] - b["W"]).abs().max()) <= 1e-13


def test_compiled_blocks_equal_the_eager_loop():
    """torch.compile of 3 Euler steps per call (and single steps next to outputs) == eager."""
    from columns.solvers.fixed_step import fixed_grid
    net = C.Network.from_graph(mixed_graph(12, "none", seed=4), stimulus=0.4, dtype=torch.float64)
    y0 = net.initial_state(batch=3, noise=0.3, seed=1)
    ts = torch.tensor([0.0, 0.1, 0.25, 0.4], dtype=torch.float64)     # 0.25: not on the grid
    eager = fixed_grid(net, y0, ts, "euler", 0.02)
    comp = fixed_grid(net, y0, ts, "euler", 0.02, compiled=True, unroll=3)
    assert float((comp - eager).abs().max() / eager.abs().max()) <= 1e-12


@needs_numba
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_half_learnable_runs_the_fused_kernels_and_equals_eager(dtype):
    """Every other edge learnable (per-edge plasticity parameters): the fused path runs (the
    coupling room says which backend ran) and equals the eager one; the fixed edges keep the
    graph's weights and get no Ẇ."""
    G = graphs.random_directed(120, p=0.08, weight_scale=0.3, learnable=True, seed=11)
    for k, (u, v) in enumerate(list(G.edges)):
        G.edges[u, v]["learnable"] = k % 2 == 0
    E_l = sum(1 for _, _, d in G.edges(data=True) if d["learnable"])
    g = torch.Generator().manual_seed(4)
    pl = C.HebbianPlasticity(alpha_W=torch.rand(E_l, generator=g, dtype=torch.float64),
                             m_W=0.5 + torch.rand(E_l, generator=g, dtype=torch.float64))
    net = C.Network.from_graph(G, plasticity=pl, stimulus=0.9, dtype=dtype)
    assert 0 < net.layout.n_learnable < net.coupling.n_edges
    y = net.initial_state(batch=3, noise=0.4, seed=5)
    with torch.no_grad():
        fused = net(T0.to(dtype), y)
        assert net.edges.backend == "fused"
        net.kernels = False
        eager = net(T0.to(dtype), y)
        assert net.edges.backend == "eager"
    tol = 1e-12 if dtype == torch.float64 else 2e-5
    assert float((fused - eager).abs().max() / eager.abs().max()) <= tol


@needs_numba
def test_half_learnable_fused_follows_a_change_of_the_fixed_weights():
    """The fused pass keeps the fixed edges' weights in the call's dtype; a change of the graph's
    weights between calls (in place) is seen by the next call."""
    G = graphs.random_directed(120, p=0.08, weight_scale=0.3, learnable=True, seed=12)
    for k, (u, v) in enumerate(list(G.edges)):
        G.edges[u, v]["learnable"] = k % 3 == 0
    net = C.Network.from_graph(G, stimulus=0.9)
    y = net.initial_state(batch=2, noise=0.4, seed=6)
    fixed = (~net.coupling.learnable).nonzero().flatten()
    with torch.no_grad():
        before = net(T0, y)
        net.coupling.weight0[fixed[:5]] *= -2.0
        fused = net(T0, y)
        assert net.edges.backend == "fused"
        net.kernels = False
        eager = net(T0, y)
    assert not torch.equal(before, fused)
    assert float((fused - eager).abs().max() / eager.abs().max()) <= 1e-12
