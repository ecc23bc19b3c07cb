"""Canonical neural network ↔ binary-factor POMDP: one object, two parameterisations (Isomura et al. 2022).

Bayes side (``BayesPOMDP``): Dirichlet counts and priors of a POMDP whose hidden states s^j,
observations o^i and decisions δ^l are binary factors:

    A  (2, 2, Nx, No)  counts of (o_i = a, s_j = b) at [a, b, j, i]        likelihood
    B  (2, 2, Nx, Nx)  counts of (s^k_{t−1} = a, s^j_t = b) at [a, b, j, k]  Bayes-inverted transitions B†
    C  (2, 2, Ny, Nx)  counts of (s^k_{t−1} = a, δ^l_t = b) at [a, b, l, k]  Bayes-inverted decisions C†
    D  (Nx,)  P(s_j = 1);   E (Ny,)  P(δ_l = 1)

Network side (``CanonicalNetwork``): synaptic logits and threshold factors, sig = logistic,

    W1 = logit P(o = 1 | s = 1),  W0 = logit P(o = 1 | s = 0)        (Nx, No)
    K1, K0 = logit P(s_{t−1} = 1 | s_t = 1 or 0)                     (Nx, Nx)
    V1, V0 = logit P(s_{t−1} = 1 | δ_t = 1 or 0)                     (Ny, Nx)
    φ1, φ0 = ln D, ln(1 − D)  (Nx,);   ψ1, ψ0 = ln E, ln(1 − E)  (Ny,)

plus the synaptic strengths nW1 = A[1,1] + A[0,1] etc. (the homeostatic accumulators ⟨x 1ᵀ⟩ with
their prior counts), which the Hebbian accumulators ⟨x oᵀ⟩ = nW1 ⊙ sig(W1) complete: so
``to_bayes(to_network(b)) == b`` (to rounding). The probabilities are Dirichlet *means*
(E[ln A] taken as the log of the mean: the identity L = F holds exactly only then).

Derived thresholds (docs/theory.md §7), Ŵ = sig(W):

    h1 = ln(1 − Ŵ1)·1 + ln(1 − K̂1)·1 + φ1,  h0 likewise,  h = h1 − h0
    m1 = ln(1 − V̂1)·1 + ψ1,                  m0 likewise,  m = m1 − m0
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import torch
import torch.nn.functional as F

from graphs.errors import ParameterError


def log1m_sig(w: torch.Tensor) -> torch.Tensor:
    """ln(1 − sig(w)) = −softplus(w), stable for any w."""
    return -F.softplus(w)


def _pair_mean(c: torch.Tensor, b: int) -> torch.Tensor:
    """P(first = 1 | second = b) from counts c (2, 2, ...)."""
    return c[1, b] / (c[1, b] + c[0, b])


@dataclass
class BayesPOMDP:
    """Dirichlet counts (A, B, C) and priors (D, E) of the binary-factor POMDP (shapes above)."""

    A: torch.Tensor
    B: torch.Tensor
    C: torch.Tensor
    D: torch.Tensor
    E: torch.Tensor

    def __post_init__(self):
        for name in ("A", "B", "C"):
            c = getattr(self, name)
            if c.dim() != 4 or c.shape[:2] != (2, 2):
                raise ParameterError(f"BayesPOMDP: {name} must have shape (2, 2, n, m), got {tuple(c.shape)}")
            if not torch.isfinite(c).all() or (c <= 0).any():
                raise ParameterError(f"BayesPOMDP: Dirichlet counts {name} must be finite and > 0")
        for name in ("D", "E"):
            p = getattr(self, name)
            if not torch.isfinite(p).all() or ((p <= 0) | (p >= 1)).any():
                raise ParameterError(f"BayesPOMDP: prior {name} must lie in (0, 1)")
        nx_, no = self.A.shape[2:]
        if self.B.shape[2:] != (nx_, nx_) or self.C.shape[3] != nx_ or self.D.shape != (nx_,) \
                or self.E.shape != (self.C.shape[2],):
            raise ParameterError(f"BayesPOMDP: inconsistent sizes A {tuple(self.A.shape)}, B "
                                 f"{tuple(self.B.shape)}, C {tuple(self.C.shape)}, D {tuple(self.D.shape)}, "
                                 f"E {tuple(self.E.shape)}")

    def means(self) -> dict[str, torch.Tensor]:
        """Dirichlet means: A1 = P(o=1|s=1), A0, B1, B0, C1, C0 (each (n, m)).

        Returns:
            {"A1", "A0", "B1", "B0", "C1", "C0"}: each (n, m).
        """
        return {"A1": _pair_mean(self.A, 1), "A0": _pair_mean(self.A, 0),
                "B1": _pair_mean(self.B, 1), "B0": _pair_mean(self.B, 0),
                "C1": _pair_mean(self.C, 1), "C0": _pair_mean(self.C, 0)}


@dataclass
class CanonicalNetwork:
    """Synaptic logits, threshold factors and strengths of the canonical network (shapes above)."""

    W1: torch.Tensor
    W0: torch.Tensor
    K1: torch.Tensor
    K0: torch.Tensor
    V1: torch.Tensor
    V0: torch.Tensor
    phi1: torch.Tensor
    phi0: torch.Tensor
    psi1: torch.Tensor
    psi0: torch.Tensor
    nW1: torch.Tensor
    nW0: torch.Tensor
    nK1: torch.Tensor
    nK0: torch.Tensor
    nV1: torch.Tensor
    nV0: torch.Tensor

    @property
    def W(self):
        return self.W1 - self.W0

    @property
    def K(self):
        return self.K1 - self.K0

    @property
    def V(self):
        return self.V1 - self.V0

    def thresholds(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(h (Nx,), m (Ny,)): h = h1 − h0, m = m1 − m0 (module ``columns.canonical.params``).

        Returns:
            (h (Nx,), m (Ny,)).
        """
        h1 = log1m_sig(self.W1).sum(-1) + log1m_sig(self.K1).sum(-1) + self.phi1
        h0 = log1m_sig(self.W0).sum(-1) + log1m_sig(self.K0).sum(-1) + self.phi0
        m1 = log1m_sig(self.V1).sum(-1) + self.psi1
        m0 = log1m_sig(self.V0).sum(-1) + self.psi0
        return h1 - h0, m1 - m0

    def replace(self, **changes) -> "CanonicalNetwork":
        """A copy with the fields in ``changes`` replaced.

        Returns:
            A new ``CanonicalNetwork``.
        """
        vals = {f.name: getattr(self, f.name) for f in fields(self)}
        vals.update(changes)
        return CanonicalNetwork(**vals)


