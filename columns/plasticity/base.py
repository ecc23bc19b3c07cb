"""The protocol of a learning rule for the learnable couplings (``Plasticity``) and what a rule
sees at one dynamics call (``EdgeTerms``).

A rule says where it learns and which edge fields it integrates:

- ``continuous`` rules learn in the dynamics call: ``rates`` gives Ẇ and Ṗ_W on the learnable
  edges (B, E_l) and A (B, E_l) or None, the rule's share of the backward message: for an edge
  Hamiltonian H_e that depends on the two rates only through their product, A_e = ∂H_e/∂(x_i x_j),
  and the coupling room adds ∂H_edges/∂x_k = Σ_{e out of k} A_e x_i + Σ_{e into k} A_e x_j to
  the message Wᵀg it sends back to the momenta of the sending columns;
- map rules (``continuous = False``) learn in the map step (``solver="step"``): ``update`` gives
  the new W on the learnable edges;
- ``momenta``: whether the P_W block is integrated (else it stays 0);
- ``kernel_params``: the per-edge parameters of the fused CPU kernel when the rule has one (the
  coupling room then runs the edge terms and the message in the same pass), else None.

Shapes: W_l, P_l (B, E_l); x, g (B, N); the gathers x_src, x_tgt, g_tgt (B, E).
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn


class EdgeTerms:
    """What a continuous rule sees at one dynamics call, with the edge gathers made once.

    parts (the state by type and field), nu, s (B, N), x (B, N) the sent signal, x_edges (B, E)
    the signal arriving on each edge when delayed or slow (else None), g (B, N) ∂H/∂ν (zeros for
    types without one), W (B|1, E) every edge's weight, W_l, P_l (B, E_l), u_edges (B, E) the
    learning rule's presynaptic signal where it differs from the arriving one (slow synapses)."""

    def __init__(self, network, parts, nu, s, x, x_edges, g, W, W_l, P_l, u_edges=None):
        self.network, self.parts, self.nu, self.s, self.x = network, parts, nu, s, x
        self.x_edges, self.g, self.W, self.W_l, self.P_l = x_edges, g, W, W_l, P_l
        self.u_edges = u_edges
        self._gathered: dict = {}                # made once, on first use (no lock: compilable)

    @property
    def x_src(self) -> torch.Tensor:
        """x_j arriving on every edge e: j → i (delayed when the network has delays)."""
        if "x_src" not in self._gathered:
            cp = self.network.coupling
            self._gathered["x_src"] = (cp.gather_source(self.x) if self.x_edges is None
                                       else self.x_edges)
        return self._gathered["x_src"]

    @property
    def u_src(self) -> torch.Tensor:
        """The presynaptic signal of the learning rule on every edge: x_src, except on slow
        synapses (x̄_j − x_j; ``columns.coupling.edges``)."""
        return self.x_src if self.u_edges is None else self.u_edges

    @property
    def x_tgt(self) -> torch.Tensor:
        """x_i of every edge's target."""
        if "x_tgt" not in self._gathered:
            self._gathered["x_tgt"] = self.network.coupling.gather_target(self.x)
        return self._gathered["x_tgt"]

    @property
    def g_tgt(self) -> torch.Tensor:
        """g_i of every edge's target."""
        if "g_tgt" not in self._gathered:
            self._gathered["g_tgt"] = self.network.coupling.gather_target(self.g)
        return self._gathered["g_tgt"]

    def learnable(self, v: torch.Tensor) -> torch.Tensor:
        """Edge values (B, E) restricted to the learnable edges (B, E_l).

        Returns:
            (B, E_l).
        """
        net = self.network
        return v if net.edges.all_learnable else v.index_select(-1, net.edges.learn_idx)


class Plasticity(nn.Module):
    """Abstract base of the learning rules (module ``columns.plasticity.base``)."""

    continuous: ClassVar[bool] = True
    momenta: ClassVar[bool] = False

    def check_edges(self, n_learnable: int) -> None:
        """Check per-edge parameters against the number of learnable edges.

        Raises:
            ParameterError: a per-edge parameter whose length is not the number of learnable edges.
        """

    def rates(self, terms: EdgeTerms):
        """(Ẇ, Ṗ_W, A or None) on the learnable edges (continuous rules).

        Returns:
            (Ẇ (B, E_l), Ṗ_W (B, E_l), A (B, E_l) or None).

        Raises:
            NotImplementedError: a map rule (it learns in the map step).
        """
        raise NotImplementedError(f"{type(self).__name__} does not learn in the dynamics call")

    def update(self, network, parts, new, nu, s, x_new, arriving_new, W_l) -> torch.Tensor:
        """The learnable edges' W after one map step (map rules).

        Returns:
            W_l (B, E_l) after the step.

        Raises:
            NotImplementedError: a continuous rule.
        """
        raise NotImplementedError(f"{type(self).__name__} does not learn in a map step")

    def kernel_params(self, dtype) -> list[torch.Tensor] | None:
        """The fused kernel's per-edge parameters, or None (no fused kernel).

        Returns:
            A list of per-edge parameter tensors, or None.
        """
        return None
