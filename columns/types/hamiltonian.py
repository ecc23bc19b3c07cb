"""Hamiltonian column types: Hamilton's equations derived by autograd from H.

A Hamiltonian column has positions q = (q_1..q_k) (e.g. μ, a, w), momenta p = (p_1..p_k), masses
(precisions) M = diag(m_1..m_k), prior flows F(q; ν, s), a sensory prediction g(q) with precision
m_z, and sends x = φ(q_send) along its out-edges. Its Lagrangian and Hamiltonian (Kim's Bayesian
mechanics; docs/theory.md §1):

    L(q, q̇) = ½ (q̇ − F)ᵀ M (q̇ − F) + ½ m_z (s − g)²
    U(q)    = L(q, q̇ = 0) = ½ Fᵀ M F + ½ m_z (s − g)²
    H(q, p) = ½ pᵀ M⁻¹ p + pᵀ F − ½ m_z (s − g)²,        p = M (q̇ − F)
    q̇ = ∂H/∂p = M⁻¹ p + F,     ṗ = −∂H/∂q

The coupling enters through ν (the summed input, in F); ∂H/∂ν is returned so that the network can
send the backward message Wᵀ(∂H/∂ν) to the sources. A subclass supplies ``flows`` and
``prediction`` (and may override ``rhs`` with closed forms, which the shared contract test checks
against ``rhs_autograd``).

Shapes: every per-column quantity is (B, n).
"""

from __future__ import annotations

import abc
from typing import ClassVar

import torch

from graphs import autodiff
from graphs.errors import ParameterError

from .column import ColumnType

RATES = ("tanh", "linear")


