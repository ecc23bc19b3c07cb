"""Energies and diagnostics of a network: pure functions of ``(network, t, y, s)``.

With H_i, U_i, L_i each Hamiltonian column's own (``columns.types.hamiltonian``) and the Hebbian
edge Hamiltonian H_e (``columns.plasticity.hebbian``):

    H(y; s)   = Σ_i H_i(q_i, p_i; ν_i, s_i) + Σ_e H_e                      (``hamiltonian``)
    U(q; s)   = L(q, q̇ = 0) = Σ_i U_i + Σ_e ½ m_W h_e²                       (``static_energy``)
    e_i       = s_eff,i − g_i(q), precision m_z,i                           (``sensory_errors``)
    F(q; s)   = q̇ at p = 0 for every position                               (``prior_flow``)
    p*        = −M F(q)  (the momenta of a fixed point q)                    (``momenta_at_rest``)

Positions and momenta are paired in the canonical order of ``canonical_pairs`` (the Hamiltonian
types' positions in layout order, then the learnable edges' W). ``s`` (B, N) overrides s(t)
(e.g. a leaf tensor for ∂H/∂s). Everything here is differentiable in y: the products use
scatter-add, not the CSR path.

Shapes: y (B, S) or (S,); energies (B,) (or () for y (S,)); pairs (P,).
"""

from __future__ import annotations

import torch

from graphs import autodiff
from graphs.errors import ParameterError

from .types.hamiltonian import HamiltonianColumn


def _batched(y):
    return (y.unsqueeze(0), True) if y.dim() == 1 else (y, False)


def _differentiable_parts(network, t, y, s=None):
    """Split y and compute s, x and ν with differentiable (scatter-add) products."""
    if len(network.hamiltonian_types) != len(network.columns):
        raise ParameterError("the network has non-Hamiltonian column types: no Hamiltonian")
    parts, W_l, P_l = network.layout.split(y)
    cp, B = network.coupling, y.shape[0]
    s = network.stimulus_at(t, B, s).expand(B, -1)
    x = network.send(parts)
    nu = torch.zeros_like(x)
    if cp.n_edges:                               # differentiable: a scatter-add, not the CSR path
        a, _ = network.edge_signals(parts, x)
        a = cp.gather_source(x) if a is None else a                     # (B, E) arriving
        nu = cp.sum_by_target(network.edge_weights(W_l) * a)
    return parts, W_l, P_l, s, x, nu


def _edge_signals(network, parts, x):
    """(u_e, x_i) on the learnable edges (B, E_l): the learning rule's presynaptic signal (x_j,
    or x̄_j − x_j on a slow synapse) and the postsynaptic rate (differentiable)."""
    cp, li = network.coupling, network.learn_idx
    _, u = network.edge_signals(parts, x)
    u = x[:, cp.src] if u is None else u
    return u[:, li], x[:, cp.tgt][:, li]

def hamiltonian(network, t, y: torch.Tensor, s: torch.Tensor | None = None) -> torch.Tensor:
    """Total H(y; s(t)) per batch member: Σ_i H_i(q_i, p_i; ν_i, s_i) + Σ_e H_e. Shapes: (B,).

    Returns:
        H (B,) (a scalar for y (S,)).
    """
    y, squeeze = _batched(y)
    parts, W_l, P_l, s, x, nu = _differentiable_parts(network, t, y, s)
    H = torch.zeros(y.shape[0], dtype=y.dtype, device=y.device)
    for _, col, part, nu_k, s_k in network.by_type(parts, nu, s):
        H = H + col.hamiltonian(part, nu_k, s_k).sum(-1)
    if network.layout.n_learnable:
        H = H + network.plasticity.hamiltonian(W_l, P_l, *_edge_signals(network, parts, x)).sum(-1)
    return H.squeeze(0) if squeeze else H


def static_energy(network, t, y: torch.Tensor, s: torch.Tensor | None = None) -> torch.Tensor:
    """U(q; s(t)) = L(q, q̇ = 0) = Σ_i U_i + Σ_e ½ m_W h_e² (momenta in y are ignored).

    Its critical points are the fixed points (p* = −M F(q*)); its minima the MAP estimates.
    Shapes: y (B, S) -> (B,).

    Returns:
        U (B,) (a scalar for y (S,)).
    """
    y, squeeze = _batched(y)
    parts, W_l, _, s, x, nu = _differentiable_parts(network, t, y, s)
    U = torch.zeros(y.shape[0], dtype=y.dtype, device=y.device)
    for _, col, part, nu_k, s_k in network.by_type(parts, nu, s):
        U = U + col.static_energy({f: part[f] for f in col.positions}, nu_k, s_k).sum(-1)
    if network.layout.n_learnable:
        h = network.plasticity.flow(W_l, *_edge_signals(network, parts, x))
        U = U + (0.5 * network.plasticity.m_W * h * h).sum(-1)
    return U.squeeze(0) if squeeze else U


