"""The flat state vector of a network and its named slices.

Layout (type-major, then field, then column; learnable edges last):

    y = [ type₁: field₁(n₁) field₂(n₁) … | type₂: … | W (E_l) | P_W (E_l) ]

so every (type, field) is a contiguous slice and a field's values follow the compiled node order.

Shapes: y (B, S); a block (B, n_type) or (B, E_l).
"""

from __future__ import annotations

import torch


class StateLayout:
    """Offsets of every (type, field) block and of the learnable-edge blocks. Final class."""

    def __init__(self, types: dict[str, tuple[tuple[str, ...], int]], n_learnable: int):
        self.blocks: list[tuple[str, str, int, int]] = []
        offset = 0
        for name, (fields, n) in types.items():
            for f in fields:
                self.blocks.append((name, f, offset, n))
                offset += n
        self.n_learnable = n_learnable
        self.edge_W = (offset, n_learnable)
        self.edge_P = (offset + n_learnable, n_learnable)
        self.size = offset + 2 * n_learnable

    def split(self, y: torch.Tensor):
        """Views of y: ({type: {field: (B, n)}}, W (B, E_l), P_W (B, E_l))."""
        parts: dict[str, dict[str, torch.Tensor]] = {}
        for name, f, start, n in self.blocks:
            parts.setdefault(name, {})[f] = y[..., start:start + n]
        (a, m), (b, _) = self.edge_W, self.edge_P
        return parts, y[..., a:a + m], y[..., b:b + m]

    def join(self, parts, dW=None, dP=None, out: torch.Tensor | None = None) -> torch.Tensor:
        """Inverse of ``split`` (one concatenation); with ``out`` (B, S) the blocks are copied into
        it (blocks that already are ``out``'s own views, written there by a kernel, are left as they
        are)."""
        if out is not None:
            for name, f, start, n in self.blocks:
                v, dst = parts[name][f], out[..., start:start + n]
                if not (isinstance(v, torch.Tensor) and v.data_ptr() == dst.data_ptr()
                        and v.stride() == dst.stride() and v.shape == dst.shape):
                    out[..., start:start + n] = v
            if self.n_learnable:
                for v, (a, m) in ((dW, self.edge_W), (dP, self.edge_P)):
                    dst = out[..., a:a + m]
                    if v.data_ptr() != dst.data_ptr():
                        dst.copy_(v)
            return out
        pieces = [parts[name][f] for name, f, _, _ in self.blocks]
        if self.n_learnable:
            pieces += [dW, dP]
        return torch.cat(pieces, dim=-1)

    def field_index(self, field: str, type_slices: dict[str, slice], n_nodes: int) -> torch.Tensor:
        """Index into y of ``field`` for every node (−1 where the node's type lacks it). (N,)"""
        idx = torch.full((n_nodes,), -1, dtype=torch.int64)
        for name, f, start, n in self.blocks:
            if f == field:
                sl = type_slices[name]
                idx[sl] = torch.arange(start, start + n)
        return idx

    def node_fields(self) -> list[str]:
        return list(dict.fromkeys(f for _, f, _, _ in self.blocks))

    def offset(self, type_name: str, field: str) -> int:
        for name, f, start, _ in self.blocks:
            if name == type_name and f == field:
                return start
        raise KeyError(f"type {type_name!r} has no field {field!r}")
