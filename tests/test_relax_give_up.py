"""``relax(..., give_up=W)``: stops early only when no start still moving can come to rest by the
cap at its current rate; what comes to rest is the same as without it."""

import math

import torch

from columns.solvers import relax

F64 = torch.float64


def _flow(rate: float, omega: float):
    """Rows 0–1: a slow linear contraction ẋ = −rate x (comes to rest); rows 2–3: a rotation at
    angular speed omega (a cycle: never at rest)."""
    def f(x):
        v = torch.empty_like(x)
        v[:, 0] = -rate * x[:, 0]
        v[:, 1] = -rate * x[:, 1]
        return v
    def g(x):
        out = f(x)
        out[2:, 0], out[2:, 1] = -omega * x[2:, 1], omega * x[2:, 0]
        return out
    return g


def test_a_cycle_alone_is_given_up_long_before_the_cap():
    x0 = torch.tensor([[1.0, 0.0]] * 2, dtype=F64)
    cyc = lambda x: torch.stack([-x[:, 1], x[:, 0]], 1)                 # noqa: E731
    x, done, steps = relax(cyc, x0, dt=0.01, max_steps=20000, tol=1e-9, give_up=100)
    # max|f| on a circle wobbles (a max-norm), so a check may see a fall: still, within a turn
    assert steps % 100 == 0 and 100 <= steps <= 700 and not done.any()
    x, done, steps = relax(cyc, x0, dt=0.01, max_steps=2000, tol=1e-9)
    assert steps == 2000 and not done.any()


def test_what_comes_to_rest_is_the_same_with_and_without_give_up():
    f = _flow(0.5, 1.0)
    x0 = torch.tensor([[1.0, -2.0], [0.3, 0.1], [1.0, 0.0], [0.0, 2.0]], dtype=F64)
    a = relax(f, x0, dt=0.05, max_steps=5000, tol=1e-9)
    b = relax(f, x0, dt=0.05, max_steps=5000, tol=1e-9, give_up=50)
    assert a[1].tolist() == b[1].tolist() == [True, True, False, False]
    assert torch.equal(a[0][:2], b[0][:2])                             # the same rest points
    # the contraction (speed 1 at the start) needs ln(1e9) / −ln(1 − 0.05·0.5) ≈ 819 Euler
    # steps: give_up waits for it, then stops at the next check
    need = math.log(1e9) / -math.log(1 - 0.05 * 0.5)
    assert need < b[2] <= need + 50 and a[2] == 5000


def test_a_slow_start_that_reaches_rest_before_the_cap_is_not_given_up():
    slow = lambda x: -1e-3 * x                                         # noqa: E731
    x0 = torch.ones(1, 2, dtype=F64)
    x, done, steps = relax(slow, x0, dt=1.0, max_steps=30000, tol=1e-9, give_up=100)
    assert bool(done.all()) and steps < 30000                          # ln(1e6)/1e-3 ≈ 13 800
