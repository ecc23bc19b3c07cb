"""Gauss–Newton (Levenberg–Marquardt) for the discretised action, block-tridiagonal in time.

The action of ``columns.solvers.least_action`` is a sum of squares, S = ½ Σ_k |r_k|², with per-step
residuals depending only on (q_k, q_{k+1}) (a = ½, b = ½ for the midpoint rule; a = 1, b = 0
for the left rule; q̂_k = a q_k + b q_{k+1}):

    r_k = [ √(Δt M) (v_k − F(q̂_k; s_k)) ;  √(Δt m_z) e(q̂_k; s_k) ],   v_k = (q_{k+1} − q_k)/Δt

With A_k = ∂F/∂q and G_k = ∂e/∂q at q̂_k (n + N backward passes, each for all steps at once),

    P_k = ∂r_k/∂q_{k+1} = [ √(Δt M)(I/Δt − b A_k) ; b √(Δt m_z) G_k ]
    Q_k = ∂r_k/∂q_k     = [ √(Δt M)(−I/Δt − a A_k) ; a √(Δt m_z) G_k ]

and the Gauss–Newton matrix JᵀJ over q_1..q_K is symmetric block-tridiagonal:

    D_j = P_{j−1}ᵀ P_{j−1} + Q_jᵀ Q_j,    O_j = Q_jᵀ P_j (coupling q_j, q_{j+1}),
    ∇_{q_j} S = P_{j−1}ᵀ r_{j−1} + Q_jᵀ r_j

solved exactly by the block Thomas algorithm (O(K n³), one sweep over time), with Marquardt
damping D_j + λ diag(D_j) adapted by the decrease of S. Converges in a few iterations, also where
the problem is badly conditioned for first-order methods. Dense n × n blocks: for small n.

Shapes: q (K+1, B, n); blocks (K, B, n, n).
"""

from __future__ import annotations

import torch

from .. import energy


def residuals(network, qa, qb, dt, s, a: float, b: float, with_jacobian: bool,
              second_order: bool = False):
    """Per-step residuals (K, B, n + N) and, optionally, (A, G) = (∂F/∂q̂, ∂e/∂q̂) and the
    residual-weighted second derivatives T_k = Σ_i r_{k,i} ∇²_q̂ r_{k,i} (K, B, n, n)."""
    K, B, n = qa.shape
    pos, _ = energy.canonical_pairs(network)
    m = energy.position_masses(network).to(qa)
    with torch.enable_grad():
        qh = (a * qa + b * qb).reshape(K * B, n).detach().requires_grad_(with_jacobian)
        y = torch.zeros(K * B, network.state_size, dtype=qa.dtype, device=qa.device)
        y = y.index_copy(1, pos, qh)
        sk = s.reshape(K * B, -1)
        F = energy.prior_flow(network, None, y, sk)                                # (K·B, n)
        e, mz = energy.sensory_errors(network, None, y, sk)                        # (K·B, N), (N,)
        v = (qb - qa) / dt.view(K, 1, 1)
        c = (dt.view(K, 1, 1) * m).sqrt()                                  # (K, 1, n)
        d = (dt.view(K, 1, 1) * mz).sqrt()                                 # (K, 1, N)
        r_dyn = c * (v - F.detach().reshape(K, B, n))
        r_sen = d * e.detach().reshape(K, B, -1)
        A = G = T = None
        if with_jacobian:
            outs = torch.cat([F, e], -1)
            rows = []
            for j in range(outs.shape[1]):     # rows of the per-step Jacobians, all steps at once
                rows.append(torch.autograd.grad(outs[:, j].sum(), qh, retain_graph=True,
                                                allow_unused=True)[0])
            rows = [torch.zeros_like(qh) if r is None else r for r in rows]
            Jac = torch.stack(rows, 1).reshape(K, B, -1, n)
            A, G = Jac[:, :, :n], Jac[:, :, n:]
        if second_order:                       # ∇² of Σ_i r_i (−c_i F_i) + r_i d_i e_i, r frozen
            phi = ((-c * r_dyn).reshape(K * B, n) * F).sum() + \
                  ((d * r_sen).reshape(K * B, -1) * e).sum()
            gphi = torch.autograd.grad(phi, qh, create_graph=True, allow_unused=True)[0]
            rows = []
            for j in range(n if gphi is not None and gphi.requires_grad else 0):   # 0 if linear
                h = torch.autograd.grad(gphi[:, j].sum(), qh, retain_graph=j < n - 1,
                                        allow_unused=True)[0]
                rows.append(torch.zeros_like(qh) if h is None else h)
            T = (torch.stack(rows, 1).reshape(K, B, n, n).detach() if rows else
                 torch.zeros(K, B, n, n, dtype=qa.dtype, device=qa.device))
    r = torch.cat([r_dyn, r_sen], -1)
    return r, A, G, c, d, T


