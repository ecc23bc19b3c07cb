"""The static energy landscape of a network, seen from its positions: positions embedded in
states, U(q; s) at positions, damped Newton on ∇U = 0 (its critical points are the fixed points,
with p* = −M F(q*)), and the Jacobian ∂ẏ/∂y of the dynamics by autograd. The analysis' fixed
points and spectra, and the Riccati solver, build on these.

Shapes: q (B, n) positions in ``canonical_pairs`` order (n = S/2); y (S,) or (B, S) states.
"""

from __future__ import annotations

import torch

from .energy import canonical_pairs, static_energy


def as_time(network, t):
    """t as a real scalar tensor on the network's device."""
    return torch.as_tensor(0.0 if t is None else t, dtype=network.real_dtype, device=network.device)


def jacobian(network, y: torch.Tensor, t=0.0, s=None, canonical: bool = True) -> torch.Tensor:
    """J = ∂(dy/dt)/∂y at y by autograd (dense). ``canonical`` reorders to (q, p).

    Shapes: y (S,) or (1, S) -> (S, S).

    Returns:
        J (S, S).
    """
    y = y.reshape(-1).detach()
    tt = as_time(network, t)
    J = torch.autograd.functional.jacobian(lambda z: network(tt, z.unsqueeze(0), s).squeeze(0), y)
    if canonical:
        perm = torch.cat(canonical_pairs(network))
        J = J[perm][:, perm]
    return J


def positions_to_state(network, q: torch.Tensor, y_ref: torch.Tensor | None = None) -> torch.Tensor:
    """Embed positions q (B, n) into full states (B, S) (momenta from ``y_ref`` or 0).

    Returns:
        States (B, S).
    """
    pos, _ = canonical_pairs(network)
    q = q.reshape(-1, pos.numel())
    y = (torch.zeros(q.shape[0], network.state_size, dtype=q.dtype, device=q.device)
         if y_ref is None else y_ref.reshape(-1, network.state_size).expand(q.shape[0], -1))
    return y.index_copy(1, pos, q)


def energy_of_positions(network, q: torch.Tensor, t=0.0, s=None) -> torch.Tensor:
    """U(q; s(t)) for positions q (B, n) or (n,) (``static_energy`` of the state with
    those positions and zero momenta). Shapes: -> (B,) or ().

    Returns:
        U, (B,) or ().
    """
    squeeze = q.dim() == 1
    U = static_energy(network, as_time(network, t), positions_to_state(network, q), s)
    return U.squeeze(0) if squeeze else U


def gradient_and_hessian(network, q, t, s, free):
    """∇U and ∇²U over the free positions, per start. Shapes: q (B, n) -> (B, f), (B, f, f)."""
    with torch.enable_grad():
        x = q.detach().requires_grad_(True)
        U = energy_of_positions(network, x, t, s).sum()
        g = torch.autograd.grad(U, x, create_graph=True)[0][:, free]
        f = g.shape[1]
        rows = []
        for j in range(f if g.requires_grad else 0):   # f Hessian rows, each for all starts
            hj = torch.autograd.grad(g[:, j].sum(), x, retain_graph=j < f - 1, allow_unused=True)[0]
            rows.append(torch.zeros_like(x)[:, free] if hj is None else hj[:, free])
    H = torch.stack(rows, 1) if rows else g.new_zeros(g.shape[0], f, f)
    return g.detach(), H


def newton(network, q0: torch.Tensor, t=0.0, s=None, free: torch.Tensor | None = None,
           tol: float | None = None, max_iter: int = 100) -> tuple[torch.Tensor, torch.Tensor]:
    """Damped Newton on ∇U(q) = 0 from every row of q0; returns (q, ‖∇U‖∞ per start).

    Shapes: q0 (B, n) -> (B, n), (B,).

    Returns:
        (q (B, n), ‖∇U‖∞ (B,)).
    """
    q = q0.detach().clone().reshape(-1, canonical_pairs(network)[0].numel())
    n = q.shape[1]
    free = torch.ones(n, dtype=torch.bool, device=q.device) if free is None else free.to(q.device)
    if tol is None:
        tol = 1e-12 if q.dtype == torch.float64 else 1e-5
    for _ in range(max_iter):
        g, Hs = gradient_and_hessian(network, q, t, s, free)
        gn = g.abs().amax(-1)
        active = gn > tol * (1.0 + q.abs().amax(-1))
        if not active.any():
            break
        step = torch.linalg.lstsq(Hs, -g.unsqueeze(-1)).solution.squeeze(-1) if n else g
        alpha = torch.ones_like(gn)
        for _ in range(30):   # backtracking on ‖∇U‖² per start
            trial = q.clone()
            trial[:, free] = q[:, free] + alpha.unsqueeze(-1) * step
            with torch.enable_grad():
                x = trial.detach().requires_grad_(True)
                gt = torch.autograd.grad(energy_of_positions(network, x, t, s).sum(), x)[0][:, free]
            ok = ~torch.isfinite(gt).all(-1) | (gt.norm(dim=-1) >= g.norm(dim=-1))
            ok = ok & active
            if not ok.any():
                break
            alpha = torch.where(ok, 0.5 * alpha, alpha)
        q = torch.where(active.unsqueeze(-1), trial, q).detach()
    with torch.enable_grad():
        x = q.detach().requires_grad_(True)
        g = torch.autograd.grad(energy_of_positions(network, x, t, s).sum(), x)[0][:, free]
    return q, g.abs().amax(-1)
