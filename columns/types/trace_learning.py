"""ODE column types whose incoming couplings learn by a local rule in continuous time.

For a learnable edge e: j → i into such a type (``Network.forward`` evaluates it):

    dW_e/dt = r_i e_i x_j,     e = learning_error(state, ν, ν̄, s),     ν̄ = W x̄

with x the sent signal, x̄ = ``trace(state)`` a presynaptic trace (e.g. a low-pass copy of x: the
prediction is made from "a moment ago", which keeps the temporal asymmetry of sequence learning;
docs/theory.md §6) and r_i = ``learning_rate()``. Learnable edges have no momenta here (their
P_W block stays 0).

Shapes: state fields, ν, ν̄, s, e (B, n); r () or (n,).
"""

from __future__ import annotations

import abc

import torch

from .column import ColumnType


class TraceLearningColumn(ColumnType):
    """Abstract base (see the docstring of module ``columns.types.trace_learning``)."""

    @abc.abstractmethod
    def trace(self, state: dict[str, torch.Tensor]) -> torch.Tensor:
        """x̄, the presynaptic trace the rule predicts from. Shapes: (B, n).

        Returns:
            x̄ (B, n).
        """

    @abc.abstractmethod
    def learning_error(self, state: dict[str, torch.Tensor], nu: torch.Tensor,
                       nu_trace: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """e_i. Shapes: (B, n).

        Returns:
            e (B, n).
        """

    @abc.abstractmethod
    def learning_rate(self) -> torch.Tensor:
        """r_i. Shapes: () or (n,).

        Returns:
            r, () or (n,).
        """
