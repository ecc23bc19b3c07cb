"""Fixed points of a Bayesian-mechanics network: critical points of the static free energy U.

For constant s the fixed points of Hamilton's equations are exactly the critical points of

    U(q; s) = L(q, q̇ = 0; s) = ½ F(q)ᵀ M F(q) + ½ m_z (s − g(q))²     (docs/theory.md §2.1)

with momenta p* = −M F(q*). They are found by damped Newton iteration on ∇U = 0 (Hessian by
autograd) from several starts, with a backtracking line search on ‖∇U‖², so saddles and maxima
of U are found as well as minima (the MAP estimates); results are deduplicated and sorted by U.
Some positions can be held fixed (``free`` mask), e.g. the learned couplings at a checkpoint.

Shapes: q (n,) positions in ``network.canonical_pairs`` order (n = S/2); y (S,) full states.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from graphs.errors import SolverError

from .. import energy
from ..landscape import (as_time, energy_of_positions, gradient_and_hessian,  # noqa: F401
                         jacobian, newton, positions_to_state)
from .spectra import classify, eigenvalues


@dataclass
class FixedPoint:
    """One fixed point: positions q, full state y = (q, p*), U, residuals, spectrum, class."""

    q: torch.Tensor
    y: torch.Tensor
    U: float
    grad_norm: float
    rhs_norm: float
    eigenvalues: torch.Tensor
    classification: dict
    U_morse_index: int          # number of negative eigenvalues of ∇²U (0: a minimum, the MAP)
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        """The fixed point as plain Python values (lists and floats), for JSON.

        Returns:
            {"state", "positions", "U", "residual", "eigenvalues" as (re, im) pairs,
            "classification",
            "U_morse_index"}.
        """
        ev = self.eigenvalues.detach().cpu().to(torch.complex128)
        return {"state": self.y.detach().cpu().tolist(), "positions": self.q.detach().cpu().tolist(),
                "U": self.U, "grad_norm": self.grad_norm, "rhs_norm": self.rhs_norm,
                "eigenvalues": [[float(z.real), float(z.imag)] for z in ev],
                "classification": self.classification["kind"], "spectrum": self.classification,
                "U_morse_index": self.U_morse_index}


def describe(network, q: torch.Tensor, t=0.0, s=None, free=None) -> FixedPoint:
    """Full description of the fixed point at positions q (n,): p*, U, residuals, spectrum.

    Returns:
        A ``FixedPoint``.
    """
    tt = as_time(network, t)
    y = positions_to_state(network, q.unsqueeze(0))
    y = energy.momenta_at_rest(network, tt, y, s)
    g, Hs = gradient_and_hessian(network, q.unsqueeze(0), t, s,
                       torch.ones(q.numel(), dtype=torch.bool, device=q.device) if free is None else free)
    with torch.no_grad():
        rhs = network(tt, y, s)
    J = jacobian(network, y, t, s)
    ev = eigenvalues(J)
    hev = torch.linalg.eigvalsh(Hs[0]) if Hs.shape[-1] else Hs.new_zeros(0)
    return FixedPoint(q=q.detach(), y=y[0].detach(), U=float(energy_of_positions(network, q, t, s)),
                      grad_norm=float(g.abs().max()) if g.numel() else 0.0,
                      rhs_norm=float(rhs.abs().max()), eigenvalues=ev,
                      classification=classify(ev), U_morse_index=int((hev < 0).sum()))


def find_fixed_points(network, t=0.0, s=None, starts: torch.Tensor | None = None,
                      n_starts: int = 32, scale: float = 2.0, center: torch.Tensor | None = None,
                      seed: int = 0, free: torch.Tensor | None = None, tol: float | None = None,
                      dedup_tol: float = 1e-6, max_iter: int = 100) -> list[FixedPoint]:
    """All fixed points reachable from the starts, deduplicated, sorted by U.

    Starts: ``starts`` (B, n), else ``center`` (default: the positions of ``network.state``)
    + ``scale`` · N(0, 1) (seeded), the centre itself included. Fixed (non-free) positions keep
    the centre's values. Returns a list of ``FixedPoint``; an empty list if none converged.

    Returns:
        A list of ``FixedPoint`` sorted by U (empty if no start converged).
    """
    pos, _ = energy.canonical_pairs(network)
    n = pos.numel()
    if center is None:
        center = network.state.reshape(-1, network.state_size)[0][pos]
    center = center.to(network.dtype)
    if starts is None:
        g = torch.Generator(device="cpu").manual_seed(int(seed))
        noise = torch.randn(n_starts, n, generator=g, dtype=torch.float64).to(center)
        if free is not None:
            noise[:, ~free.cpu()] = 0.0
        starts = torch.cat([center.unsqueeze(0), center + scale * noise], 0)
    q, gn = newton(network, starts.to(center), t, s, free, tol, max_iter)
    tol_ok = (1e-8 if q.dtype == torch.float64 else 1e-4)
    ok = torch.isfinite(q).all(-1) & (gn <= tol_ok * (1.0 + q.abs().amax(-1)))
    found: list[torch.Tensor] = []
    for row in q[ok]:
        if all(float((row - f).abs().max()) > dedup_tol * (1.0 + float(f.abs().max())) for f in found):
            found.append(row)
    out = [describe(network, row, t, s, free) for row in found]
    return sorted(out, key=lambda fp: fp.U)


def track_fixed_points(network, values, apply, q0: torch.Tensor, t=0.0, free=None,
                       tol: float | None = None) -> list[FixedPoint | None]:
    """Follow one fixed point as a parameter changes (natural continuation).

    ``apply(network, value)`` sets the parameter (e.g. ``lambda net, s: net.set_stimulus(s)``, or
    writes learned couplings of a checkpoint into the fixed positions of q). Each value starts
    Newton from the previous solution. Returns one ``FixedPoint`` per value (None where Newton did
    not converge); the sequence is the "attractor transition" track.

    Returns:
        A list with one ``FixedPoint`` or None per value.
    """
    out, q = [], q0.detach().reshape(1, -1)
    for v in values:
        q_in = apply(network, v)
        if q_in is not None:     # apply may return positions to start from (e.g. new couplings)
            q = q_in.detach().reshape(1, -1).to(q)
        qn, gn = newton(network, q, t, None, free, tol)
        tol_ok = 1e-8 if qn.dtype == torch.float64 else 1e-4
        if not (torch.isfinite(qn).all() and float(gn[0]) <= tol_ok * (1 + float(qn.abs().max()))):
            out.append(None)
            continue
        q = qn
        fp = describe(network, qn[0], t, None, free)
        fp.extra["value"] = v
        out.append(fp)
    return out


def require_converged(points: list, what: str = "fixed point") -> list:
    """Raise SolverError when the list is empty (no start converged).

    Returns:
        ``points`` unchanged when it is not empty.

    Raises:
        SolverError: ``points`` is empty.
    """
    if not points:
        raise SolverError(f"no {what} found: Newton on ∇U did not converge from any start; "
                          "give more starts (n_starts, scale) or a centre near the expected point")
    return points
