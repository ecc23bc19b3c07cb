"""The fixed-step loop with conduction delays (``columns.delays``): Euler or RK4 (the 3/8 rule of
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


class DelayedField:
    """f(t, y) of one step: the network with the arriving signals of stage t (module docstring)."""

    def __init__(self, network, line, buf: torch.Tensor):
        self.network, self.line, self.buf = network, line, buf
        self.n, self.t_n = 0, 0.0

    def __call__(self, t, y, out=None):
        c = (float(t) - self.t_n) / self.line.h
        c = 0.0 if abs(c) < 1e-9 else 1.0 if abs(c - 1.0) < 1e-9 else c

        def arriving(x):
            if c == 0.0:
                self.line.push(self.buf, self.n, x)
            return self.line.arriving(self.buf, self.n, c, x)
        return self.network(t, y, out=out, delayed=arriving)


def integrate(network, line, y0: torch.Tensor, ts: torch.Tensor, method: str,
              buf: torch.Tensor, n0: int) -> tuple[torch.Tensor, torch.Tensor, int]:
    """(trajectory at ts, buffer, step count after the last step) from y0 at ts[0] = t₀ + n0 h."""
    h = line.h
    steps = [int(round(v)) for v in ((ts - ts[0]) / h).tolist()]
    sol = torch.empty(ts.numel(), *y0.shape, dtype=y0.dtype, device=y0.device)
    sol[0] = y0
    f = DelayedField(network, line, buf.clone())
    plain = fixed_step._euler if method == "euler" else fixed_step._rk4
    k = [torch.empty_like(y0) for _ in range(1 if method == "euler" else 4)]
    ya, yb, tmp = y0.clone(), torch.empty_like(y0), torch.empty_like(y0)
    t0 = float(ts[0])
    j = 1
    with torch.no_grad():
        for m in range(steps[-1]):
            f.n, f.t_n = n0 + m, t0 + m * h
            plain(f, torch.tensor(f.t_n, dtype=ts.dtype, device=ts.device), h, ya, k, tmp, yb)
            ya, yb = yb, ya
            while j < len(steps) and steps[j] == m + 1:
                sol[j] = ya
                j += 1
            if m % 256 == 255 and not torch.isfinite(ya).all():      # diverged: stop early
                sol[j:] = float("nan")
                break
    return sol, f.buf, n0 + steps[-1]
