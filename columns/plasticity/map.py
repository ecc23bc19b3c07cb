"""Learning in the map step, for the learnable edges into learning ``MapColumn`` types
(``columns.types.map``; e.g. the FEP node):

    W_e ← W_e + α_i e_i x_j(t+1),   e = plasticity_error(state(t+1), ν, ν′, s)

with α_i the target type's ``learning_rate`` (0 for a type that does not learn) and ν′ = W x(t+1)
only for a type that asks for it; with delays x_j(t+1) is the signal that arrives (delayed).
``learn_update_dense_`` is the same rule on dense couplings (the batched reproductions). No
momenta: the P_W block stays 0.

Shapes: W_l (B, E_l); err, x (B, N); α (E_l,) or (B, 1).
"""

from __future__ import annotations

import torch

from ..types.map import MapColumn
from .base import Plasticity


def learning_rates(network) -> torch.Tensor:
    """α of each learnable edge's target column (0 where the type does not learn), (E_l,).

    Returns:
        α per learnable edge (E_l,).
    """
    rate = [col.learning_rate().to(network.real_dtype).expand(col.n)
            if isinstance(col, MapColumn) and col.learns else
            torch.zeros(col.n, dtype=network.real_dtype, device=network.device)
            for col in network.columns.values()]
    return torch.cat(rate)[network.edges.learn_tgt]


def learn_update(src: torch.Tensor, tgt: torch.Tensor, W_l: torch.Tensor, err: torch.Tensor,
                 x_new: torch.Tensor, alpha_l: torch.Tensor,
                 pre: torch.Tensor | None = None) -> torch.Tensor:
    """W_e + α e_i x_j(t+1) on the learnable edges e: j → i (src, tgt their end points);
    ``pre`` (B, E_l), when given, is the presynaptic signal that arrives (delayed x_j).

    Shapes: src, tgt (E_l,); W_l (B, E_l); err, x_new (B, N); α (E_l,) or (B, 1) -> (B, E_l).

    Returns:
        The new weights (B, E_l).
    """
    pre = x_new.index_select(-1, src) if pre is None else pre
    return W_l + alpha_l * err.index_select(-1, tgt) * pre


def learn_update_dense_(W: torch.Tensor, err: torch.Tensor, x_new: torch.Tensor,
                        alpha: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """The same rule on dense couplings W[target, source], in place: W += α e xᵀ, kept on the
    graph by ``mask`` (N, N) (1 on edges, 0 elsewhere; None: the complete graph without
    self-loops, the diagonal set back to 0). Shapes: W (B, N, N); err, x (B, N); α (B, 1).

    Returns:
        ``W``, changed in place.
    """
    W.addcmul_((alpha * err).unsqueeze(-1), x_new.unsqueeze(-2))
    if mask is None:
        W.diagonal(dim1=-2, dim2=-1).zero_()
    else:
        W.mul_(mask)
    return W


class MapLearning(Plasticity):
    """ΔW = α_i e_i x_j(t+1) in the map step (module ``columns.plasticity.map``). Final class."""

    continuous = False

    def update(self, network, parts, new, nu, s, x_new, arriving_new, W_l,
               alpha_l: torch.Tensor | None = None) -> torch.Tensor:
        """W on the learnable edges after the step: ``parts``, ``new`` the states before and
        after, ν the field before, x_new the sent signal after, ``arriving_new`` (B, E) its
        delayed arrival (or None). Shapes: (B, E_l).

        Returns:
            W_l (B, E_l).
        """
        nu_new = None
        if any(getattr(c, "needs_new_field", False) for c in network.columns.values()):
            nu_new = network.field(W_l, x_new, x_new.shape[0], arriving_new)[1]
        err = [col.plasticity_error(new[k], nu_k, None if nu_new is None else nn_k, s_k)
               if col.learns else torch.zeros_like(nu_k)
               for k, col, _, nu_k, nn_k, s_k in network.by_type(parts, nu, nu if nu_new is None
                                                                 else nu_new, s)]
        err = torch.cat(err, -1)
        alpha_l = learning_rates(network) if alpha_l is None else alpha_l
        edges = network.edges
        pre = None if arriving_new is None else arriving_new.index_select(-1, edges.learn_idx)
        return learn_update(edges.learn_src, edges.learn_tgt, W_l, err, x_new, alpha_l, pre)
