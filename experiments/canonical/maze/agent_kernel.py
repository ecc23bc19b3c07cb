"""The compiled per-agent block loop behind ``agent_steps.steps_numba`` (imports numba).

Same equations as ``agent_steps`` (see there); agent a's K steps run in one thread with its
W[m] (121 × 377) resident in cache; the cdf and its total are accumulated in float64.
"""

import numba
import numpy as np

NS = 121


@numba.njit(parallel=True, cache=True)
def block_kernel(W, drive, kd, row, fnext, arrive, ids, f, xs, fs, ds, U, n, reached):
    Ma, K = fs.shape
    nv = W.shape[2]
    nd = nv - NS
    for a in numba.prange(Ma):
        m = ids[a]
        v = np.empty(nv, W.dtype)
        cdf = np.empty(nd, np.float64)
        fa = f[a]
        n[a] = K
        reached[a] = False
        for k in range(K):
            fs[a, k] = fa
            v[:] = 0
            for i in range(NS):
                xi = xs[a, k, i]
                for j in range(nv):
                    v[j] += xi * W[m, i, j]
            r = row[fa]
            for j in range(NS):
                xs[a, k + 1, j] = 1.0 / (1.0 + np.exp(-(drive[r, j] + v[j])))
            tot = 0.0
            for j in range(nd):
                z = np.exp(-(v[NS + j] + kd[m, j]))
                tot += 1.0 / (z * (1 + 1e-6) + 1e-6)
                cdf[j] = tot
            target = U[a, k] * tot
            d = 0
            while d < nd - 1 and cdf[d] < target:
                d += 1
            ds[a, k] = d
            if arrive[fa]:
                n[a] = k + 1
                reached[a] = True
                break
            fa = fnext[fa] + d // (nd // 4)
        f[a] = fa


@numba.njit(parallel=True, cache=True)
def c_kernel(C, ids, xp, ds, n, g, dec):
    """Per agent m = ids[a]: Σ over its n[a] pairs, then the clamp at 1 when g < 0:
    row d_τ: C11 += g x, C10 −= g x, C01 += g x̄, C00 −= g x̄; every row: C10 += g Σx,
    C00 += g (n − Σx)."""
    Ma = ds.shape[0]
    nd, ns = C.shape[3], C.shape[4]
    for a in numba.prange(Ma):
        m, ga = ids[a], g[a]
        sx = np.zeros(ns)
        for k in range(n[a]):
            d = ds[a, k]
            dec[m, d] += 1
            for j in range(ns):
                xj = xp[a, k, j]
                sx[j] += xj
                C[m, 1, 1, d, j] += ga * xj
                C[m, 1, 0, d, j] -= ga * xj
                C[m, 0, 1, d, j] += ga * (1 - xj)
                C[m, 0, 0, d, j] -= ga * (1 - xj)
        for r in range(nd):
            for j in range(ns):
                C[m, 1, 0, r, j] += ga * sx[j]
                C[m, 0, 0, r, j] += ga * (n[a] - sx[j])
        if ga < 0:
            for u in range(2):
                for v in range(2):
                    for r in range(nd):
                        for j in range(ns):
                            if C[m, u, v, r, j] < 1:
                                C[m, u, v, r, j] = 1.0
