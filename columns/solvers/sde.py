"""``EulerMaruyama``: the Itô SDE dx = f(t, x) dt + T σ dW with diagonal noise, by torchsde's
Euler–Maruyama scheme on a seeded Brownian motion.

The system is any module ``system(t, x) -> f`` (B, N) with ``noise_scale`` σ (N,) or (B, N), the
fluctuations at temperature 1 (for the replay of ``columns.analysis``: the expectation flow with
σ = m_μ^(−1/2), the model's own precision); ``temperature`` T scales them. The Brownian motion
is torchsde's ``BrownianInterval`` over the whole grid, seeded by ``seed``: it is rebuilt from
(grid, shape, seed) in every chunk, so a run split into chunks, checkpointed and resumed draws the
same path (the carry holds nothing else).

Options: step_size (Δt of the scheme; default the output interval), temperature (≥ 0), seed.
Shapes: y (B, N); grid (T,) -> (K, B, N).
"""

from __future__ import annotations

import torch

from graphs.errors import SolverError

from . import options
from .base import Solver, options_dataclass
from .relaxation import finite


class _SDE(torch.nn.Module):
    """dx = f dt + diag(g) dW for torchsde (Itô, diagonal noise)."""

    noise_type, sde_type = "diagonal", "ito"

    def __init__(self, system, sigma: torch.Tensor):
        super().__init__()
        self.system, self.sigma = system, sigma

    def f(self, t, x):
        return self.system(t, x)

    def g(self, t, x):
        return self.sigma.expand_as(x)


@options_dataclass
class EulerMaruyama(Solver):
    """Euler–Maruyama over torchsde (module ``columns.solvers.sde``). Final class."""

    name = "euler_maruyama"
    step_size: float | None = None
    temperature: float = 1.0
    seed: int = 0

    def validate(self):
        options.number(self, "step_size", optional=True)
        options.number(self, "temperature", strict=False)
        options.integer(self, "seed", 0)

    def check(self, system):
        if getattr(system, "noise_scale", None) is None:
            raise SolverError(f"euler_maruyama: the system {type(system).__name__} has no "
                              "noise_scale (σ of dx = f dt + T σ dW)")

    def advance(self, system, y, grid, k0, k1, carry):
        import torchsde
        ts = grid[k0:k1 + 1]
        dt = float(self.step_size) if self.step_size is not None else float(grid[1] - grid[0])
        bm = torchsde.BrownianInterval(t0=float(grid[0]), t1=float(grid[-1]), size=tuple(y.shape),
                                       dtype=y.dtype, device=y.device, entropy=int(self.seed))
        sigma = float(self.temperature) * system.noise_scale.to(y)
        with torch.no_grad():
            x = torchsde.sdeint(_SDE(system, sigma), y, ts, bm=bm, method="euler", dt=dt)
        return finite(x, "the SDE"), carry
