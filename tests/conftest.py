"""Shared helpers: float64 networks of one column type, Jacobians, canonical ordering."""

import signal

import networkx as nx
import pytest
import torch

import columns as C
from columns import energy
import graphs

# A suite started in the background (nohup, `cmd &`) inherits SIGINT ignored, and so would the
# subprocesses it starts; the interruption tests send them real SIGINTs: restore the default.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def single_type_network(column, stimulus=1.0, G=None, **kw):
    """A Network of ``column`` (all its n columns), uncoupled unless a graph is given."""
    if G is None:
        G = nx.DiGraph()
        G.add_nodes_from(range(column.n), type="x")
    return C.Network(graphs.compile(G), {"x": column}, stimulus=stimulus, dtype=torch.float64, **kw)


def jacobian(net, y, t=0.0):
    """d(rhs)/dy at y, in canonical order (positions then their momenta). Shapes: (S, S)."""
    pos, mom = energy.canonical_pairs(net)
    perm = torch.cat([pos, mom])
    J = torch.autograd.functional.jacobian(lambda z: net(torch.tensor(t), z), y.reshape(-1))
    return J[perm][:, perm]


def symplectic(n):
    I = torch.eye(n, dtype=torch.float64)
    Z = torch.zeros_like(I)
    return torch.cat([torch.cat([Z, I], 1), torch.cat([-I, Z], 1)], 0)


def generic_k6_like(n=1):
    """A GenericBMColumn with the K6 equations (autograd only), for the contract suite."""
    return C.GenericBMColumn(
        n,
        flows={"mu": lambda q, nu, s, P: -P["gamma_mu"] * (q["mu"] - P["mu_d"]) + nu,
               "a": lambda q, nu, s, P: -(q["a"]),
               "w": lambda q, nu, s, P: 0.5 * s * q["mu"] - 0.5 * q["w"]},
        prediction=lambda q, P: q["w"] * q["mu"] + 0.5 * q["a"],
        masses={"mu": 1.0, "a": 1.0, "w": 1.0}, m_z=4.0,
        extra={"gamma_mu": 1.0, "mu_d": 0.2})


COLUMN_FACTORIES = {
    "k6": lambda n: C.K6Column(n),
    "k6-oja": lambda n: C.K6Column(n, h_rule="oja"),
    "k6-closed-loop": lambda n: C.K6Column(n, kappa_env=0.7),
    "k6-hetero": lambda n: C.K6Column(n, m_z=torch.linspace(1.0, 5.0, n, dtype=torch.float64),
                                      beta=torch.linspace(-0.5, 0.5, n, dtype=torch.float64)),
    "bm": lambda n: C.NetworkBMColumn(n),
    "bm-linear": lambda n: C.NetworkBMColumn(n, rate="linear", m_w=2.0),
    "bm-trace": lambda n: C.NetworkBMTraceColumn(n, tau_trace=2.5, m_trace=0.7),
    "generic": generic_k6_like,
}


@pytest.fixture(params=sorted(COLUMN_FACTORIES))
def column_factory(request):
    return COLUMN_FACTORIES[request.param]


def map_fixed_point(net, t=0.0, iters=60):
    """The MAP fixed point of an uncoupled single-type network: argmin U, p* = −M F(q*), then
    Newton on rhs = 0. (A test helper until ``columns.analysis`` provides fixed points.)"""
    col = next(iter(net.columns.values()))
    tt = torch.tensor(t, dtype=torch.float64)
    s = net.stimulus_at(tt, 1)
    nu = torch.zeros(1, col.n, dtype=torch.float64)
    init = col.initial_values()
    q = {k: torch.full((1, col.n), float(init[k]), dtype=torch.float64, requires_grad=True)
         for k in col.positions}
    opt = torch.optim.LBFGS(list(q.values()), max_iter=500, tolerance_grad=1e-14,
                            tolerance_change=1e-16, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        U = col.static_energy(q, nu, s.expand(1, col.n)).sum()
        U.backward()
        return U
    opt.step(closure)
    q = {k: v.detach() for k, v in q.items()}
    F = col.flows(q, nu, col.effective_stimulus(q, s.expand(1, col.n)))
    m = col.masses()
    st = {**q, **{"p_" + k: -m[k] * F[k] for k in col.positions}}
    y = torch.cat([st[f] for f in col.fields], dim=-1)
    for _ in range(iters):
        J = torch.autograd.functional.jacobian(lambda z: net(tt, z), y.reshape(-1))
        step = torch.linalg.solve(J, net(tt, y).reshape(-1))
        y = y - step.reshape(y.shape)
        if step.abs().max() < 1e-15:
            break
    return y
