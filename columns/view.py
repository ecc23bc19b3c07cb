"""Per-column views: what the user sees of "one column" inside a vectorised type module.

``network.column(label)`` exposes that column's own state slices (μ, w, p_μ, p_w, …), its
incoming coupling weights (its CSR row: its dendritic synapses) and its parameters, without one
Python object per column in the hot path. State attributes are views into ``network.state``
(writing through them sets initial conditions).

Shapes: a field (B,); ``incoming_weights`` (B, k) with k the column's in-degree.
"""

from __future__ import annotations

import torch

from graphs.errors import StateError


class ColumnView:
    """A column's own slices of its type module and of the network state. Final class."""

    def __init__(self, network, index: int):
        object.__setattr__(self, "_net", network)
        object.__setattr__(self, "index", index)
        cp = network.coupling
        t = cp.node_types[index]
        object.__setattr__(self, "type_name", t)
        object.__setattr__(self, "local_index", index - cp.type_slices[t].start)

    @property
    def label(self) -> str:
        return self._net.coupling.node_labels[self.index]

    @property
    def region(self) -> str:
        return self._net.coupling.regions[self.index]

    @property
    def module(self):
        """The type module that holds this column (and its siblings)."""
        return self._net.columns[self.type_name]

    @property
    def fields(self) -> tuple[str, ...]:
        return self.module.fields

    @property
    def params(self) -> dict[str, torch.Tensor]:
        """This column's own parameter values."""
        return self.module.params(self.local_index)

    def _offset(self, field: str) -> int:
        return self._net.layout.offset(self.type_name, field) + self.local_index

    def __getattr__(self, field: str) -> torch.Tensor:
        if field.startswith("_") or field not in self.module.fields:
            raise AttributeError(f"column {self.label!r} (type {self.type_name!r}) has no field "
                                 f"{field!r}; fields: {self.module.fields}")
        return self._net.state[:, self._offset(field)]

    def __setattr__(self, field: str, value) -> None:
        if field not in self.module.fields:
            raise AttributeError(f"column {self.label!r} has no field {field!r}")
        v = torch.as_tensor(value, dtype=self._net.dtype)
        B = self._net.state.shape[0]
        if v.dim() > 1 or (v.dim() == 1 and v.shape[0] not in (1, B)):
            raise StateError(f"column {self.label!r}: {field} takes a scalar or ({B},) (one value "
                             f"per batch member), got shape {tuple(v.shape)}")
        if not torch.isfinite(v).all():
            raise StateError(f"column {self.label!r}: {field} must be finite, got {value!r}")
        self._net.state[:, self._offset(field)] = v

    def state(self) -> dict[str, torch.Tensor]:
        """All fields of this column. Shapes: dict field -> (B,)."""
        return {f: getattr(self, f) for f in self.module.fields}

    @property
    def sources(self) -> list[str]:
        """Labels of the presynaptic columns, in the order of ``incoming_weights``."""
        cp = self._net.coupling
        return [cp.node_labels[j] for j in cp.src[cp.incoming(self.index)].tolist()]

    @property
    def incoming_weights(self) -> torch.Tensor:
        """This column's incoming coupling weights W[i, ·] (learned ones from the state). (B, k)"""
        net = self._net
        _, W_l, _ = net.layout.split(net.state)
        W = net.edge_weights(W_l) if net.coupling.n_edges else net.coupling.weight0.unsqueeze(0)
        return W[:, net.coupling.incoming(self.index)]

    def __repr__(self) -> str:
        return f"ColumnView({self.label!r}, type={self.type_name!r}, index={self.index})"
