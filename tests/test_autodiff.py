"""Derivatives through a coupled network are exact for every column type, float64:

- a state that requires grad gives the same dy/dt as one that does not (a column whose equations
  come from autograd of H takes ∂H/∂μ along μ only, not again through ν = W φ(μ));
- reverse mode (vector-Jacobian products) and forward mode (``torch.func.jvp``,
  ``torch.autograd.forward_ad``: the sparse and compiled fast paths step aside for a dual
  tensor; autograd columns differentiate forward over reverse) agree with each other and with
  central differences."""

import pytest
import torch
import torch.autograd.forward_ad as fwAD

import columns as C

from conftest import COLUMN_FACTORIES
from test_engine import mixed_graph

T0 = torch.tensor(0.3, dtype=torch.float64)
FACTORIES = {**COLUMN_FACTORIES, "stuart_landau": lambda n: C.StuartLandauColumn(n)}


def network(kind):
    """Learnable edges (Hebbian) where the type can learn; fixed ones above the dense cut-off
    (the sparse product) for Stuart–Landau."""
    fixed = kind == "stuart_landau"
    n = 300 if fixed else 60
    G = mixed_graph(n, "none" if fixed else "all", seed=4, types=("x",))
    return C.Network.from_graph(G, column_types={"x": FACTORIES[kind](n)}, stimulus=0.7,
                                dtype=torch.float64)


@pytest.mark.parametrize("kind", sorted(FACTORIES))
def test_a_state_that_requires_grad_gives_the_same_derivatives(kind):
    net = network(kind)
    y = net.initial_state(batch=2, noise=0.4, seed=3)
    with torch.no_grad():
        plain = net(T0, y)
    tracked = net(T0, y.clone().requires_grad_(True))
    assert float((tracked.detach() - plain).abs().max()) <= 1e-13 * float(plain.abs().max())


@pytest.mark.parametrize("grad", [True, False], ids=["grad", "no_grad"])
@pytest.mark.parametrize("kind", sorted(FACTORIES))
def test_forward_mode_equals_reverse_mode(kind, grad):
    net = network(kind)
    y = net.initial_state(batch=2, noise=0.4, seed=3)
    v = torch.randn(y.shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    _, ref = torch.autograd.functional.jvp(lambda z: net(T0, z), y, v)   # reverse mode, twice
    with torch.set_grad_enabled(grad), fwAD.dual_level():
        tangent = fwAD.unpack_dual(net(T0, fwAD.make_dual(y, v))).tangent.detach()
    with torch.no_grad():
        eps = 1e-6
        fd = (net(T0, y + eps * v) - net(T0, y - eps * v)) / (2 * eps)
    scale = float(ref.abs().max())
    assert scale > 0 and float((tangent - ref).abs().max()) <= 1e-12 * scale
    assert float((fd - ref).abs().max()) <= 1e-7 * scale
    with torch.no_grad():
        net(T0, y)                      # the plain call keeps its fast path afterwards
    if net.edges.kernels:
        assert net.edges.backend == "fused"


def test_func_jvp_of_the_prior_flow():
    """``torch.func.jvp`` of the least-action prior flow F(q) (what a Gauss–Newton or Kalman
    preconditioner needs) equals the finite difference."""
    from columns import energy
    net = network("bm")
    y = net.initial_state(noise=0.3, seed=2)
    pos, _ = energy.canonical_pairs(net)
    q = y[:, pos]
    dq = torch.randn(q.shape, generator=torch.Generator().manual_seed(5), dtype=torch.float64)

    def F(qq):
        return energy.prior_flow(net, T0, y.index_copy(1, pos, qq))

    _, tangent = torch.func.jvp(F, (q,), (dq,))
    eps = 1e-6
    fd = (F(q + eps * dq) - F(q - eps * dq)) / (2 * eps)
    assert float((tangent - fd).abs().max()) <= 1e-7 * float(fd.abs().max())
