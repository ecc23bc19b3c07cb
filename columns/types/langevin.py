"""Continuous-Bernoulli units: the Langevin function, its derivative, sampling, seeded uniforms.

A continuous-Bernoulli (CB) variable σ ∈ [−1, 1] with natural parameter θ has density
p(σ | θ) = θ e^{θσ} / (2 sinh θ) (uniform at θ = 0) and mean the Langevin function

    L(θ)  = coth θ − 1/θ          = θ/3 − θ³/45 + 2θ⁵/945 − θ⁷/4725 + …   (|θ| small)
    L′(θ) = 1/θ² − 1/sinh² θ      = 1/3 − θ²/15 + 2θ⁴/189 − θ⁶/675 + …

Both use the series (the Bernoulli-number expansion, through θ¹³) for |θ| < 0.25 and the closed
form elsewhere (exact to rounding for |θ| up to 500 and beyond: L → ±1, L′ → 1/θ²).

Sampling by inverse CDF, rewritten to avoid overflow: with a = |θ|, sg = sign θ, u ~ U(0, 1),

    σ = sg · (1 + log1p(u · expm1(−2a)) / a)        (= (1/θ) ln(e^{−θ} + u (e^{θ} − e^{−θ})))

which tends to 2u − 1 as θ → 0 and stays in [−1, 1] for any θ (θ is clipped to ±500).

Seeded uniforms come from ``columns.rng.counter_uniform``.

Shapes: elementwise.
"""

from __future__ import annotations

import torch

THETA_MAX = 500.0
_SERIES = 0.25
# L(θ) = Σ c_k θ^(2k−1): c_k = 2^(2k) B_(2k) / (2k)!
_L_COEF = (1 / 3, -1 / 45, 2 / 945, -1 / 4725, 2 / 93555, -1382 / 638512875, 4 / 18243225)


def _series(x: torch.Tensor, coef, derivative: bool) -> torch.Tensor:
    x2 = x * x
    out = torch.zeros_like(x)
    for k in range(len(coef) - 1, -1, -1):      # Horner in θ²
        c = coef[k] * ((2 * k + 1) if derivative else 1.0)
        out = out * x2 + c
    return out if derivative else out * x


def langevin(theta: torch.Tensor) -> torch.Tensor:
    """L(θ) = coth θ − 1/θ, the mean of CB(θ). Shapes: elementwise."""
    small = theta.abs() < _SERIES
    safe = torch.where(small, torch.ones_like(theta), theta)
    closed = 1.0 / torch.tanh(safe) - 1.0 / safe
    return torch.where(small, _series(theta, _L_COEF, False), closed)


def langevin_prime(theta: torch.Tensor) -> torch.Tensor:
    """L′(θ) = 1/θ² − 1/sinh² θ (1/3 at 0). Shapes: elementwise."""
    small = theta.abs() < _SERIES
    safe = torch.where(small, torch.ones_like(theta), theta)
    closed = 1.0 / (safe * safe) - 1.0 / torch.sinh(safe.clamp(-700, 700)) ** 2
    return torch.where(small, _series(theta, _L_COEF, True), closed)


def log_x_over_sinh(x: torch.Tensor) -> torch.Tensor:
    """ln(x / sinh x) (0 at x = 0), stable for large |x|. Shapes: elementwise."""
    a = x.abs()
    small = a < _SERIES
    safe = torch.where(small, torch.ones_like(a), a)
    # ln(a) − ln(sinh a) with ln sinh a = a + log1p(−e^{−2a}) − ln 2
    closed = torch.log(safe) - safe - torch.log1p(-torch.exp(-2 * safe)) + 0.6931471805599453
    x2 = x * x      # ln(sinh x / x) = x²/6 − x⁴/180 + x⁶/2835 − x⁸/37800 + x¹⁰/467775 − 691x¹²/3831077250
    series = -x2 * (1 / 6 + x2 * (-1 / 180 + x2 * (1 / 2835 + x2 * (
        -1 / 37800 + x2 * (1 / 467775 - x2 * 691 / 3831077250)))))
    return torch.where(small, series, closed)


def cb_sample(theta: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """A CB(θ) sample from uniforms u ∈ [0, 1) (same shape). Shapes: elementwise."""
    th = theta.clamp(-THETA_MAX, THETA_MAX)
    a = th.abs()
    tiny = a < 1e-12
    a_safe = torch.where(tiny, torch.ones_like(a), a)
    s = torch.sign(th) * (1.0 + torch.log1p(u * torch.expm1(-2.0 * a_safe)) / a_safe)
    return torch.where(tiny, 2.0 * u - 1.0, s).clamp(-1.0, 1.0)
