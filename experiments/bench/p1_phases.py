"""P1 by phase: where one fused dynamics call's time goes, and the baseline it is judged against.

For a network whose call runs the fused kernels (``columns.coupling.kernels``), timed apart in
the same process on the call's own work buffers:

    field        the first pass: ν_i = Σ_e W_e x_j and Ẇ (read W, P, src; gather x; write Ẇ and
                 the x_j kept for the second pass)
    edge pass    the second pass: Ṗ of the learnable edges and the message Wᵀg + ∂H_edges/∂x
                 (read W, P, src, the kept x_j; write Ṗ; by-source sums per thread)
    one pass     both in one pass over the edges, which the call runs when the columns' g is
                 known before ν (``Edges.passes`` = 1; Bayesian-mechanics columns)
    node + rest  the call minus its edge passes: the columns' own terms (φ, ∂H/∂ν, their
                 momenta), the per-thread sums merged, the state split and joined

and the baseline of the large random graph: scipy's CSR product pair on the same matrix (A x and
Aᵀ x: the two edge products with nothing learned) plus one streaming pass over the edge arrays a
learning call must touch (read W and P, write Ẇ and Ṗ: ``torch.mul`` into buffers).

Shapes: y (B, S); the phases use a batch of one (P1's case).
"""

from __future__ import annotations

import numpy as np
import torch

from ..harness.timing import median_time


def phases(net, y: torch.Tensor, t: torch.Tensor, call_s: float, reps: int) -> dict | None:
    """{field_ms, edge_pass_ms, one_pass_ms, passes, node_and_rest_ms, scipy_pair_ms, stream_ms,
    call_over_baseline} for a CPU network on the fused backend, else None."""
    if y.device.type != "cpu" or net.edges.backend != "fused":
        return None
    import scipy.sparse as sp
    edges, cp, dev = net.edges, net.coupling, y.device
    with torch.no_grad():
        parts, W_l, P_l = net.layout.split(y)
        x = net.send(parts)
        work = edges.plan(y, x, net.plasticity)
        g = torch.randn_like(x)
        dW, dP = torch.empty_like(W_l), torch.empty_like(P_l)
        learn = (P_l, dW, dP) if net.plasticity is not None and net.layout.n_learnable else None
        W, _ = edges.fused_field(work, W_l, x, learn)
        if learn is None:
            dW = dP = None
        field = median_time(lambda: edges.fused_field(work, W_l, x, learn), reps, dev)
        edge = median_time(lambda: edges.fused_backward(work, W, P_l, x, g, dW, dP), reps, dev)
        one = median_time(lambda: edges.fused_one_pass(work, W_l, P_l, x, g, dW, dP), reps, dev)
        net(t, y)                                    # how many passes the call itself runs
        passes = edges.passes
        w = edges.weights(W_l)[0].numpy()
        A = sp.csr_matrix((w, cp.src.numpy(), cp.crow.numpy()), shape=(cp.n_nodes,) * 2)
        xv = x[0].numpy()
        pair = median_time(lambda: (A @ xv, A.T @ xv), reps, dev)
        stream = median_time(lambda: (torch.mul(W_l, 1.0, out=dW), torch.mul(P_l, 1.0, out=dP)),
                             reps, dev)
    in_call = one if passes == 1 else field + edge
    return {"field_ms": field * 1e3, "edge_pass_ms": edge * 1e3, "one_pass_ms": one * 1e3,
            "passes": passes, "node_and_rest_ms": max(0.0, call_s - in_call) * 1e3,
            "scipy_pair_ms": pair * 1e3, "stream_ms": stream * 1e3,
            "call_over_baseline": call_s / (pair + stream) if pair + stream > 0 else float(np.nan)}
