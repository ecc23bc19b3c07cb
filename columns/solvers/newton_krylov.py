"""Matrix-free Newton–Krylov for the discretised action: any network size, no n × n blocks.

Minimises S(z) over the scaled increments z (K, B, n) of ``columns.solvers.least_action`` (the
variables in which the kinetic part of S has the identity as Hessian). Each outer iteration
builds the gradient g = ∇S with its graph and solves the Newton system

    H p = −g,        H v = ∇(gᵀ v)         (Hessian-vector products by double backward)

by conjugate gradients inside a trust region (Steihaug–Toint: CG stops at the region's boundary
and on negative curvature, so an indefinite H far from the minimum is safe; the forcing term
min(0.5, √|g|)·|g|, not below gtol/10, gives superlinear convergence near it). The step is taken when the actual
decrease is at least 1e-4 of the quadratic model's; the radius follows the ratio (× 1/4 below
0.25, × 2 above 0.75 at the boundary). Near the minimum, where the model decrease falls below the
round-off of S (1e-12 relative), a step is taken when it lowers max|∇S| instead. Each CG iteration costs one Hessian-vector product, about
two evaluations of S and ∇S, for all K steps at once: O(K (N + E)).

Preconditioning: none is needed for the kinetic part (identity in z); what is left is set by the
horizon and the coupling, which CG resolves in a number of iterations that the trust region keeps
bounded. If the region collapses (no acceptable step at radius < 1e-12), the caller falls back
to L-BFGS.

Shapes: z (K, B, n).
"""

from __future__ import annotations

import math

import torch


def _dot(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a * b).sum())


def steihaug(hvp, g: torch.Tensor, radius: float, tol: float, max_iter: int):
    """Approximate minimiser of gᵀp + ½ pᵀHp subject to |p| ≤ radius by CG.

    Returns (p, H p, iterations, hit the boundary)."""
    p = torch.zeros_like(g)
    Hp = torch.zeros_like(g)
    r = g.clone()                       # residual of H p + g
    d = -r
    rr = _dot(r, r)
    for it in range(1, max_iter + 1):
        Hd = hvp(d)
        dHd = _dot(d, Hd)
        if dHd <= 0:                    # negative curvature: go to the boundary along d
            tau = _to_boundary(p, d, radius)
            return p + tau * d, Hp + tau * Hd, it, True
        alpha = rr / dHd
        p_next = p + alpha * d
        if math.sqrt(_dot(p_next, p_next)) >= radius:
            tau = _to_boundary(p, d, radius)
            return p + tau * d, Hp + tau * Hd, it, True
        p, Hp = p_next, Hp + alpha * Hd
        r = r + alpha * Hd
        rr_new = _dot(r, r)
        if math.sqrt(rr_new) <= tol:
            return p, Hp, it, False
        d = -r + (rr_new / rr) * d
        rr = rr_new
    return p, Hp, max_iter, False


def _to_boundary(p, d, radius) -> float:
    """τ ≥ 0 with |p + τ d| = radius."""
    pd, dd, pp = _dot(p, d), _dot(d, d), _dot(p, p)
    return (-pd + math.sqrt(max(pd * pd + dd * (radius * radius - pp), 0.0))) / dd


def _grad_max(action, z) -> float:
    with torch.enable_grad():
        zv = z.detach().requires_grad_(True)
        (g,) = torch.autograd.grad(action(zv), zv)
    return float(g.abs().max())


def newton_krylov(action, z0: torch.Tensor, gtol: float, max_iter: int = 50,
                  cg_max: int = 200, radius: float | None = None) -> dict:
    """Minimise ``action(z)`` (a scalar tensor, differentiable twice) from ``z0``.

    Returns {"z", "grad_max", "iterations" (outer), "hvps" (Hessian-vector products),
    "failed" (the trust region collapsed before ``gtol``)}.
    """
    z = z0.detach().clone()
    radius = radius if radius is not None else max(1.0, math.sqrt(_dot(z, z)))
    hvps, it, failed = 0, 0, False
    gmax = float("inf")
    for it in range(1, max_iter + 1):
        with torch.enable_grad():
            zv = z.detach().requires_grad_(True)
            S = action(zv)
            (g,) = torch.autograd.grad(S, zv, create_graph=True)
        gmax = float(g.detach().abs().max())
        if gmax <= gtol or not math.isfinite(gmax):
            break
        gd = g.detach()
        gnorm = math.sqrt(_dot(gd, gd))

        def hvp(v):
            with torch.enable_grad():
                (h,) = torch.autograd.grad(g, zv, v, retain_graph=True)
            return h.detach()

        S0 = float(S.detach())
        accepted = False
        while radius >= 1e-12:
            tol = max(min(0.5, math.sqrt(gnorm)) * gnorm, 0.1 * gtol)
            p, Hp, n_cg, boundary = steihaug(hvp, gd, radius, tol, cg_max)
            hvps += n_cg
            pred = -(_dot(gd, p) + 0.5 * _dot(p, Hp))
            with torch.no_grad():
                S1 = float(action(z + p))
            if 0 < pred <= 1e-12 * (1.0 + abs(S0)) and math.isfinite(S1):
                # the model decrease is below S's round-off: judge the step by the gradient
                if _grad_max(action, z + p) < gmax:
                    z, accepted = (z + p).detach(), True
                    break
                radius *= 0.25
                continue
            rho = (S0 - S1) / pred if pred > 0 else -1.0
            if not math.isfinite(S1) or rho < 0.25:
                radius *= 0.25
            elif rho > 0.75 and boundary:
                radius *= 2.0
            if math.isfinite(S1) and rho > 1e-4:
                z, accepted = (z + p).detach(), True
                break
        if not accepted:
            failed = True
            break
    return {"z": z, "grad_max": gmax, "iterations": it, "hvps": hvps, "failed": failed}
