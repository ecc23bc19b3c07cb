"""Linearisation of a network at a state: Jacobian, spectrum, classification, Hamiltonian residuals.

For Hamilton's equations ẏ = J_S ∇H the Jacobian J = ∂ẏ/∂y is a Hamiltonian matrix
(docs/theory.md §2.2):
with the canonical ordering y = (q, p) and S = [[0, I], [−I, 0]],

    trace J = 0,      S·J = (S·J)ᵀ,      λ ∈ spec J  ⇒  −λ ∈ spec J.

A fixed point is classified by its eigenvalue pairs: real pairs ±λ (saddle directions),
imaginary pairs ±iω (centre directions), complex quartets ±a ± ib (focus-saddle), zero pairs
(degenerate). No fixed point of a Hamiltonian flow is asymptotically stable.

Shapes: y (S,) or (1, S); J (S, S); eigenvalues (S,) complex.
"""

from __future__ import annotations

import torch

from ..landscape import as_time, jacobian  # noqa: F401  (re-exported: columns.analysis)


def eigenvalues(J: torch.Tensor) -> torch.Tensor:
    """Eigenvalues sorted by (real part, imaginary part), descending. Shapes: (S, S) -> (S,).

    Returns:
        The eigenvalues (S,), complex.
    """
    import numpy as np
    ev = torch.linalg.eigvals(J)
    e = ev.detach().cpu().numpy()
    order = np.lexsort((-e.imag.round(12), -e.real.round(12)))
    return ev[torch.as_tensor(order, device=ev.device)]


def classify(ev: torch.Tensor, tol: float = 1e-7) -> dict:
    """Classify a Hamiltonian fixed point from its eigenvalues.

    Returns {"kind": str, "real_pairs", "imaginary_pairs", "complex_quartets", "zero_pairs",
    "max_real": float}. kind ∈ "centre" (all ±iω: neutrally stable), "saddle" (all real),
    "saddle-centre", "focus-saddle" (any complex quartet), "degenerate" (a zero pair), or
    "not Hamiltonian" when the spectrum is not ±-paired.

    Returns:
        The dict described above.
    """
    ev = ev.to(torch.complex128)
    scale = max(1.0, float(ev.abs().max()))
    re, im = ev.real.abs() > tol * scale, ev.imag.abs() > tol * scale
    n_real = int((re & ~im).sum()) // 2
    n_imag = int((~re & im).sum()) // 2
    n_quart = int((re & im).sum()) // 4
    n_zero = int((~re & ~im).sum()) // 2
    paired = pairing_residual(ev) <= 1e-6 * scale
    if not paired:
        kind = "not Hamiltonian"
    elif n_zero:
        kind = "degenerate"
    elif n_quart:
        kind = "focus-saddle"
    elif n_real and n_imag:
        kind = "saddle-centre"
    elif n_real:
        kind = "saddle"
    else:
        kind = "centre"
    return {"kind": kind, "real_pairs": n_real, "imaginary_pairs": n_imag,
            "complex_quartets": n_quart, "zero_pairs": n_zero, "max_real": float(ev.real.max())}


def pairing_residual(ev: torch.Tensor) -> float:
    """max_λ min_μ |λ + μ| over the spectrum: 0 when eigenvalues come in ±λ pairs.

    Returns:
        The residual, a float.
    """
    d = (ev.unsqueeze(0) + ev.unsqueeze(1)).abs()
    return float(d.min(dim=1).values.max())


def symplectic_matrix(n: int, dtype=torch.float64, device=None) -> torch.Tensor:
    """S = [[0, I], [−I, 0]] for n positions. Shapes: (2n, 2n).

    Returns:
        S (2n, 2n).
    """
    eye = torch.eye(n, dtype=dtype, device=device)
    zero = torch.zeros_like(eye)
    return torch.cat([torch.cat([zero, eye], 1), torch.cat([-eye, zero], 1)], 0)


def hamiltonian_residuals(J: torch.Tensor) -> dict:
    """Residuals of the Hamiltonian-matrix identities of J (canonical order (q, p)).

    Returns {"trace": |tr J| / ‖J‖, "symmetry": ‖SJ − (SJ)ᵀ‖ / ‖SJ‖, "pairing":
    max_λ min_μ |λ + μ| / max|λ|} — all relative, 0 for an exact Hamiltonian matrix.

    Returns:
        {"trace", "symmetry", "pairing"} as floats.
    """
    n = J.shape[0] // 2
    S = symplectic_matrix(n, J.dtype, J.device)
    SJ = S @ J
    norm = float(torch.linalg.matrix_norm(J)) or 1.0
    ev = torch.linalg.eigvals(J)
    return {"trace": abs(float(torch.trace(J).abs())) / norm,
            "symmetry": float(torch.linalg.matrix_norm(SJ - SJ.mT)) / max(
                float(torch.linalg.matrix_norm(SJ)), 1e-300),
            "pairing": pairing_residual(ev) / max(float(ev.abs().max()), 1e-300)}
