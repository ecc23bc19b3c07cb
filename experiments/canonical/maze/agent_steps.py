"""One 200-step block of maze-agent inference and decisions: two interchangeable steppers.

For every active agent a (global index m = ids[a]), from x_{t0−1} = xs[a, 0] and the move-table
row f[a], K steps k = 0..K−1 (t = t0 + k):

    fs[a, k] = f                                   (cell_{t−1}, a_{t−1}) row of the move tables
    (b, c)   = W[m]ᵀ x_{t−1}                       b: 121 recurrent, c: 256 decision inputs
    x_t      = sig(drive[row[f]] + b)               xs[a, k + 1]
    P(k′)    ∝ y/(1 − y + 10⁻⁶) = 1 / (e^{−v}(1 + 10⁻⁶) + 10⁻⁶),  v = c + kd[m]   (y = sig v)
    d_t      = first k′ with cdf[k′] ≥ U[a, k] · cdf[255]               ds[a, k]
    f        ← fnext[f] + d_t // 64

until the block ends or the move fs[a, k] reaches the goal (then n[a] = k + 1, reached[a]).
Entries past n[a] are unspecified. Returns (f, n, reached); fills xs, fs, ds in place.

``steps_torch`` steps all agents together (one batched product per step; the GPU path).
``steps_numba`` runs each agent's K steps in a compiled loop, agents in parallel threads: on a CPU
the lockstep product streams every agent's W (M × 182 KB in float32) from the last-level cache at
each step, while an agent's own loop keeps its W in L2 for the whole block (``bench-maze``).

Shapes: W (M, 121, 377); drive (M·P, 121); kd (M, 256); row, fnext (M·P·5,) int64; arrive
(M·P·5,) bool; ids, f (Ma,) int64; xs (Ma, K + 1, 121); fs, ds (Ma, K) int64; U (Ma, K).
"""

from __future__ import annotations

import importlib.util

import torch

NS, ND = 121, 256


def steps_torch(W, drive, kd, row, fnext, arrive, ids, f, xs, fs, ds, U):
    """All agents in lockstep; an agent past the goal keeps stepping (masked by n afterwards)."""
    Wa, kda = W[ids], kd[ids]
    K = fs.shape[1]
    x = xs[:, 0]
    for k in range(K):
        fs[:, k] = f
        both = torch.bmm(x.unsqueeze(1), Wa).squeeze(1)                # (Ma, 121 + 256)
        x = torch.sigmoid(drive[row[f]] + both[:, :NS])
        xs[:, k + 1] = x
        z = torch.exp_(torch.add(both[:, NS:], kda).neg_())           # e^{−v}, v from x_{t−1}
        cdf = torch.reciprocal_(z.mul_(1 + 1e-6).add_(1e-6)).cumsum(1)
        d = torch.searchsorted(cdf, U[:, k:k + 1] * cdf[:, -1:]).squeeze(1).clamp_(max=ND - 1)
        ds[:, k] = d
        f = fnext[f] + d // (ND // 4)
        if k % 32 == 31 and bool(arrive[fs[:, :k + 1]].any(1).all()):
            fs, ds = fs[:, :k + 1], ds[:, :k + 1]                        # everyone is home
            break
    arrival = arrive[fs]
    reached = arrival.any(1)
    n = torch.where(reached, arrival.to(torch.int8).argmax(1) + 1, K)
    return f, n, reached


def numba_available() -> bool:
    return importlib.util.find_spec("numba") is not None


def steps_numba(W, drive, kd, row, fnext, arrive, ids, f, xs, fs, ds, U):
    """Each agent's steps in a compiled loop (CPU tensors; agents on numba's threads)."""
    from columns.threads import numba_threads

    from .agent_kernel import block_kernel
    numba_threads()                            # the engine's count, for numba and torch alike
    Ma = fs.shape[0]
    f = f.clone()
    n = torch.empty(Ma, dtype=torch.int64)
    reached = torch.empty(Ma, dtype=torch.bool)
    args = (W, drive, kd, row, fnext, arrive, ids, f, xs, fs, ds, U, n, reached)
    block_kernel(*(a.numpy() for a in args))
    return f, n, reached


def c_update_torch(C, ids, xp, ds, n, g, dec):
    """C† ← max(C† + g Σ_τ (x_τ; x̄_τ) ⊗ (d_τ+1; 1 − d_τ+1), 1) for agents ids; dec += draws.
    C (M, 2, 2, 256, 121) float64 [s′ value, δ value, δ, s′]; xp (Ma, K, 121) x_τ (zero past
    n); ds (Ma, K); n, g (Ma,)."""
    Ma, K = ds.shape
    f64 = torch.float64
    g = g.view(Ma, 1, 1)
    rows = (torch.arange(Ma, device=ds.device).view(-1, 1) * ND + ds).view(-1)
    valid = (torch.arange(K, device=ds.device) < n.unsqueeze(1)).reshape(-1)
    Sd = torch.zeros(Ma * ND, NS, dtype=f64, device=ds.device)
    Sd = Sd.index_add_(0, rows, xp.reshape(-1, NS).to(f64)).view(Ma, ND, NS)   # Σ x_τ ⊗ e_d
    count = torch.zeros(Ma * ND, dtype=f64, device=ds.device).index_add_(
        0, rows, valid.to(f64)).view(Ma, ND, 1)                          # times each δ was drawn
    sx = xp.sum(1, dtype=f64).unsqueeze(1)                               # (Ma, 1, NS)
    dec.index_add_(0, ids, count.squeeze(-1))
    whole = len(ids) == C.shape[0]                                       # ids = all agents, in order
    Ca = C if whole else C.index_select(0, ids)
    Ca[:, 1, 1].addcmul_(g, Sd)                                          # Σ x d
    Ca[:, 1, 0].add_(g * sx).addcmul_(g, Sd, value=-1)                   # Σ x (1 − d)
    Ca[:, 0, 1].add_(g * count).addcmul_(g, Sd, value=-1)                # Σ (1 − x) d
    Ca[:, 0, 0].add_(g * (n.view(-1, 1, 1) - sx)).sub_(g * count).addcmul_(g, Sd)   # Σ x̄ (1 − d)
    if bool((g < 0).any()):
        Ca.clamp_(min=1)
    if not whole:
        C.index_copy_(0, ids, Ca)


def c_update_numba(C, ids, xp, ds, n, g, dec):
    """``c_update_torch`` in a compiled loop: rows of C updated in place, no gather (CPU)."""
    from .agent_kernel import c_kernel
    c_kernel(C.numpy(), ids.numpy(), xp.numpy(), ds.numpy(), n.numpy(), g.numpy(), dec.numpy())
