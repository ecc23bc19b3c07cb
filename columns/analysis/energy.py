"""Energy along trajectories: H(t), its drift, and the power dH/dt = (∂H/∂s) ṡ.

For constant s the Hamiltonian H(q, p; s) is conserved; for a time-varying stimulus
(docs/theory.md §2.4)

    dH/dt = ∂H/∂t = (∂H/∂s) · ṡ = Σ_i (p_iᵀ ∂F_i/∂s_i − m_z (s_i − g_i)) ṡ_i,

computed here by autograd in s (∂H/∂s) and in t through the stimulus (ṡ; a central difference
when the stimulus is not differentiable in t).

Shapes: t (T,); Y (T, B, S) or (T, S); H (T, B).
"""

from __future__ import annotations

import torch

from .. import energy
from .spectra import as_time


def hamiltonian_along(network, t, Y: torch.Tensor) -> torch.Tensor:
    """H(y(t_k); s(t_k)) for every sample. Shapes: t (T,), Y (T, B, S) -> (T, B).

    Returns:
        H (T, B).
    """
    Y = Y.reshape(Y.shape[0], -1, network.state_size)
    t = torch.as_tensor(t)
    with torch.no_grad():
        return torch.stack([energy.hamiltonian(network, as_time(network, float(tk)), Y[k].to(network.device))
                            for k, tk in enumerate(t.tolist())]).cpu()


def energy_drift(network, t, Y: torch.Tensor) -> dict:
    """{"max_abs": max_k |H_k − H_0|, "relative": that / max(|H_0|, 1), "final": H_T − H_0}.

    Returns:
        {"max_abs", "relative", "final"} as floats.
    """
    H = hamiltonian_along(network, t, Y)
    d = H - H[0]
    return {"max_abs": float(d.abs().max()), "relative": float(d.abs().max() / H[0].abs().clamp(min=1).max()),
            "final": d[-1].tolist()}


def stimulus_rate(network, t, batch: int = 1, eps: float = 1e-5) -> torch.Tensor:
    """ṡ(t) (B, N): autograd in t through the stimulus when possible, else a central difference.

    Returns:
        ṡ (B, N).
    """
    tt = as_time(network, t)
    if network.stimulus is None:
        return torch.zeros(batch, network.n_nodes, dtype=network.dtype, device=network.device)
    try:
        with torch.enable_grad():
            x = tt.detach().clone().requires_grad_(True)
            s = network.stimulus_at(x, batch)
            if s.requires_grad:
                rows = torch.autograd.grad(s.sum(), x)[0]   # the same ṡ for all columns?
                if s.shape[-1] == 1 or torch.allclose(s, s[..., :1]):
                    return rows.expand(batch, network.n_nodes).to(network.dtype)
    except (RuntimeError, TypeError):
        pass
    hi = network.stimulus_at(tt + eps, batch)
    lo = network.stimulus_at(tt - eps, batch)
    return (hi - lo) / (2 * eps)


def power(network, t, y: torch.Tensor) -> torch.Tensor:
    """dH/dt at (t, y) along the flow: (∂H/∂s) · ṡ. Shapes: y (B, S) -> (B,).

    Returns:
        dH/dt (B,).
    """
    y = y.reshape(-1, network.state_size)
    B = y.shape[0]
    tt = as_time(network, t)
    with torch.enable_grad():
        s = network.stimulus_at(tt, B).detach().clone().expand(B, -1).contiguous().requires_grad_(True)
        dHds = torch.autograd.grad(energy.hamiltonian(network, tt, y.detach(), s).sum(), s)[0]
    return (dHds * stimulus_rate(network, t, B)).sum(-1)
