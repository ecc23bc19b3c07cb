"""The fixed-step loop with conduction delays (``columns.solvers.delays``): Euler or RK4 (the 3/8 rule of
``columns.solvers.fixed_step``, the same stage formulas and buffers) on the grid t₀ + n h, every
stage reading the arriving signals from the ring buffer.

    stage c of step n:  ν = Σ_e W_e x_e(t_n + c h),   x_e from ``DelayLine.arriving``
    the stage c = 0 stores x(y_n) in slot n first, so a step needs no extra send.

The output times lie on the step grid (checked by the solver), so samples are grid states (no
interpolation). The buffer and the step count are the solver's carry: chunks, checkpoints and a
resumed run continue the same history (bit-identical to an uninterrupted run).

Shapes: y0 (B, S); ts (K,) on the grid; buffer (B, (D+1)·N) -> trajectory (K, B, S).
"""

from __future__ import annotations

import torch

from . import fixed_step


STAGES = {"euler": (0.0,), "rk4": (0.0, 1 / 3, 2 / 3, 1.0)}
"""The stage fractions c of each step's evaluations, in the order ``fixed_step`` makes them."""


class DelayedField:
    """f(t, y) of one step: the network with the arriving signals of stage t (module
    ``columns.solvers.delayed``).
    The stage is counted, not inferred from t (t's round-off, float32 grids)."""

    def __init__(self, network, line, buf: torch.Tensor, method: str):
        self.network, self.line, self.buf = network, line, buf
        self.stages = STAGES[method]
        self.n, self.k = 0, 0

    def begin(self, n: int) -> None:
        self.n, self.k = n, 0

    def __call__(self, t, y, out=None):
        c = self.stages[self.k]
        self.k += 1

        return self.network(t, y, out=out,
                            delayed=lambda x: self.line.receive(self.buf, self.n, c, x))


def integrate(network, line, y0: torch.Tensor, ts: torch.Tensor, method: str,
              buf: torch.Tensor, n0: int) -> tuple[torch.Tensor, torch.Tensor, int]:
    """(trajectory at ts, buffer, step count after the last step) from y0 at ts[0] = t₀ + n0 h."""
    h = line.h
    steps = [int(round(v)) for v in ((ts - ts[0]) / h).tolist()]
    sol = torch.empty(ts.numel(), *y0.shape, dtype=y0.dtype, device=y0.device)
    sol[0] = y0
    f = DelayedField(network, line, buf.clone(), method)
    plain = fixed_step._euler if method == "euler" else fixed_step._rk4
    k = [torch.empty_like(y0) for _ in range(1 if method == "euler" else 4)]
    ya, yb, tmp = y0.clone(), torch.empty_like(y0), torch.empty_like(y0)
    t0 = float(ts[0])
    j = 1
    with torch.no_grad():
        for m in range(steps[-1]):
            f.begin(n0 + m)
            plain(f, torch.tensor(t0 + m * h, dtype=ts.dtype, device=ts.device), h, ya, k, tmp, yb)
            ya, yb = yb, ya
            while j < len(steps) and steps[j] == m + 1:
                sol[j] = ya
                j += 1
            if m % 256 == 255 and not torch.isfinite(ya).all():      # diverged: stop early
                sol[j:] = float("nan")
                break
    return sol, f.buf, n0 + steps[-1]