def _blocks(A, G, c, d, dt, a, b):
    K, B, n, _ = A.shape
    eye = torch.eye(n, dtype=A.dtype, device=A.device)
    idt = (1.0 / dt).view(K, 1, 1, 1)
    cP = c.unsqueeze(-1) * (eye * idt - b * A)                 # (K, B, n, n) dynamic rows
    cQ = c.unsqueeze(-1) * (-eye * idt - a * A)
    sG = d.unsqueeze(-1) * G                                   # (K, B, N, n) sensory rows
    P = torch.cat([cP, b * sG], 2)
    Q = torch.cat([cQ, a * sG], 2)
    return P, Q


def block_thomas(D: torch.Tensor, O: torch.Tensor, rhs: torch.Tensor) -> torch.Tensor:
    """Solve the symmetric block-tridiagonal system with diagonal blocks D (K, B, n, n), upper
    blocks O (K−1, B, n, n) (O_i couples unknowns i and i+1) and right-hand side (K, B, n)."""
    K = D.shape[0]
    Dp, yv = [D[0]], [rhs[0]]
    for i in range(1, K):
        X = torch.linalg.solve(Dp[-1], O[i - 1])               # Dp⁻¹ O
        L = X.mT
        Dp.append(D[i] - L @ O[i - 1])
        yv.append(rhs[i] - (L @ yv[-1].unsqueeze(-1)).squeeze(-1))
    x = [None] * K
    x[K - 1] = torch.linalg.solve(Dp[K - 1], yv[K - 1].unsqueeze(-1)).squeeze(-1)
    for i in range(K - 2, -1, -1):
        x[i] = torch.linalg.solve(Dp[i], (yv[i] - (O[i] @ x[i + 1].unsqueeze(-1)).squeeze(-1))
                                  .unsqueeze(-1)).squeeze(-1)
    return torch.stack(x)


def gauss_newton(network, q: torch.Tensor, dt: torch.Tensor, s: torch.Tensor, a: float, b: float,
                 max_iter: int = 50, gtol: float = 1e-10, newton: bool = True) -> dict:
    """Minimise S over q[1:] (q[0] fixed) from the initial path q (K+1, B, n).

    ``newton`` adds the residual-curvature blocks T_k (a² T_k to D_k, b² T_k to D_{k+1}, a b T_k
    to O_k): the exact Hessian, quadratic convergence where the residuals at the minimum are not
    small (the sensory errors never vanish); a step that does not decrease S is retried with
    more damping, and with the Gauss–Newton matrix alone once the damping is large.
    Returns {"q", "iterations", "grad_max" (in the scaled-increment units of least_action)}.
    """
    m = energy.position_masses(network).to(q)
    q = q.detach().clone()
    lam, it, gmax = 1e-8, 0, float("inf")

    def action(path):
        r, *_ = residuals(network, path[:-1], path[1:], dt, s, a, b, False)
        return 0.5 * (r * r).sum()

    for it in range(1, max_iter + 1):
        r, A, G, c, d, T = residuals(network, q[:-1], q[1:], dt, s, a, b, True, newton)
        P, Q = _blocks(A, G, c, d, dt, a, b)
        Pr = (P.mT @ r.unsqueeze(-1)).squeeze(-1)                          # (K, B, n)
        Qr = (Q.mT @ r.unsqueeze(-1)).squeeze(-1)
        grad = Pr.clone()
        grad[:-1] = grad[:-1] + Qr[1:]                                     # ∇ over q_1..q_K
        gz = (dt.view(-1, 1, 1) / m).sqrt() * grad.flip(0).cumsum(0).flip(0)
        gmax = float(gz.abs().max())
        if gmax <= gtol:
            break
        D = P.mT @ P
        D[:-1] = D[:-1] + (Q.mT @ Q)[1:]
        O = (Q.mT @ P)[1:]
        diag = torch.diagonal(D, dim1=-2, dim2=-1).clone()     # Gauss–Newton diagonal (> 0)
        D_gn, O_gn = D, O
        if T is not None:
            D = D + b * b * T
            D[:-1] = D[:-1] + a * a * T[1:]
            O = O + a * b * T[1:]
        S0 = float(0.5 * (r * r).sum())
        improved = False
        while lam < 1e12:
            use_gn = T is None or lam > 1e2
            Dl = (D_gn if use_gn else D) + torch.diag_embed(lam * diag)
            try:
                step = block_thomas(Dl, O_gn if use_gn else O, -grad)
            except RuntimeError:             # a singular block: more damping
                lam *= 10
                continue
            if not torch.isfinite(step).all():
                lam *= 10
                continue
            trial = q.clone()
            trial[1:] = q[1:] + step
            S1 = float(action(trial))
            if S1 < S0 or (S1 == S0 and float(step.abs().max()) == 0.0):
                q, improved = trial, True
                lam = max(lam / 10, 1e-14)
                break
            lam *= 10
        if not improved or float(step.abs().max()) <= 1e-15 * (1 + float(q.abs().max())):
            break
    return {"q": q, "iterations": it, "grad_max": gmax}
