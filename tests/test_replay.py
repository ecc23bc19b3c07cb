"""Replay and sequence scores on constructed networks with known answers (docs/main-study.md)."""

import networkx as nx
import pytest
import torch

import columns as C
import columns.analysis as A
from graphs.errors import ConfigError

D = torch.float64


def _patterns(P, n, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.sign(torch.randn(P, n, generator=g, dtype=D))


def _sequence_network(n=32, P=3, gain=10.0, copy=True, symmetric=False, seed=0):
    """FEP columns: region A stores the cycle ξ_k → ξ_{k+1} (J = gain Σ ξ_{k+1} ξ_kᵀ / n; with
    ``symmetric`` J = gain Σ ξ_k ξ_kᵀ / n instead); region B copies A's pattern through
    W_BA = gain Σ ξ_k ξ_kᵀ / n (one step later) and has no own couplings."""
    xi = _patterns(P, n, seed)
    J = gain * (xi.T @ xi if symmetric else xi.roll(-1, 0).T @ xi) / n      # [target, source]
    G = nx.DiGraph()
    for r in ("A", "B"):
        G.add_nodes_from((f"{r}{k}", {"type": "fep", "region": r}) for k in range(n))
    for i in range(n):
        for j in range(n):
            if i != j:
                G.add_edge(f"A{j}", f"A{i}", weight=float(J[i, j]))
            if copy:
                G.add_edge(f"A{j}", f"B{i}", weight=float(gain * (xi[:, i] @ xi[:, j]) / n))
    net = C.Network.from_graph(G, dtype=D)
    return net, xi


def test_an_asymmetric_hopfield_sequence_replays_its_cycle_and_the_copy_follows_at_its_delay():
    net, xi = _sequence_network()
    n = xi.shape[1]
    x0 = torch.cat([xi[0], torch.zeros(n, dtype=D)]).unsqueeze(0)
    x = A.replay(net, net.initial_state()[0], x0, steps=90)[:, 0]            # deterministic map
    la, sa = A.signed_labels(x[:, :n], xi, 0.9)
    lb, _ = A.signed_labels(x[:, n:], xi, 0.9)
    succ = torch.tensor([1, 2, 0])
    seq = A.visits(la)
    assert seq[:6].tolist() == [0, 1, 2, 0, 1, 2]
    res = A.shuffle_null(seq, succ, n=500, seed=0)
    assert res["score"] == 1.0 and res["n_transitions"] >= 50 and res["p"] < 0.01
    assert 0.3 < res["null_median"] < 0.7                                     # chance: 1/2
    pred = torch.tensor([2, 0, 1])                                            # B shows A's predecessor
    fol = A.circular_null(la, lb, pred, n=300, min_shift=3, seed=1)
    assert fol["score"] == 1.0 and fol["p"] < 0.01
    same = torch.arange(3)                                                    # b_{t+ℓ} = a_t
    by_lag = [A.follow_score(la[:la.numel() - k], lb[k:], same)[0] for k in range(3)]
    assert by_lag == [0.0, 1.0, 0.0]                                         # the copy's delay: 1 step


def test_a_symmetric_network_or_shuffled_labels_give_the_null_value():
    net, xi = _sequence_network(n=16, symmetric=True, gain=4.0, copy=False)
    n, R = xi.shape[1], 8
    x0 = xi[torch.arange(R) % 3].clone()
    x0 = torch.cat([x0, torch.zeros(R, n, dtype=D)], 1)
    x = A.replay(net, net.initial_state()[0], x0, steps=3000, stochastic=True, seed=3)
    succ = torch.tensor([1, 2, 0])
    scores = []
    for r in range(R):
        lab, _ = A.signed_labels(x[:, r, :n], xi, 0.7)
        s, k = A.order_score(A.visits(lab), succ)
        if s is not None:
            scores.append((s, k))
    total = sum(k for _, k in scores)
    fwd = sum(s * k for s, k in scores) / total
    assert total >= 1000 and abs(fwd - 0.5) < 0.05                     # no preferred direction
    g = torch.Generator().manual_seed(0)
    seq = torch.randint(0, 3, (400,), generator=g)
    res = A.shuffle_null(seq, succ, n=300, seed=1)
    assert abs(res["score"] - 0.5) < 0.1 and res["p"] > 0.01


def test_a_mirror_pair_counts_once_and_labels_keep_the_sign():
    xi = _patterns(2, 16, 4)
    att = torch.stack([xi[0], -xi[0], xi[1]])
    pid, sign = A.sign_pairs(att)
    assert pid.tolist() == [0, 0, 1] and sign.tolist() == [1, -1, 1]
    reps = A.representatives(att)
    assert reps.shape[0] == 2
    lab, sg = A.signed_labels(torch.stack([-xi[0], xi[1], 0 * xi[0] + 1e-3]), reps, 0.9)
    assert lab.tolist()[:2] == [0, 1] and sg.tolist()[:2] == [-1, 1]


def test_replay_of_the_prior_flow_sde_is_seeded_and_scales_with_the_precision():
    G = nx.DiGraph()
    G.add_nodes_from((k, {"type": "bm", "region": "A"}) for k in range(4))
    net = C.Network.from_graph(G, column_types={"bm": {"mu_d": 0.0, "m_mu": 4.0}}, dtype=D)
    y = net.initial_state()[0]
    x0 = torch.zeros(64, 4, dtype=D)
    a = A.replay(net, y, x0, steps=4000, every=10, stochastic=True, seed=5, dt=0.01)
    b = A.replay(net, y, x0, steps=4000, every=10, stochastic=True, seed=5, dt=0.01)
    assert torch.equal(a, b)
    # Ornstein–Uhlenbeck dμ = −μ dt + m^(−1/2) dW: stationary variance 1 / (2 m) = 0.125
    var = a[100:].var()
    assert abs(float(var) - 0.125) < 0.02
    det = A.replay(net, y, x0 + 1.0, steps=100, dt=0.01)
    assert torch.allclose(det[-1], torch.full((64, 4), 0.99 ** 100, dtype=D))


def test_replay_refuses_bad_arguments_by_name():
    net, xi = _sequence_network(copy=False)
    with pytest.raises(ConfigError, match="steps"):
        A.replay(net, net.initial_state()[0], torch.zeros(1, net.n_nodes, dtype=D), steps=0)
    with pytest.raises(ConfigError, match="temperature"):
        A.replay(net, net.initial_state()[0], torch.zeros(1, net.n_nodes, dtype=D), steps=3,
                 temperature=float("nan"))


def test_undefined_overlap_quantities_are_none_not_numbers():
    a = torch.tensor([0, 1, 0, 1, -1, 0])
    none = torch.full_like(a, -1)
    assert A.co_occupancy(a, none) is None                   # 0/0
    assert A.mutual_information(a, none, 2, 0) is None       # constant series
    assert A.mutual_information(a, a, 2, 2) > 1.0            # MI(a, a) = H(a)
    with pytest.raises(ValueError, match="max_lag"):
        A.lagged(a, a, 2, 2, 6)
