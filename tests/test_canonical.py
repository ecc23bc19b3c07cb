"""Canonical neural networks ↔ binary POMDP (Isomura et al. 2022): the identities, float64, 20 draws."""

import pytest
import torch

import columns.canonical as K
from graphs.errors import ParameterError

F64 = torch.float64
DRAWS = range(20)


problem = K.random_problem


@pytest.mark.parametrize("seed", DRAWS)
def test_cost_equals_free_energy_and_converters_are_exact(seed):
    b, net, o, x, y, gam, x0 = problem(seed)
    L, Fm = K.cost(net, o, x, y, gam, x0), K.free_energy(b, o, x, y, gam, x0)
    assert abs(float(L - Fm)) <= 1e-9 * max(1.0, abs(float(L)))
    back = K.to_bayes(net)
    for name in ("A", "B", "C", "D", "E"):
        assert torch.allclose(getattr(back, name), getattr(b, name), rtol=1e-12, atol=0)


@pytest.mark.parametrize("seed", DRAWS)
def test_rate_equation_is_minus_the_cost_gradient(seed):
    b, net, o, x, y, gam, x0 = problem(seed)
    x = x.clone().requires_grad_(True)
    (gx,) = torch.autograd.grad(K.cost(net, o, x, y, gam, x0), x)
    x_prev = torch.cat([x0.unsqueeze(0), x[:-1].detach()])
    f = K.rate_rhs(net, o[-1], x[-1].detach(), x_prev[-1])
    assert torch.allclose(gx[-1], -f, rtol=1e-10, atol=1e-10)           # x_T is the newest state
    fp = K.fixed_point(net, o[-1], x_prev[-1])
    xs = torch.cat([x[:-1].detach(), fp.unsqueeze(0)]).requires_grad_(True)
    (g2,) = torch.autograd.grad(K.cost(net, o, xs, y, gam, x0), xs)
    assert g2[-1].abs().max() <= 1e-10


@pytest.mark.parametrize("seed", DRAWS)
def test_plasticity_closed_forms_equal_autograd(seed):
    b, net, o, x, y, gam, x0 = problem(seed)
    names = ("W1", "W0", "K1", "K0", "V1", "V0")
    leaves = {k: getattr(net, k).clone().requires_grad_(True) for k in names}
    L = K.cost(net.replace(**leaves), o, x, y, gam, x0)
    grads = torch.autograd.grad(L, [leaves[k] for k in names])
    closed = K.plasticity(net, o, x, y, gam, x0)
    for k, gk in zip(names, grads):
        assert torch.allclose(-gk, closed[k], rtol=1e-10, atol=1e-10), k


@pytest.mark.parametrize("seed", range(5))
def test_plasticity_from_prior_counts_reaches_the_dirichlet_means(seed):
    from torchdiffeq import odeint
    b, net, o, x, y, gam, x0 = problem(seed, T=30)
    d = K.counts_increment(o, x, y, gam, x0)
    post = K.to_network(K.BayesPOMDP(A=b.A + d["A"], B=b.B + d["B"], C=b.C + d["C"], D=b.D, E=b.E))
    # dW1/dt = (prior Hebbian count + Σ x oᵀ) − (prior strength + Σ x 1ᵀ) ⊙ sig(W1), from the prior
    hebb, tot = b.A[1, 1] + d["A"][1, 1], net.nW1 + d["A"][1, 1] + d["A"][0, 1]
    W = odeint(lambda t, w: (hebb - tot * torch.sigmoid(w)) / tot, net.W1,
               torch.tensor([0.0, 200.0], dtype=F64), rtol=1e-12, atol=1e-12)[-1]
    assert torch.allclose(W, post.W1, atol=1e-8)
    # the closed-form −∂L/∂W1 is the data part of that flow
    cl = K.plasticity(net, o, x, y, gam, x0)["W1"]
    assert torch.allclose(cl, d["A"][1, 1] - (d["A"][1, 1] + d["A"][0, 1]) * torch.sigmoid(net.W1),
                          atol=1e-10)
    # V learns by the delayed-modulated Hebb rule: C's counts weighted by 1 − 2Γ
    Cmean = (b.C[1, 1] + d["C"][1, 1]) / (b.C[1, 1] + d["C"][1, 1] + b.C[0, 1] + d["C"][0, 1])
    assert torch.allclose(torch.sigmoid(post.V1), Cmean, rtol=1e-12)


