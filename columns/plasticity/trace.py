"""Continuous-time learning against a presynaptic trace, for the learnable edges into
``TraceLearningColumn`` types (``columns.types.trace_learning``):

    dW_e/dt = r_i e_i x_j,     e = learning_error(state, ν, ν̄, s),     ν̄ = W x̄

with x̄ the sent trace (a trace learner's ``trace``, the other types' signal), r_i its
``learning_rate``. No momenta: the P_W block stays 0, and the rule adds nothing to the backward
message. Delayed networks are refused for it (``columns.solvers.delays``: the trace has no
delayed form).

Shapes: (B, N) per node; (B, E_l) per learnable edge.
"""

from __future__ import annotations

import torch

from ..types.trace_learning import TraceLearningColumn
from .base import EdgeTerms, Plasticity


class TraceLearning(Plasticity):
    """Ẇ = r_i e_i x_j on the learnable edges (module ``columns.plasticity.trace``). Final class."""

    def rates(self, terms: EdgeTerms):
        net, x = terms.network, terms.x
        trace = torch.cat([col.trace(p) if isinstance(col, TraceLearningColumn) else col.send(p)
                           for _, col, p in net.by_type(terms.parts)], dim=-1)     # (B, N) x̄
        nu_bar = net.field(terms.W_l, trace, x.shape[0])[1]
        err, rate = [], []
        for _, col, part, nu_k, nb_k, s_k in net.by_type(terms.parts, terms.nu, nu_bar, terms.s):
            learner = isinstance(col, TraceLearningColumn)
            err.append(col.learning_error(part, nu_k, nb_k, s_k) if learner
                       else torch.zeros_like(nu_k))
            r = col.learning_rate() if learner else torch.zeros(())
            rate.append(r.to(x).expand(col.n))
        post = torch.cat(rate) * torch.cat(err, -1)                       # (B, N) r_i e_i
        edges = net.edges
        return (post.index_select(-1, edges.learn_tgt) * x.index_select(-1, edges.learn_src),
                torch.zeros_like(terms.P_l), None)
