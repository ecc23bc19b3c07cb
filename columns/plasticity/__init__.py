"""Learning rules of the learnable couplings, as objects with one protocol (``base.Plasticity``):

    hebbian   ``HebbianPlasticity``: the edge Hamiltonian of Bayesian-mechanics columns (W and P_W
              integrated; a fused CPU kernel)
    trace     ``TraceLearning``: Ẇ = r_i e_i x_j against a presynaptic trace, for
              ``TraceLearningColumn`` targets
    map       ``MapLearning``: ΔW = α_i e_i x_j(t+1) in the map step of learning ``MapColumn``
              targets

``rule_for`` picks a network's rule from the types its learnable edges target: a network learns
one way. The ``Network`` holds the rule object and calls it; it has no rule of its own.
"""

from __future__ import annotations

import torch

from graphs.errors import GraphError

from ..types.hamiltonian import HamiltonianColumn
from ..types.map import MapColumn
from ..types.trace_learning import TraceLearningColumn
from .base import EdgeTerms, Plasticity
from .hebbian import HebbianPlasticity
from .map import MapLearning, learn_update, learn_update_dense_, learning_rates
from .trace import TraceLearning


def rule_for(coupling, columns, learn_idx: torch.Tensor, plasticity=None) -> Plasticity | None:
    """The rule of the learnable edges ``learn_idx``, from the types they target (None without
    learnable edges); ``plasticity``: the rule for Hamiltonian targets (default
    ``HebbianPlasticity()``). Raises ``GraphError`` for targets that cannot learn, for targets
    that learn in different ways, and for a ``plasticity`` the targets do not use.

    Returns:
        A ``Plasticity`` or None.

    Raises:
        GraphError: a learnable edge targets a type that cannot learn, or its targets mix types
            that learn by different rules.
    """
    if plasticity is not None and not isinstance(plasticity, Plasticity):
        raise GraphError(f"plasticity must be a columns.plasticity rule (e.g. HebbianPlasticity("
                         f"…)), got {type(plasticity).__name__}")
    if not learn_idx.numel():
        return plasticity
    kinds = {}
    for t in sorted({coupling.node_types[i] for i in coupling.tgt[learn_idx].tolist()}):
        col = columns[t]
        kind = ("hebbian" if isinstance(col, HamiltonianColumn) else
                "trace" if isinstance(col, TraceLearningColumn) else
                "map" if isinstance(col, MapColumn) and col.learns else None)
        if kind is None:
            raise GraphError(f"learnable edges target columns of type {t!r}, which is not "
                             "Hamiltonian (Hebbian plasticity needs ∂H/∂ν of the target) and "
                             "has no learning rule (a TraceLearningColumn or a learning MapColumn)")
        kinds[t] = kind
    if len(set(kinds.values())) > 1:
        raise GraphError(f"learnable edges target types that learn differently ({kinds}); one "
                         "network learns one way: make the other edges fixed (learnable=False)")
    kind = next(iter(kinds.values()))
    if kind == "hebbian":
        return plasticity if plasticity is not None else HebbianPlasticity()
    if plasticity is not None:
        raise GraphError(f"plasticity={type(plasticity).__name__}(…) was given, but the learnable "
                         f"edges target {sorted(kinds)}, which learn by their own rule "
                         f"({'TraceLearning' if kind == 'trace' else 'MapLearning'}): leave "
                         "plasticity out")
    return TraceLearning() if kind == "trace" else MapLearning()


__all__ = ["Plasticity", "EdgeTerms", "HebbianPlasticity", "TraceLearning", "MapLearning",
           "rule_for", "learning_rates", "learn_update", "learn_update_dense_"]
