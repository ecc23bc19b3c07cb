"""The multi-region study's tools on constructed cases with known answers."""

import math

import networkx as nx
import pytest
import torch

import columns as C
import graphs
from columns import analysis as A
from experiments.multiregion import sequences as S
from graphs.errors import GraphError, StimulusError


def test_multiregion_graph_kinds_directions_and_seed():
    G = graphs.multiregion(n=20, p_within=0.4, p_feedforward=0.1, p_feedback=0.05, seed=3)
    graphs.validate(G)
    reg = nx.get_node_attributes(G, "region")
    order = {"A": 0, "B": 1, "C": 2}
    counts = {"within": 0, "feedforward": 0, "feedback": 0}
    for u, v, d in G.edges(data=True):
        step = order[reg[v]] - order[reg[u]]                            # target − source
        assert d["kind"] == {0: "within", 1: "feedforward", -1: "feedback"}[step] and u != v
        assert d["learnable"] is True
        counts[d["kind"]] += 1
    # densities: within ≈ 0.4 of 3·20·19, feedforward ≈ 0.1 of 2·400, feedback ≈ 0.05 of 800
    assert abs(counts["within"] / 1140 - 0.4) < 0.06
    assert abs(counts["feedforward"] / 800 - 0.1) < 0.04 and abs(counts["feedback"] / 800 - 0.05) < 0.03
    assert nx.utils.edges_equal(G.edges, graphs.multiregion(n=20, p_within=0.4, p_feedforward=0.1,
                                                             p_feedback=0.05, seed=3).edges)
    with pytest.raises(GraphError, match="distinct"):
        graphs.multiregion(regions=("A", "A"))



def test_reciprocal_within_region_edges_come_in_pairs_and_leave_the_rest_alone():
    kw = dict(n=20, p_within=0.3, p_feedforward=0.1, p_feedback=0.05, seed=4)
    G, R = graphs.multiregion(**kw), graphs.multiregion(reciprocal=True, **kw)
    within = lambda H: {(u, v) for u, v, d in H.edges(data=True) if d["kind"] == "within"}  # noqa: E731
    between = lambda H: {(u, v, d["weight"]) for u, v, d in H.edges(data=True)  # noqa: E731
                         if d["kind"] != "within"}
    w = within(R)
    assert all((v, u) in w for u, v in w)                              # every edge has its pair
    assert sum((v, u) in within(G) for u, v in within(G)) < 0.5 * len(within(G))
    assert abs(len(w) / 2 / (3 * 190) - 0.3) < 0.06                    # pairs at p_within
    assert between(R) == between(G)                                    # same draws elsewhere
    weights = {(u, v): d["weight"] for u, v, d in R.edges(data=True) if d["kind"] == "within"}
    assert sum(weights[u, v] != weights[v, u] for u, v in w) == len(w)  # own weight each

def test_orders_streams_and_region_stimulus():
    cyc = S.order("cyclic", 3, 7)
    assert cyc.tolist() == [0, 1, 2, 0, 1, 2, 0]
    assert S.delayed(cyc, 1).tolist() == [-1, 0, 1, 2, 0, 1, 2]
    rnd = S.order("random", 3, 9, seed=1)
    assert sorted(rnd[:3].tolist()) == sorted(rnd[3:6].tolist()) == [0, 1, 2]   # permutation cycles
    pats = torch.eye(3, dtype=torch.float64)
    v = S.stream(pats, S.delayed(cyc, 1)[:3], dwell=2, gain=2.0)
    assert v.tolist() == [[0, 0, 0]] * 2 + [[2, 0, 0]] * 2 + [[0, 2, 0]] * 2
    G = graphs.multiregion(n=3, seed=0)
    net = C.Network.from_graph(G, dtype=torch.float64)
    stim = S.region_stimulus(net, {"A": v, "C": -v}, torch.arange(6.0))
    s = stim(torch.tensor(2.0)).reshape(-1)
    reg = [str(r) for r in net.coupling.regions]
    assert s[[i for i, r in enumerate(reg) if r == "A"]].tolist() == [2, 0, 0]
    assert s[[i for i, r in enumerate(reg) if r == "B"]].tolist() == [0, 0, 0]
    assert s[[i for i, r in enumerate(reg) if r == "C"]].tolist() == [-2, 0, 0]
    with pytest.raises(StimulusError, match="region 'D'"):
        S.region_stimulus(net, {"D": v}, torch.arange(6.0))
    with pytest.raises(StimulusError, match="region 'A' must be"):
        S.region_stimulus(net, {"A": v[:, :2]}, torch.arange(6.0))
    with pytest.raises(StimulusError, match="kind"):
        S.order("zigzag", 3, 4)


