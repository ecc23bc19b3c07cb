"""Discrete-time map column types (run by ``solver="step"``).

A map column defines the state one step later from the summed input ν_i = Σ_{e: j→i} W_e x_j(t)
and the stimulus:

    state(t+1) = step(state(t), ν, s, u)      (u: uniforms (B, n) for a stochastic map, else None)

and may learn its incoming learnable couplings by a local rule (one step of the whole network in
``columns.solvers.step``):

    ΔW_e = α_i e_i x_j(t+1)   for e: j → i,   e = plasticity_error(state(t+1), ν, ν′, s)

with α_i the type's parameter named by ``learning_rate_param`` (default "alpha") and
ν′ = W x(t+1), computed only for a type with ``needs_new_field``. A type learns in its map when it
overrides ``plasticity_error``.

Shapes: state fields, ν, s, u, e (B, n).
"""

from __future__ import annotations

import abc
from typing import ClassVar

import torch

from .column import ColumnType


class MapColumn(ColumnType):
    """Abstract base of discrete-time map columns (see the docstring of module
    ``columns.types.map``)."""

    learning_rate_param: ClassVar[str] = "alpha"
    needs_new_field: bool = False

    @abc.abstractmethod
    def step(self, state: dict[str, torch.Tensor], nu: torch.Tensor, s: torch.Tensor,
             u: torch.Tensor | None) -> dict[str, torch.Tensor]:
        """The map. Shapes: state fields (B, n), ν, s (B, n), u (B, n) or None -> dict of (B, n).

        Returns:
            {field: new value (B, n)}.
        """

    @property
    def learns(self) -> bool:
        """Whether incoming learnable couplings learn in the map (``plasticity_error`` defined)."""
        return type(self).plasticity_error is not MapColumn.plasticity_error

    def plasticity_error(self, new: dict[str, torch.Tensor], nu: torch.Tensor,
                         nu_new: torch.Tensor | None, s: torch.Tensor) -> torch.Tensor:
        """e_i of the map's learning rule. Shapes: (B, n).

        Returns:
            e (B, n).

        Raises:
            NotImplementedError: the type does not learn (then ``learns`` is False).
        """
        raise NotImplementedError(f"{type(self).__name__} has no learning rule for its inputs")

    def learning_rate(self) -> torch.Tensor:
        """α_i of the rule. Shapes: () or (n,).

        Returns:
            α, () or (n,).
        """
        return getattr(self, self.learning_rate_param)
