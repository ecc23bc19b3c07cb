"""Continuous-time mean-field FEP attractor network with learning, for torchdiffeq.

State y = (σ (N), x̄ (N), J (N·N, row = target)) per batch member; bias b(t) (a callable or a
constant, evidence × pattern):

    τ σ̇   = L(β (b + J σ)) − σ                         (Euler dt = τ: the deterministic map)
    τ_x x̄̇ = σ − x̄                                       (low-pass trace: σ a moment ago)
    τ J̇   = α [σ − L(J x̄)] σᵀ,   diagonal 0             (lag=True)
    τ J̇   = α [σ − L(J σ)] σᵀ                           (lag=False)

The discrete code rule compares the new state with the prediction L(J σ(t)) made from the previous
state; the trace x̄ keeps that one-step lag in continuous time. Without it the prediction is made
from the current state and the temporal asymmetry that sequences imprint on J disappears
(``fep-sim3`` shows both). Diagonal terms of J̇ are zeroed, so J_ii stays at its initial 0.

Shapes: y (B, 2N + N²) -> same.
"""

from __future__ import annotations

import torch
from torch import nn

from graphs.errors import ParameterError

from .langevin import langevin


class FEPMeanField(nn.Module):
    """Mean-field FEP network with continuous learning. Final class."""

    def __init__(self, n: int, beta: float = 1.0, alpha: float = 0.001, tau: float = 1.0,
                 tau_trace: float | None = None, lag: bool = True, bias=None):
        super().__init__()
        if tau <= 0 or (tau_trace is not None and tau_trace <= 0) or beta < 0:
            raise ParameterError("FEPMeanField: tau, tau_trace must be > 0 and beta >= 0")
        self.n, self.beta, self.alpha, self.tau = n, beta, alpha, tau
        self.tau_trace = tau if tau_trace is None else tau_trace
        self.lag = lag
        self.bias = bias
        self.register_buffer("offdiag", 1.0 - torch.eye(n, dtype=torch.float64))

    def split(self, y: torch.Tensor):
        n = self.n
        return y[..., :n], y[..., n:2 * n], y[..., 2 * n:].reshape(*y.shape[:-1], n, n)

    def initial_state(self, sigma0: torch.Tensor, J0: torch.Tensor | None = None) -> torch.Tensor:
        """y from σ(0) (B, N) (trace = σ(0)) and J(0) (B, N, N) (default 0)."""
        B = sigma0.shape[0]
        J0 = torch.zeros(B, self.n, self.n, dtype=sigma0.dtype, device=sigma0.device) if J0 is None else J0
        return torch.cat([sigma0, sigma0, (J0 * self.offdiag.to(J0)).reshape(B, -1)], -1)

    def forward(self, t, y: torch.Tensor) -> torch.Tensor:
        sigma, trace, J = self.split(y)
        b = self.bias(t) if callable(self.bias) else (0.0 if self.bias is None else self.bias)
        b = torch.as_tensor(b, dtype=y.dtype, device=y.device)
        h = (J @ sigma.unsqueeze(-1)).squeeze(-1)
        dsigma = (langevin(self.beta * (b + h)) - sigma) / self.tau
        dtrace = (sigma - trace) / self.tau_trace
        pred_from = trace if self.lag else sigma
        err = sigma - langevin((J @ pred_from.unsqueeze(-1)).squeeze(-1))
        dJ = self.alpha / self.tau * err.unsqueeze(-1) * sigma.unsqueeze(-2) * self.offdiag.to(y)
        return torch.cat([dsigma, dtrace, dJ.reshape(*y.shape[:-1], -1)], -1)
