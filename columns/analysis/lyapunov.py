"""Largest Lyapunov exponent by the two-trajectory (Benettin) method.

A reference trajectory y(t) and a neighbour y(t) + δ(t), |δ(0)| = d₀, are integrated together
(one batch of 2, by the ``IVP`` solver); every ``renorm`` time units the separation is measured and rescaled to d₀:

    λ_max ≈ (1 / T) Σ_k log(|δ(t_k)| / d₀)

For a Hamiltonian system λ_max ≥ 0; at a saddle it equals the largest real eigenvalue of J.

Shapes: y0 (S,).
"""

from __future__ import annotations

import math

import torch

from graphs.errors import DivergenceError

from ..solvers import IVP, run


def largest_lyapunov(network, y0: torch.Tensor, t_total: float, renorm: float = 0.5,
                     d0: float = 1e-8, method: str = "dopri5", rtol: float = 1e-10,
                     atol: float = 1e-12, seed: int = 0, t0: float = 0.0,
                     transient: float = 0.0) -> dict:
    """Estimate λ_max over [t0 + transient, t0 + t_total]; the first ``transient`` time units
    only align the perturbation with the most unstable direction. Returns {"lambda", "history"
    (running estimates)}.

    Raises DivergenceError if the reference trajectory leaves the finite range (the estimate up
    to that time is attached as ``.partial``).

    Returns:
        {"lambda": the estimate, "history": the running estimates}.

    Raises:
        DivergenceError: the reference trajectory diverged (``.partial`` holds the estimate so far).
    """
    solver = IVP(method=method, rtol=rtol, atol=atol)
    y = y0.reshape(1, -1).detach().to(network.device)
    g = torch.Generator(device="cpu").manual_seed(int(seed))
    d = torch.randn(1, y.shape[1], generator=g, dtype=torch.float64).to(y)
    d = d0 * d / d.norm()
    pair = torch.cat([y, y + d], 0)
    n = max(1, int(round(t_total / renorm)))
    n_skip = min(n - 1, int(round(transient / renorm)))
    total, history, t = 0.0, [], float(t0)
    t_start = float(t0) + n_skip * renorm
    rdtype = torch.float64 if y.dtype in (torch.float64, torch.complex128) else torch.float32
    for k in range(n):
        ts = torch.tensor([t, t + renorm], dtype=rdtype, device=y.device)
        with torch.no_grad():
            pair = run(solver, network, pair, ts)[-1]
        t += renorm
        if not torch.isfinite(pair).all():
            err = DivergenceError(f"largest_lyapunov: trajectory became non-finite at t ≈ {t:.4g}", t)
            err.partial = history[-1] if history else float("nan")
            raise err
        delta = pair[1] - pair[0]
        dist = float(delta.norm())
        if k >= n_skip:
            total += math.log(dist / d0)
            history.append(total / (t - t_start))
        pair = torch.stack([pair[0], pair[0] + delta * (d0 / dist)])
    return {"lambda": history[-1], "history": history}
