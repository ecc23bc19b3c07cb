"""States of a network: the initial state and the validation of a given one.

Shapes: y (B, S) (see ``columns.layout``); field values (), (N,) or (B, N).
"""

from __future__ import annotations

import torch

from graphs.errors import DeviceError, StateError
from graphs.values import is_integer, is_number


def initial_state(network, batch: int = 1, values: dict | None = None, noise: float = 0.0,
                  seed: int | None = None) -> torch.Tensor:
    """A state (B, S): fields from ``values`` (scalar, (N,) or (B, N)), else each type's default;
    W = the graph's weights, P_W = 0; plus ``noise`` · N(0, 1) on every field (seeded)."""
    if not is_integer(batch, 1):
        raise StateError(f"initial_state: batch must be an integer >= 1, got {batch!r}")
    if not is_number(noise, 0):
        raise StateError(f"initial_state: noise must be a finite number >= 0 (the standard "
                         f"deviation), got {noise!r}")
    values = dict(values or {})
    unknown = sorted(set(values) - set(network.layout.node_fields()) - {"W", "p_W"})
    if unknown:
        raise StateError(f"unknown state field(s) {unknown}; fields: {network.layout.node_fields()}")
    y = torch.zeros(batch, network.layout.size, dtype=network.dtype, device=network.device)
    for name, f, start, n in network.layout.blocks:
        sl = network.coupling.type_slices[name]
        if f in values:
            v = torch.as_tensor(values[f], dtype=network.dtype, device=network.device)
            if v.dim() >= 1 and v.shape[-1] == network.n_nodes:
                v = v[..., sl]
            try:
                y[:, start:start + n] = v.expand(batch, n) if v.dim() < 2 else v
            except RuntimeError as err:
                raise StateError(f"initial value of {f!r} has shape {tuple(v.shape)}; expected (), "
                                 f"({network.n_nodes},) or ({batch}, {network.n_nodes})") from err
        else:
            y[:, start:start + n] = network.columns[name].initial_values()[f]
    if network.layout.n_learnable:
        a, m = network.layout.edge_W
        y[:, a:a + m] = network.coupling.weight0[network.learn_idx]
    if noise:
        g = torch.Generator(device="cpu").manual_seed(0 if seed is None else int(seed))
        y = y + noise * torch.randn(y.shape, generator=g, dtype=network.dtype).to(network.device)
    return y


def check_state(network, y: torch.Tensor, name: str = "state") -> torch.Tensor:
    """Validate shape, device, dtype and finiteness of a state; return it as (B, S)."""
    if not torch.is_tensor(y):
        raise StateError(f"{name} must be a torch.Tensor, got {type(y).__name__}")
    if y.device != network.device:
        raise DeviceError(f"{name} is on {y.device} but the network is on {network.device}; "
                          "use network.to(device) and a state on the same device")
    if y.dtype != network.dtype:
        raise StateError(f"{name} has dtype {y.dtype} but the network uses {network.dtype}")
    y = y.unsqueeze(0) if y.dim() == 1 else y
    if y.dim() != 2 or y.shape[-1] != network.layout.size:
        raise StateError(f"{name} must have shape (S,) or (B, S) with S = {network.layout.size}, got "
                         f"{tuple(y.shape)}")
    if not torch.isfinite(y).all():
        raise StateError(f"{name} contains non-finite values")
    return y