@pytest.mark.parametrize("seed", DRAWS)
def test_cost_reconstructed_from_the_rate_equation(seed):
    b, net, o, x, y, gam, x0 = problem(seed)
    x_prev = torch.cat([x0.unsqueeze(0), x[:-1]])
    xa = x.clone()
    xa[-1] = 0.5
    rec = K.cost_from_rates(lambda z: K.rate_rhs(net, o[-1], z, x_prev[-1]), x[-1])
    true = K.cost(net, o, x, y, gam, x0) - K.cost(net, o, xa, y, gam, x0)
    assert abs(float(rec - true)) <= 1e-9 * max(1.0, abs(float(true)))


@pytest.mark.parametrize("seed", DRAWS)
def test_thresholds_from_activity_recover_the_state_prior(seed):
    b, net, o, _, _, _, x0 = problem(seed, T=12)
    xs, prev = [], x0
    for t in range(o.shape[0]):                        # recorded activity at the fixed points
        prev = K.fixed_point(net, o[t], prev)
        xs.append(prev)
    x = torch.stack(xs)
    x_prev = torch.cat([x0.unsqueeze(0), x[:-1]])
    h = K.estimate_thresholds(o, x, x_prev, net.W, net.K)
    assert torch.allclose(h, net.thresholds()[0], atol=1e-9)
    assert torch.allclose(K.priors_from_thresholds(h, net), b.D, atol=1e-9)


def test_digamma_expectation_differs_by_order_one_over_count():
    """With E ln A = ψ(a) − ψ(a + b) (the exact Dirichlet expectation) F − L is O(1/count)."""
    gaps = []
    for scale in (10.0, 100.0, 1000.0):
        g = torch.Generator().manual_seed(1)
        b = K.random_bayes(3, 4, 2, g, scale=scale)
        b = K.BayesPOMDP(A=b.A + scale, B=b.B + scale, C=b.C + scale, D=b.D, E=b.E)
        T = 5
        gg = torch.Generator().manual_seed(2)
        o = (torch.rand(T, 4, generator=gg, dtype=F64) < 0.5).to(F64)
        x, y = torch.rand(T, 3, generator=gg, dtype=F64), torch.rand(T, 2, generator=gg, dtype=F64)
        gam, x0 = torch.rand(T, generator=gg, dtype=F64), torch.rand(3, generator=gg, dtype=F64)
        L = K.cost(K.to_network(b), o, x, y, gam, x0)
        gaps.append(float(K.free_energy(b, o, x, y, gam, x0, "digamma") - L))
    assert gaps[0] > gaps[1] > gaps[2] > 0
    assert 5 < gaps[0] / gaps[1] < 20 and 5 < gaps[1] / gaps[2] < 20     # ~10× per 10× counts


def test_bad_parameters_are_named():
    g = torch.Generator().manual_seed(0)
    b = K.random_bayes(2, 2, 2, g)
    with pytest.raises(ParameterError, match="counts A"):
        K.BayesPOMDP(A=-b.A, B=b.B, C=b.C, D=b.D, E=b.E)
    with pytest.raises(ParameterError, match="prior D"):
        K.BayesPOMDP(A=b.A, B=b.B, C=b.C, D=b.D * 0, E=b.E)
    with pytest.raises(ParameterError, match="inconsistent"):
        K.BayesPOMDP(A=b.A, B=b.B, C=b.C, D=torch.full((3,), 0.5, dtype=F64), E=b.E)
