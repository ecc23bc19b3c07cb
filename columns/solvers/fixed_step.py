"""The fixed-step loop: explicit Euler and RK4 on a fixed grid, many steps per Python call.

The same grid and the same formulas as torchdiffeq's fixed-grid solvers, so the two agree to
round-off (test): steps of ``step_size`` from ts[0] (grid t_k = ts[0] + k h, the last point moved
onto ts[-1]; without ``step_size`` the output grid itself), outputs linearly interpolated
between grid points, and RK4 the 3/8 rule torchdiffeq uses,

    k1 = f(t, y),  k2 = f(t + h/3, y + h k1/3),  k3 = f(t + 2h/3, y + h (k2 − k1/3)),
    k4 = f(t + h, y + h (k1 − k2 + k3)),          y' = y + h (k1 + 3 (k2 + k3) + k4) / 8.

What it does differently: the stages live in buffers allocated once per call and a
``Network`` writes its derivative into them (``out=``), so a step allocates nothing of state
size; and with ``compiled=True`` ``unroll`` whole steps (the network's forward and the stage
arithmetic) are one ``torch.compile``d function (inductor: the pointwise work fused into a few
kernels, a small dense coupling one GEMM over the batch); the first call compiles (tens of
seconds), later calls with the same shapes reuse it. Linear interpolation needs the two grid
states around an output time, so a block never jumps over one.

Shapes: y0 (B, S); ts (T,) -> trajectory (T, B, S).
"""

from __future__ import annotations

import torch

METHODS = ("euler", "rk4")


def grid(ts: torch.Tensor, step_size: float | None) -> torch.Tensor:
    """torchdiffeq's fixed grid: t_0 + k h up to the last output time (which closes the grid)."""
    if step_size is None:
        return ts
    n = torch.ceil((ts[-1] - ts[0]) / step_size + 1).item()
    g = torch.arange(0, n, dtype=ts.dtype, device=ts.device) * step_size + ts[0]
    g[-1] = ts[-1]
    return g


def _euler(func, t0, h, y0, k, tmp, out):
    k1 = func(t0, y0, out=k[0])
    return torch.add(y0, k1, alpha=h, out=out)


def _rk4(func, t0, h, y0, k, tmp, out):
    """In place: ``tmp`` holds each stage's argument, ``out`` the new state."""
    k1 = func(t0, y0, out=k[0])
    k2 = func(t0 + h / 3, torch.add(y0, k1, alpha=h / 3, out=tmp), out=k[1])
    tmp.copy_(y0).add_(k2, alpha=h).add_(k1, alpha=-h / 3)
    k3 = func(t0 + 2 * h / 3, tmp, out=k[2])
    tmp.copy_(y0).add_(k1, alpha=h).sub_(k2, alpha=h).add_(k3, alpha=h)
    k4 = func(t0 + h, tmp, out=k[3])
    out.copy_(k2).add_(k3).mul_(3).add_(k1).add_(k4)
    return out.mul_(h * 0.125).add_(y0)


def _pure_steps(func, method, unroll):
    """``unroll`` steps of size h from t0 as a pure function (t0, h, y0) -> y, for torch.compile
    (a module's ``forward`` itself: hooks such as the progress bar's stay outside the graph)."""
    func = getattr(func, "forward", func)

    def euler(t0, h, y0):
        return y0 + h * func(t0, y0)

    def rk4(t0, h, y0):
        k1 = func(t0, y0)
        k2 = func(t0 + h / 3, y0 + h * k1 / 3)
        k3 = func(t0 + 2 * h / 3, y0 + h * (k2 - k1 / 3))
        k4 = func(t0 + h, y0 + h * (k1 - k2 + k3))
        return y0 + (k1 + 3 * (k2 + k3) + k4) * h * 0.125

    one = euler if method == "euler" else rk4

    def steps(t0, h, y):
        for k in range(unroll):
            y = one(t0 + k * h, h, y)
        return y
    return steps


UNROLL = {"euler": 10, "rk4": 3}
"""Steps per compiled call by default: a few network evaluations per call amortise the call's
guard checks (~100 µs) without a long compile (~20 s for 10 Euler steps of an 80-node network)."""

_COMPILED: dict = {}


def compiled_steps(func, method, unroll):
    """The compiled ``unroll``-step function of ``func`` (cached per function object)."""
    key = (id(func), method, unroll)
    if key not in _COMPILED or _COMPILED[key][0] is not func:
        _COMPILED[key] = (func, torch.compile(_pure_steps(func, method, unroll), fullgraph=True,
                                              dynamic=False))
    return _COMPILED[key][1]


def fixed_grid(func, y0: torch.Tensor, ts: torch.Tensor, method: str = "rk4",
               step_size: float | None = None, compiled: bool = False,
               unroll: int | None = None) -> torch.Tensor:
    """Integrate dy/dt = func(t, y) (func takes ``out=`` unless ``compiled``) over ``ts``.

    ``compiled``: runs of ``unroll`` grid steps (default ``UNROLL``) with no output time inside
    are one compiled call (steps t0 + k h); single compiled steps elsewhere."""
    g = grid(ts, step_size)
    sol = torch.empty(ts.numel(), *y0.shape, dtype=y0.dtype, device=y0.device)
    sol[0] = y0
    n_stages = 1 if method == "euler" else 4
    k = [torch.empty_like(y0) for _ in range(n_stages)]
    ya, yb, tmp = y0.clone(), torch.empty_like(y0), torch.empty_like(y0)
    unroll = UNROLL[method] if unroll is None else max(1, int(unroll))
    one = compiled_steps(func, method, 1) if compiled else None
    block = compiled_steps(func, method, unroll) if compiled and unroll > 1 else None
    plain = _euler if method == "euler" else _rk4
    gv, tv = g.tolist(), ts.tolist()
    n_steps = len(gv) - 1
    j, i = 1, 0
    with torch.no_grad():
        while i < n_steps:
            t0 = gv[i]
            # a block: ``unroll`` full steps before the last one, no output time strictly inside
            jump = 1
            if (block is not None and i + unroll < n_steps
                    and not (j < len(tv) and tv[j] < gv[i + unroll])):
                jump = unroll
                yb = block(g[i], g[i + 1] - g[i], ya)
            elif one is not None:             # h as a tensor: no recompile for each float
                yb = one(g[i], g[i + 1] - g[i], ya)
            else:
                plain(func, g[i], gv[i + 1] - t0, ya, k, tmp, yb)
            i += jump
            t1 = gv[i]
            h = t1 - t0
            while j < len(tv) and t1 >= tv[j]:
                if tv[j] == t0:
                    sol[j] = ya
                elif tv[j] == t1:
                    sol[j] = yb
                else:
                    sol[j] = ya + (tv[j] - t0) / h * (yb - ya)
                j += 1
            if i % 256 < jump and not torch.isfinite(yb).all():   # diverged: stop early
                sol[j:] = float("nan")
                break
            if compiled:
                ya = yb
            else:
                ya, yb = yb, ya
    return sol