def to_network(b: BayesPOMDP) -> CanonicalNetwork:
    """Counts and priors -> synaptic logits, thresholds factors, strengths (exact).

    Returns:
        The ``CanonicalNetwork`` with the same free energy.
    """
    mu = b.means()
    lg = torch.logit
    return CanonicalNetwork(
        W1=lg(mu["A1"]), W0=lg(mu["A0"]), K1=lg(mu["B1"]), K0=lg(mu["B0"]),
        V1=lg(mu["C1"]), V0=lg(mu["C0"]),
        phi1=torch.log(b.D), phi0=torch.log1p(-b.D), psi1=torch.log(b.E), psi0=torch.log1p(-b.E),
        nW1=b.A[1, 1] + b.A[0, 1], nW0=b.A[1, 0] + b.A[0, 0],
        nK1=b.B[1, 1] + b.B[0, 1], nK0=b.B[1, 0] + b.B[0, 0],
        nV1=b.C[1, 1] + b.C[0, 1], nV0=b.C[1, 0] + b.C[0, 0])


def _counts(n1, w1, n0, w0) -> torch.Tensor:
    p1, p0 = torch.sigmoid(w1), torch.sigmoid(w0)
    return torch.stack([torch.stack([n0 * (1 - p0), n1 * (1 - p1)]),
                        torch.stack([n0 * p0, n1 * p1])])


def to_bayes(net: CanonicalNetwork) -> BayesPOMDP:
    """Synaptic logits and strengths -> Dirichlet counts; threshold factors -> D, E (exact).

    D = exp(φ1) requires φ1, φ0 to be a normalised pair (exp φ1 + exp φ0 = 1); thresholds
    estimated from activity give only φ1 − φ0, from which D = sig(φ1 − φ0) (``columns.canonical.reverse``).

    Returns:
        The ``BayesPOMDP`` (inverse of ``to_network``).
    """
    return BayesPOMDP(A=_counts(net.nW1, net.W1, net.nW0, net.W0),
                      B=_counts(net.nK1, net.K1, net.nK0, net.K0),
                      C=_counts(net.nV1, net.V1, net.nV0, net.V0),
                      D=torch.sigmoid(net.phi1 - net.phi0), E=torch.sigmoid(net.psi1 - net.psi0))


def random_bayes(nx_: int, no: int, ny: int, generator: torch.Generator | None = None,
                 dtype=torch.float64, scale: float = 20.0) -> BayesPOMDP:
    """A random POMDP (counts uniform in (0.5, 0.5 + scale), priors in (0.05, 0.95)) for tests.

    Returns:
        A ``BayesPOMDP``.
    """
    def counts(n, m):
        return 0.5 + scale * torch.rand(2, 2, n, m, generator=generator, dtype=dtype)

    def prob(n):
        return 0.05 + 0.9 * torch.rand(n, generator=generator, dtype=dtype)
    return BayesPOMDP(A=counts(nx_, no), B=counts(nx_, nx_), C=counts(ny, nx_), D=prob(nx_), E=prob(ny))


def random_problem(seed: int, T: int | None = None):
    """A random identity check (seeded): (bayes, network, o (T, No), x (T, Nx), y (T, Ny),
    gamma (T,), x0 (Nx,)) with sizes in 1..6, T in 1..7 unless given, rates in (0.02, 0.98).

    Returns:
        The tuple described above.
    """
    g = torch.Generator().manual_seed(seed)
    nx_, no, ny = (int(v) for v in torch.randint(1, 7, (3,), generator=g))
    T = T or int(torch.randint(1, 8, (1,), generator=g))
    b = random_bayes(nx_, no, ny, g)

    def r(*shape):
        return 0.02 + 0.96 * torch.rand(*shape, generator=g, dtype=torch.float64)
    o = (torch.rand(T, no, generator=g, dtype=torch.float64) < 0.5).to(torch.float64)
    return b, to_network(b), o, r(T, nx_), r(T, ny), torch.rand(T, generator=g, dtype=torch.float64), r(nx_)