def _forced(T=600, lag=3, seed=0):
    """Region a visits attractors 0 → 1 → 2 (dwell 5, gaps of 'none' between); b repeats a's
    labels ``lag`` samples later. States are noisy copies of the attractors."""
    g = torch.Generator().manual_seed(seed)
    att = torch.linalg.qr(torch.randn(16, 3, generator=g, dtype=torch.float64))[0].T   # orthonormal
    la = torch.tensor(([0] * 5 + [-1] * 2 + [1] * 5 + [-1] * 2 + [2] * 5 + [-1] * 2) * (T // 21))
    lb = torch.full_like(la, -1)
    lb[lag:] = la[:-lag]
    def states(lab):
        x = 0.05 * torch.randn(len(lab), 16, generator=g, dtype=torch.float64)
        on = lab >= 0
        x[on] += att[lab[on]]
        x[~on] += torch.randn(int((~on).sum()), 16, generator=g, dtype=torch.float64)  # far from all
        return x
    return att, la, lb, states(la), states(lb)


def test_occupancy_dwell_and_transitions_on_a_known_sequence():
    att, la, _, xa, _ = _forced()
    lab = A.label_states(xa, att, threshold=0.9)
    assert torch.equal(lab, la)                                         # noisy copies recovered
    dw = A.dwell_times(lab, 3)
    assert all(bool((d == 5).all()) and len(d) == len(la) // 21 for d in dw)
    P = A.transition_matrix(lab, 3)
    assert P[0, 3] == P[1, 3] == P[2, 3] == 1.0                        # every attractor → none
    assert torch.allclose(P[3, :3], torch.tensor([1 / 3] * 3, dtype=torch.float64), atol=0.01)


def test_overlap_lag_and_mutual_information_are_exact_on_a_shifted_copy():
    att, la, lb, xa, xb = _forced(lag=3)
    a, b = A.label_states(xa, att), A.label_states(xb, att)
    res = A.lagged(a, b, 3, 3, max_lag=8)
    assert res["best_lag"] == 3
    # at the right lag b is a copy of a: MI = H(a) and co-occupancy 1
    i = res["lags"].index(3)
    p = torch.tensor([5, 5, 5, 6]) / 21.0
    H = float(-(p * torch.log2(p)).sum())
    assert abs(res["mi_bits"][i] - H) < 0.01 and res["co_occupancy"][i] == 1.0
    assert res["mi_bits"][res["lags"].index(-3)] < 0.5 * H
    assert A.co_occupancy(a, torch.full_like(a, -1)) is None                 # 0/0: undefined
    J = A.joint_distribution(a, a, 3, 3)
    assert torch.allclose(J, torch.diag(J.sum(1)))                     # identical sequences
    assert abs(A.mutual_information(a, a, 3, 3) - H) < 0.01


def test_asymmetry_within_and_between_regions():
    W = torch.zeros(4, 4, dtype=torch.float64)
    regions = ["A", "A", "B", "B"]
    W[1, 0] = 1.0                                                       # A0 → A1 only: fully asymmetric
    W[2, 0], W[0, 2] = 0.5, 0.5                                         # A0 ↔ B0 symmetric
    W[3, 1] = 2.0                                                       # A1 → B1, no return
    out = A.region_asymmetry(W, regions)
    assert out["within"]["A"] == pytest.approx(math.sqrt(2)) and out["within"]["B"] == 0.0
    # between: blocks a = W[B←A] = [[0.5, 0], [0, 2]], b = W[A←B] = [[0.5, 0], [0, 0]]
    assert out["between"]["A-B"] == pytest.approx(math.sqrt(2) * 2 / math.sqrt(0.25 + 4 + 0.25))
    assert A.asymmetry(W + W.T) == 0.0
    # reciprocal pairs only: the graph has A0 ↔ B0 (both ways) and A0 → A1, A1 → B1 (one way)
    mask = W != 0
    W2 = W.clone()
    W2[0, 2] = -0.5                                                     # the one pair, antisymmetric
    m = A.region_asymmetry(W2, regions, mask)
    assert m["within"]["A"] == 0.0 and m["between"]["A-B"] == pytest.approx(2.0)
    assert A.asymmetry(W2, mask) == pytest.approx(2.0) and A.asymmetry(W, mask) == 0.0
    assert A.region_asymmetry(torch.zeros(4, 4), regions)["between"]["A-B"] is None


def _hopfield(n=30, kappa=3.0, seed=0, regions=("A",), between=0.0):
    """BM columns (μ_d = 0) with Hopfield couplings W = κ/n Σ_k ξ_k ξ_kᵀ within each region
    (two orthogonal ±1 patterns per region) and optional couplings r_i → q_i between regions."""
    g = torch.Generator().manual_seed(seed)
    G = nx.DiGraph()
    xi = {}
    for r in regions:
        x1 = torch.where(torch.rand(n, generator=g) < 0.5, -1.0, 1.0).double()
        flip = torch.ones(n, dtype=torch.float64)
        flip[torch.randperm(n, generator=g)[:n // 2]] = -1.0
        xi[r] = torch.stack([x1, x1 * flip])                               # orthogonal ±1 patterns
        W = kappa / n * xi[r].T @ xi[r]
        for i in range(n):
            G.add_node(f"{r}{i}", type="bm", region=r)
        for i in range(n):
            for j in range(n):
                if i != j:
                    G.add_edge(f"{r}{j}", f"{r}{i}", weight=float(W[i, j]))
    for r, q in zip(regions[:-1], regions[1:]):
        for i in range(n):
            G.add_edge(f"{r}{i}", f"{q}{i}", weight=between)
    net = C.Network.from_graph(G, column_types={"bm": {"mu_d": 0.0}}, dtype=torch.float64)
    return net, xi


def test_attractors_of_a_hopfield_region_are_its_patterns_and_stable():
    net, xi = _hopfield()
    g = torch.Generator().manual_seed(1)
    P = xi["A"]
    starts = torch.cat([P, -P, P + 0.3 * torch.randn(2, 30, generator=g, dtype=torch.float64),
                        torch.zeros(1, 30, dtype=torch.float64)])
    res = A.find_attractors(net, net.initial_state(), starts, dt=0.1, patterns={"A": P})
    assert bool(res["converged"].all())
    r = res["regions"]["A"]
    assert len(r["attractors"]) == 5                        # ±ξ1, ±ξ2 and the origin
    assert r["basin"].tolist() == [2, 2, 1, 1, 1]           # noisy copies fall back on ±ξ
    assert bool(r["stable"][:4].all()) and not bool(r["stable"][4])   # the origin is a saddle/source
    assert r["attractors"][4].abs().max() < 1e-8
    # the Jacobian of μ̇ = −μ + W tanh μ is −I + W diag(sech² μ): at the origin −I + W
    W = 3.0 / 30 * P.T @ P
    W.fill_diagonal_(0.0)
    assert abs(float(r["max_real_eig"][4]) - float(torch.linalg.eigvalsh(W).max() - 1)) < 1e-9
    a = r["attractors"][0]
    J = -torch.eye(30, dtype=torch.float64) + W * (1 - torch.tanh(a) ** 2)
    assert abs(float(r["max_real_eig"][0]) - float(torch.linalg.eigvals(J).real.max())) < 1e-9
    corr = r["pattern_corr"]
    assert float(corr[0, 0]) > 0.99 and float(corr[2, 0]) < -0.99 and float(corr[1, 1]) > 0.99
    assert float(r["mean_abs_cos"]) < 0.8


def test_attractors_are_found_per_region_regardless_of_between_region_edges():
    net, xi = _hopfield(n=20, regions=("A", "B"), between=5.0, seed=2)
    starts = torch.cat([torch.cat([xi["A"], xi["B"]], 1), torch.cat([xi["A"], -xi["B"]], 1)])
    res = A.find_attractors(net, net.initial_state(), starts, dt=0.1, patterns=xi)
    for r in ("A", "B"):
        assert len(res["regions"][r]["attractors"]) >= 2
        best = res["regions"][r]["pattern_corr"].abs().amax(0)
        assert bool((best > 0.99).all())                     # both stored patterns recovered
    whole = A.find_attractors(net, net.initial_state(), starts, dt=0.05, within_regions=False)
    # with the strong A → B edges B is driven by A: its end states differ from B's own attractors
    assert not torch.allclose(whole["regions"]["B"]["attractors"][0], res["regions"]["B"]["attractors"][0])


def test_attractor_track_births_deaths_and_moves():
    g = torch.Generator().manual_seed(0)
    base = torch.linalg.qr(torch.randn(12, 4, generator=g, dtype=torch.float64))[0].T   # 4 orthonormal
    rot = lambda v, e: (v + e * base[3]) / (v + e * base[3]).norm()
    sets = [base[[0, 1]], torch.stack([rot(base[1], 0.1), base[0], base[2]]),
            torch.stack([base[2], rot(base[1], 0.2)])]
    tr = A.track_attractors(sets, threshold=0.9)
    assert tr["ids"] == [[0, 1], [1, 0, 2], [2, 1]]
    assert tr["births"] == {0: 0, 1: 0, 2: 1} and tr["deaths"] == {0: 2}
    assert tr["moved"][1][0] == pytest.approx(1 - 1 / math.sqrt(1.01), abs=1e-12)
    assert tr["moved"][0] == [pytest.approx(0.0, abs=1e-12)]


def test_fep_map_attractors_are_fixed_points_of_the_deterministic_map():
    from columns.types.langevin import langevin
    g = torch.Generator().manual_seed(4)
    n = 16
    x1 = torch.where(torch.rand(n, generator=g) < 0.5, -1.0, 1.0).double()
    Wd = 4.0 / n * torch.outer(x1, x1)
    Wd.fill_diagonal_(0.0)
    G = nx.DiGraph()
    G.add_nodes_from(range(n), type="fep", region="A")
    G.add_edges_from((j, i, {"weight": float(Wd[i, j])}) for i in range(n) for j in range(n) if i != j)
    net = C.Network.from_graph(G, column_types={"fep": {"beta": 1.0}}, dtype=torch.float64)
    res = A.find_attractors(net, net.initial_state(), torch.stack([x1, -x1, 0 * x1]), tol=1e-12)
    r = res["regions"]["A"]
    assert res["kind"] == "map" and bool(res["converged"].all()) and len(r["attractors"]) == 3
    for a in r["attractors"]:
        assert torch.allclose(langevin(Wd @ a), a, atol=1e-10)          # σ* = L(β J σ*)
    assert bool(r["stable"][:2].all()) and not bool(r["stable"][2])      # ±pattern stable, 0 not
    # at 0: ∂g/∂σ = L′(0) J = J / 3, so ρ = λ_max(J)/3 = (4 − 4/16)/3
    assert abs(float(r["spectral_radius"][2]) - float(torch.linalg.eigvalsh(Wd).abs().max()) / 3) < 1e-9


def test_attractors_refuse_mixed_types_by_name():
    G = nx.DiGraph()
    G.add_node(0, type="fep", region="A")
    G.add_node(1, type="bm", region="A")
    G.add_edge(0, 1, weight=0.1)
    net = C.Network.from_graph(G, dtype=torch.float64)
    with pytest.raises(TypeError, match="FEPColumn"):
        A.find_attractors(net, net.initial_state(), torch.zeros(1, 2, dtype=torch.float64))


def test_transfer_of_constructed_couplings_has_the_built_in_lambda():
    """Orthogonal patterns: W = Σ_k ξ_k ξ_kᵀ + λ Σ_k ξ_{k+1} ξ_kᵀ gives λ_fwd = λ, λ_bwd = 0; the
    reverse sequence swaps them; a symmetric W gives equal values; between two regions with B
    lagging by d, the feedforward W_BA = Σ_k η_k ξ_kᵀ + λ Σ_k η_{k+1} ξ_kᵀ (η_k = ξ_{k−d}) has
    λ_fwd = λ at that delay."""
    g = torch.Generator().manual_seed(0)
    Q, _ = torch.linalg.qr(torch.randn(40, 4, generator=g, dtype=torch.float64))
    xi = 3.0 * Q.T                                                        # (4, 40) orthogonal
    nxt = xi.roll(-1, 0)
    for lam in (0.3, 1.2):
        W = xi.T @ xi + lam * nxt.T @ xi                                  # Σ ξξᵀ + λ Σ ξ_{k+1} ξ_kᵀ
        t = A.transfer(W, xi)
        assert t["forward"] == pytest.approx(lam, rel=1e-12) and abs(t["backward"]) < 1e-12
        t = A.transfer(W.T, xi)                                           # the reverse order
        assert abs(t["forward"]) < 1e-12 and t["backward"] == pytest.approx(lam, rel=1e-12)
    sym = xi.T @ xi + 0.5 * (nxt.T @ xi + xi.T @ nxt)
    t = A.transfer(sym, xi)
    assert t["forward"] == pytest.approx(t["backward"], rel=1e-12) == pytest.approx(0.5)
    eta = xi.roll(1, 0)                                                   # B shows ξ_{k−1}
    W_ba = eta.T @ xi + 0.7 * eta.roll(-1, 0).T @ xi
    assert A.transfer(W_ba, xi, xi, delay=1)["forward"] == pytest.approx(0.7, rel=1e-12)
    assert A.transfer(torch.zeros(40, 40, dtype=torch.float64), xi) == {"forward": None,
                                                                        "backward": None}
    with pytest.raises(C.AnalysisError, match="transfer: W must be"):
        A.transfer(torch.zeros(3, 4), xi)