class HamiltonianColumn(ColumnType):
    """Abstract base: subclasses set ``positions``, ``mass_params``, ``flows``, ``prediction``."""

    positions: tuple[str, ...] = ()
    mass_params: ClassVar[dict[str, str]] = {}
    sensory_precision: ClassVar[str] = "m_z"
    send_field: ClassVar[str] = "mu"
    trace_field: ClassVar[str | None] = None
    """A position that slow synapses (graph edges with ``synapse="slow"``) transmit instead of
    the rate φ(q_send): a presynaptic trace x̄ with its own prior flow (None: the type has none,
    and slow synapses out of it are refused)."""

    def __init__(self, n: int, rate: str = "tanh", **params):
        super().__init__(n, **params)
        if rate not in RATES:
            raise ParameterError(f"{type(self).__name__}: rate must be one of {RATES}, got {rate!r}")
        self.rate = rate
        self.fields = tuple(self.positions) + tuple("p_" + q for q in self.positions)

    # -- the model (subclass) -----------------------------------------------------------------
    @abc.abstractmethod
    def flows(self, q: dict[str, torch.Tensor], nu: torch.Tensor, s: torch.Tensor
              ) -> dict[str, torch.Tensor]:
        """Prior flows F_k(q; ν, s) for every position k. Shapes: (B, n) each.

        Returns:
            {position field: F_k (B, n)}.
        """

    @abc.abstractmethod
    def prediction(self, q: dict[str, torch.Tensor]) -> torch.Tensor:
        """Sensory prediction g(q). Shapes: (B, n).

        Returns:
            g (B, n).
        """

    def effective_stimulus(self, q: dict[str, torch.Tensor], s: torch.Tensor) -> torch.Tensor:
        """The stimulus the column sees (override for closed loops, e.g. s + κ a).

        Returns:
            The stimulus (B, n) (s itself unless overridden).
        """
        return s

    # -- derived quantities ---------------------------------------------------------------------
    def masses(self) -> dict[str, torch.Tensor]:
        """The mass (precision) of each position field.

        Returns:
            {position field: mass (n,)}.
        """
        return {k: getattr(self, self.mass_params[k]) for k in self.positions}

    def split(self, state: dict[str, torch.Tensor]):
        """The state's positions and momenta, in ``positions`` order.

        Returns:
            (q, p): two dicts {field: (B, n)}.
        """
        q = {k: state[k] for k in self.positions}
        p = {k: state["p_" + k] for k in self.positions}
        return q, p

    def sensory_energy(self, q, s) -> torch.Tensor:
        """½ m_z (s − g)². Shapes: (B, n).

        Returns:
            The energy per column (B, n).
        """
        e = self.effective_stimulus(q, s) - self.prediction(q)
        return 0.5 * getattr(self, self.sensory_precision) * e * e

    def hamiltonian(self, state, nu, s) -> torch.Tensor:
        """H per column: ½ Σ p_k²/m_k + Σ p_k F_k − ½ m_z (s − g)². Shapes: (B, n).

        Returns:
            H per column (B, n).
        """
        q, p = self.split(state)
        F = self.flows(q, nu, self.effective_stimulus(q, s))
        m = self.masses()
        H = -self.sensory_energy(q, s)
        for k in self.positions:
            H = H + 0.5 * p[k] * p[k] / m[k] + p[k] * F[k]
        return H

    def lagrangian(self, q, qdot, nu, s) -> torch.Tensor:
        """L per column: ½ Σ m_k (q̇_k − F_k)² + ½ m_z (s − g)². Shapes: (B, n).

        Returns:
            L per column (B, n).
        """
        F = self.flows(q, nu, self.effective_stimulus(q, s))
        m = self.masses()
        L = self.sensory_energy(q, s)
        for k in self.positions:
            L = L + 0.5 * m[k] * (qdot[k] - F[k]) ** 2
        return L

    def static_energy(self, q, nu, s) -> torch.Tensor:
        """U = L(q, q̇ = 0) = ½ Σ m_k F_k² + ½ m_z (s − g)². Shapes: (B, n).

        Returns:
            U per column (B, n).
        """
        return self.lagrangian(q, {k: torch.zeros_like(v) for k, v in q.items()}, nu, s)

    def momenta_from_velocity(self, q, qdot, nu, s) -> dict[str, torch.Tensor]:
        """p_k = m_k (q̇_k − F_k) (the momentum identity).

        Returns:
            {"p_" + position field: momentum (B, n)}.
        """
        F = self.flows(q, nu, self.effective_stimulus(q, s))
        m = self.masses()
        return {"p_" + k: m[k] * (qdot[k] - F[k]) for k in self.positions}

    def send(self, state):
        """The presynaptic signal: φ(q_send) = tanh or identity (``rate``).

        Returns:
            x (B, n).
        """
        x = state[self.send_field]
        return torch.tanh(x) if self.rate == "tanh" else x

    def trace(self, state) -> torch.Tensor:
        """x̄, what the slow synapses out of these columns transmit. Shapes: (B, n).

        Returns:
            x̄ (B, n).
        """
        return state[self.trace_field]

    def fused_rhs(self, state, x, nu, s, force, out) -> bool:
        """Write the column's derivatives, with the coupling's term −φ′(q_send) · force in
        ṗ_send, straight into the views ``out[field]`` (B, n) with a compiled node kernel, and
        say whether it did (``x``: what ``send`` gave this call). The network calls it on the
        CPU's fused path; the default (no such kernel) does nothing, and the network runs ``rhs``
        and adds the term itself.

        Returns:
            True when ``out`` holds every derivative of the column, else False.
        """
        return False

    def coupling_gradient(self, state) -> torch.Tensor | None:
        """∂H/∂ν when it does not depend on ν (e.g. p_μ for a prior flow F_μ = … + ν), so that
        the network can compute every edge term in one pass over the edges; None (the default)
        when it does or is not known, and the network takes it from ``rhs``.

        Returns:
            g (B, n), equal to the second value of ``rhs``, or None.
        """
        return None

    def send_derivative(self, state) -> torch.Tensor:
        """dx/dq_send = φ′(q_send). Shapes: (B, n).

        Returns:
            φ′ (B, n).
        """
        x = state[self.send_field]
        if self.rate == "tanh":
            return 1.0 - torch.tanh(x) ** 2
        return torch.ones_like(x)

    # -- Hamilton's equations -------------------------------------------------------------------
    def rhs(self, state, nu, s):
        """Hamilton's equations of the column (by autograd here; the built-in types override this
        with their closed forms, tested against it).

        Returns:
            ({field: d field/dt (B, n)}, ∂H/∂ν (B, n)).
        """
        return self.rhs_autograd(state, nu, s)

    def rhs_autograd(self, state, nu, s):
        """Hamilton's equations by autograd of ``hamiltonian``: q̇ = ∂H/∂p, ṗ = −∂H/∂q.

        Keeps the graph (create_graph) when an input already requires grad, so it can be
        differentiated again (gradcheck, Jacobians). With complex parameters H is holomorphic in
        the state and the complex derivative is used. Returns (derivatives, ∂H/∂ν).

        Returns:
            ({field: d field/dt (B, n)}, ∂H/∂ν (B, n)).
        """
        keep = autodiff.tracked(nu, *state.values())
        with torch.enable_grad():
            pairs = {k: autodiff.grad_leaf(v) for k, v in state.items()}
            nu_leaf, nu_ = autodiff.grad_leaf(nu)
            H = self.hamiltonian({k: v for k, (_, v) in pairs.items()}, nu_, s).sum()
            inputs = [pairs[k][0] for k in self.fields] + [nu_leaf]
            grads = torch.autograd.grad(H, inputs, grad_outputs=torch.ones_like(H),
                                        create_graph=keep, allow_unused=True)
        grads = [torch.zeros_like(x) if g is None else g for x, g in zip(inputs, grads)]
        if H.is_complex():   # complex parameters ([K23]): H is holomorphic; autograd returns conj(∂H/∂z)
            grads = [g.conj() for g in grads]
        dH = dict(zip(self.fields, grads[:-1]))
        out = {}
        for k in self.positions:
            out[k] = dH["p_" + k]
            out["p_" + k] = -dH[k]
        return out, grads[-1]
