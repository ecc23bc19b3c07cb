"""The abstract column type: one ``nn.Module`` holds all n columns of one type, vectorised.

A column type declares
    ``fields``          its per-column scalar state fields, in state order;
    ``param_defaults``  its parameters (each stored as a buffer of shape () or (n,));
    ``send(state)``     what it sends along edges, x (the presynaptic signal);
    ``rhs(state, ν, s)`` the time derivative of every field given the summed input
                        ν_i = Σ_{e: j→i} W_e x_j and the stimulus s_i.
and a ``type_name`` (the name graphs use, ``@register`` keys on it). Three abstract refinements
say what else a type is, and the engine asks them (``isinstance``), never per-model flags:
``HamiltonianColumn`` (equations from H; its incoming couplings can carry Hebbian plasticity),
``MapColumn`` (a discrete-time map, ``solver="step"``) and ``TraceLearningColumn`` (an ODE column
whose incoming couplings learn by a local rule in continuous time).
``forward``-style methods are pure: no writes to ``self``, no in-place ops on inputs.

Shapes:
    state: dict field -> (B, n); ν, s, x: (B, n); parameters () or (n,).
"""

from __future__ import annotations

import abc
from typing import ClassVar

import torch
from torch import nn

from graphs.errors import ParameterError


class ColumnType(nn.Module, abc.ABC):
    """Abstract base of every column type (see the docstring of module ``columns.types.column``)."""

    type_name: ClassVar[str] = ""
    fields: tuple[str, ...] = ()
    param_defaults: ClassVar[dict[str, float]] = {}
    positive_params: ClassVar[tuple[str, ...]] = ()
    nonnegative_params: ClassVar[tuple[str, ...]] = ()

    def __init__(self, n: int, **params):
        super().__init__()
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ParameterError(f"{type(self).__name__}: n (number of columns) must be a positive "
                                 f"int, got {n!r}")
        self.n = n
        unknown = sorted(set(params) - set(self.param_defaults))
        if unknown:
            raise ParameterError(f"{type(self).__name__}: unknown parameter(s) {unknown}; "
                                 f"known: {sorted(self.param_defaults)}")
        for name, default in self.param_defaults.items():
            self.register_buffer(name, self._param(name, params.get(name, default)))

    def _param(self, name: str, value) -> torch.Tensor:
        if torch.is_tensor(value):
            t = value.detach()
            if not (t.is_floating_point() or t.is_complex()):
                t = t.to(torch.float64)
        else:
            import numpy as np
            arr = np.asarray(value)
            t = torch.as_tensor(arr, dtype=torch.complex128 if np.iscomplexobj(arr) else torch.float64)
        if t.dim() > 1 or (t.dim() == 1 and t.shape[0] != self.n):
            raise ParameterError(f"{type(self).__name__}: parameter {name!r} must be a scalar or "
                                 f"have shape ({self.n},), got shape {tuple(t.shape)}")
        if t.is_complex():
            bad = ~torch.isfinite(t)
        else:
            bad = ~torch.isfinite(t)
            if name in self.positive_params:
                bad |= t <= 0
            if name in self.nonnegative_params:
                bad |= t < 0
        if bad.any():
            where = "" if t.dim() == 0 else f" at column {int(bad.nonzero()[0, 0])}"
            need = ("> 0 (a precision/mass must be positive)" if name in self.positive_params else
                    ">= 0" if name in self.nonnegative_params else "finite")
            val = t if t.dim() == 0 else t[bad][0]
            raise ParameterError(f"{type(self).__name__}: parameter {name!r} must be {need}, "
                                 f"got {val.item()}{where}")
        return t.clone()

    def params(self, index: int | None = None) -> dict[str, torch.Tensor]:
        """All parameters, or column ``index``'s own values (scalars are shared).

        Returns:
            {parameter name: tensor}: shared scalars, or (n,) per column (column ``index``:
            scalars).
        """
        out = {}
        for name in self.param_defaults:
            v = getattr(self, name)
            out[name] = v if index is None or v.dim() == 0 else v[index]
        return out

    def initial_values(self) -> dict[str, float]:
        """Default initial value of each field (0 unless a type says otherwise).

        Returns:
            {field: initial value}.
        """
        return {f: 0.0 for f in self.fields}

    @abc.abstractmethod
    def send(self, state: dict[str, torch.Tensor]) -> torch.Tensor:
        """The presynaptic signal x. Shapes: state fields (B, n) -> (B, n).

        Returns:
            x (B, n).
        """

    @abc.abstractmethod
    def rhs(self, state: dict[str, torch.Tensor], nu: torch.Tensor, s: torch.Tensor
            ) -> tuple[dict[str, torch.Tensor], torch.Tensor | None]:
        """(d field/dt for every field, ∂H/∂ν or None for a non-Hamiltonian type).

        Shapes: state fields (B, n), ν (B, n), s (B, n) -> dict of (B, n), (B, n) or None.

        Returns:
            ({field: d field/dt (B, n)}, ∂H/∂ν (B, n) or None).
        """

    def extra_repr(self) -> str:
        """The size for ``repr``.

        Returns:
            "n=…" (the number of columns).
        """
        return f"n={self.n}"