def sensory_errors(network, t, y: torch.Tensor, s: torch.Tensor | None = None
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """(e, m_z): e_i = s_eff,i − g_i(q) and its precision per column (0 for non-Hamiltonian
    types), so that the likelihood part of U and L is Σ_i ½ m_z,i e_i². Differentiable in y.

    Shapes: y (B, S) -> (B, N), (N,).

    Returns:
        (e (B, N), m_z (N,)).
    """
    y, squeeze = _batched(y)
    parts, _, _ = network.layout.split(y)
    s = network.stimulus_at(t, y.shape[0], s).expand(y.shape[0], -1)
    errs, prec = [], []
    for _, col, part, s_k in network.by_type(parts, s):
        if isinstance(col, HamiltonianColumn):
            q = {f: part[f] for f in col.positions}
            errs.append(col.effective_stimulus(q, s_k) - col.prediction(q))
            prec.append(getattr(col, col.sensory_precision).to(y.dtype).expand(col.n))
        else:
            errs.append(torch.zeros_like(s_k))
            prec.append(torch.zeros(col.n, dtype=y.dtype, device=y.device))
    e, m = torch.cat(errs, -1), torch.cat(prec)
    return (e.squeeze(0) if squeeze else e), m


def sensory_energy(network, t, y: torch.Tensor, s: torch.Tensor | None = None) -> torch.Tensor:
    """Σ_i ½ m_z,i (s_i − g_i)², the likelihood part of U and L. Shapes: y (B, S) -> (B,).

    Returns:
        The likelihood energy (B,).
    """
    e, m = sensory_errors(network, t, y, s)
    return (0.5 * m * e * e).sum(-1)


def prior_flow(network, t, y: torch.Tensor, s: torch.Tensor | None = None,
               delayed=None) -> torch.Tensor:
    """F(q; s) of every position (canonical order; the momenta in y are ignored): q̇ at p = 0.
    ``delayed``: the signals arriving on each edge (``network.forward``'s; None: undelayed).

    Differentiable in y. Shapes: y (B, S) -> (B, P).

    Returns:
        F (B, P), in ``canonical_pairs`` order.
    """
    pos, mom = canonical_pairs(network)
    return network(t, y.index_fill(-1, mom, 0.0), s, delayed=delayed)[..., pos]


def momenta_at_rest(network, t, y: torch.Tensor, s: torch.Tensor | None = None) -> torch.Tensor:
    """y with every momentum set to −M F(q): the momenta of a fixed point q (p* = −M F(q*)).

    Shapes: y (B, S) or (S,) -> same.

    Returns:
        The state with its momenta replaced, shaped like ``y``.
    """
    _, mom = canonical_pairs(network)
    z = y.detach().clone()
    with torch.no_grad():
        z[..., mom] = -position_masses(network).to(z) * prior_flow(network, t, z, s)
    return z


def position_masses(network) -> torch.Tensor:
    """The mass (precision) of every position, in ``canonical_pairs`` order. Shapes: (P,).

    Returns:
        The masses (P,).
    """
    out = [torch.zeros(0, dtype=network.dtype, device=network.device)]
    for name, f, start, n in network.layout.blocks:
        col = network.columns[name]
        if isinstance(col, HamiltonianColumn) and f in col.positions:
            out.append(col.masses()[f].to(network.dtype).expand(n))
    if network.layout.n_learnable:
        out.append(network.plasticity.m_W.to(network.dtype).expand(network.layout.n_learnable))
    return torch.cat(out)


def canonical_pairs(network) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices (positions, momenta) into y pairing every q with its p, for the Hamiltonian
    column types and the learnable edges. Shapes: (P,) each (P = S/2 when all are
    Hamiltonian).

    Returns:
        (positions (P,), momenta (P,)) int64 indices into y.
    """
    return network._pos_idx, network._mom_idx


def pair_indices(network) -> tuple[torch.Tensor, torch.Tensor]:
    """Compute the ``canonical_pairs`` of a network from its layout (once, at construction).

    Returns:
        (positions (P,), momenta (P,)) int64 indices into y.
    """
    layout = network.layout
    pos, mom = [torch.zeros(0, dtype=torch.long)], [torch.zeros(0, dtype=torch.long)]
    for name, f, start, n in layout.blocks:        # non-Hamiltonian types have no pairs
        col = network.columns[name]
        if isinstance(col, HamiltonianColumn) and f in col.positions:
            pos.append(torch.arange(start, start + n))
            mom.append(torch.arange(layout.offset(name, "p_" + f), layout.offset(name, "p_" + f) + n))
    if layout.n_learnable:
        (a, m), (b, _) = layout.edge_W, layout.edge_P
        pos.append(torch.arange(a, a + m))
        mom.append(torch.arange(b, b + m))
    return torch.cat(pos), torch.cat(mom)


def rhs_autograd(network, t, y: torch.Tensor) -> torch.Tensor:
    """dy/dt = J ∇H by autograd of ``hamiltonian`` (the reference for the closed forms).

    Returns:
        dy/dt, shaped like ``y``.
    """
    pos, mom = canonical_pairs(network)
    keep = autodiff.tracked(y)
    with torch.enable_grad():
        leaf, yy = autodiff.grad_leaf(y)
        H = hamiltonian(network, t, yy).sum()
        gH = torch.autograd.grad(H, leaf, grad_outputs=torch.ones_like(H), create_graph=keep)[0]
        gH = gH.conj() if H.is_complex() else gH          # holomorphic H: ∂H/∂z
    out = torch.empty_like(gH)
    out[..., pos] = gH[..., mom]
    out[..., mom] = -gH[..., pos]
    return out
