"""Seeded graph generators that follow the attribute schema (``graphs.schema``).

Every generator returns a ``networkx.DiGraph`` whose nodes carry ``type`` and ``region`` and whose
edges carry ``weight``, ``learnable`` and ``kind``. Randomness comes only from ``seed``
(a ``numpy.random.Generator`` is built from it): same seed, same graph.
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from . import memory
from .errors import GraphError
from .values import is_integer, is_number


def _positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise GraphError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _probability(name: str, value) -> float:
    if not is_number(value, 0.0, maximum=1.0):
        raise GraphError(f"{name} must be a probability in [0, 1], got {value!r}")
    return float(value)


def _scale(name: str, value, positive: bool = False) -> float:
    if not is_number(value, 0.0, strict=positive):
        raise GraphError(f"{name} must be a finite number {'>' if positive else '>='} 0, got "
                         f"{value!r}")
    return float(value)


def _seed(seed) -> np.random.Generator:
    if not is_integer(seed, 0):
        raise GraphError(f"seed must be an integer >= 0, got {seed!r}")
    return np.random.default_rng(seed)


def _dense(name: str, n: int, arrays: int) -> None:
    """A generator that draws ``arrays`` dense (n, n) float64 matrices checks their size first."""
    memory.check(8.0 * arrays * n * n, "cpu", f"{name} with {n} columns draws {arrays} dense "
                 f"({n} × {n}) matrices, which", "use fewer columns, or build a sparse graph "
                 "edge by edge with networkx", GraphError)


def single_column(column_type: str = "bm") -> nx.DiGraph:
    """One column, no edges.

    Returns:
        A ``networkx.DiGraph`` with one node.
    """
    G = nx.DiGraph(name="single_column")
    G.add_node(0, type=column_type, region="0")
    return G


def ring(n: int, weight: float = 0.5, bidirectional: bool = False, learnable: bool = False,
         column_type: str = "bm") -> nx.DiGraph:
    """A directed ring i -> i+1 (mod n); with ``bidirectional`` also i+1 -> i.

    Returns:
        A ``networkx.DiGraph``.

    Raises:
        GraphError: n < 1 or a weight that is not a finite number.
    """
    n = _positive_int("n", n)
    if not is_number(weight):
        raise GraphError(f"weight must be a finite number, got {weight!r}")
    G = nx.DiGraph(name=f"ring{n}")
    G.add_nodes_from(range(n), type=column_type, region="0")
    for i in range(n):
        if n > 1:
            G.add_edge(i, (i + 1) % n, weight=float(weight), learnable=learnable, kind="ring")
            if bidirectional and n > 2:
                G.add_edge((i + 1) % n, i, weight=float(weight), learnable=learnable, kind="ring")
    return G


def random_directed(n: int, p: float = 0.1, weight_scale: float = 0.1, learnable: bool = False,
                    column_type: str = "bm", seed: int = 0) -> nx.DiGraph:
    """Erdős–Rényi directed graph: each ordered pair (j -> i), j != i, with probability p.

    Weights are drawn N(0, weight_scale²).

    Returns:
        A ``networkx.DiGraph`` (seeded: the same seed gives the same graph).

    Raises:
        GraphError: n, p, weight_scale or seed out of range, or a graph beyond the free memory.
    """
    n = _positive_int("n", n)
    p = _probability("p", p)
    weight_scale = _scale("weight_scale", weight_scale)
    rng = _seed(seed)
    _dense("random_directed", n, 2)
    mask = rng.random((n, n)) < p                      # mask[target, source]
    np.fill_diagonal(mask, False)
    weights = rng.normal(0.0, weight_scale, size=(n, n))
    G = nx.DiGraph(name=f"random_directed{n}")
    G.add_nodes_from(range(n), type=column_type, region="0")
    tgt, src = np.nonzero(mask)
    G.add_edges_from((int(j), int(i), {"weight": float(weights[i, j]), "learnable": learnable,
                                       "kind": "default"}) for i, j in zip(tgt, src))
    return G


def modular(n_regions: int = 2, n_per_region: int = 4, p_intra: float = 0.5,
            p_inter: float = 0.1, w_intra: float = 0.1, w_inter: float = 0.05,
            learn_intra: bool = True, learn_inter: bool = True, column_type: str = "bm",
            seed: int = 0) -> nx.DiGraph:
    """A modular multi-region graph: dense-ish within regions, sparse between.

    Node labels are ``"r{region}c{k}"``; ``region`` is ``"r{region}"``; edge ``kind`` is
    ``"intra"`` or ``"inter"``. Weights are N(0, w²) for the kind's scale w.

    Returns:
        A ``networkx.DiGraph`` (seeded).

    Raises:
        GraphError: sizes, probabilities, scales or seed out of range.
    """
    n_regions = _positive_int("n_regions", n_regions)
    n_per_region = _positive_int("n_per_region", n_per_region)
    p_intra = _probability("p_intra", p_intra)
    p_inter = _probability("p_inter", p_inter)
    w_intra, w_inter = _scale("w_intra", w_intra), _scale("w_inter", w_inter)
    rng = _seed(seed)
    _dense("modular", n_regions * n_per_region, 3)
    G = nx.DiGraph(name=f"modular{n_regions}x{n_per_region}")
    labels = [f"r{r}c{k}" for r in range(n_regions) for k in range(n_per_region)]
    region = [f"r{r}" for r in range(n_regions) for _ in range(n_per_region)]
    for lab, reg in zip(labels, region):
        G.add_node(lab, type=column_type, region=reg)
    reg = np.repeat(np.arange(n_regions), n_per_region)
    same = reg[:, None] == reg[None, :]                # [target, source]
    mask = rng.random(same.shape) < np.where(same, p_intra, p_inter)
    np.fill_diagonal(mask, False)
    weights = rng.normal(size=same.shape) * np.where(same, w_intra, w_inter)
    tgt, src = np.nonzero(mask)
    G.add_edges_from(
        (labels[j], labels[i], {"weight": float(weights[i, j]),
                                "learnable": learn_intra if same[i, j] else learn_inter,
                                "kind": "intra" if same[i, j] else "inter"})
        for i, j in zip(tgt, src))
    return G


def multiregion(regions=("A", "B", "C"), n: int = 64, p_within: float = 0.3,
                p_feedforward: float = 0.05, p_feedback: float = 0.02, w_within: float = 0.05,
                w_feedforward: float = 0.05, w_feedback: float = 0.02, learn_within: bool = True,
                learn_feedforward: bool = True, learn_feedback: bool = True,
                column_type: str = "bm", seed: int = 0, slow_fraction: float = 0.0,
                topographic: float = 0.0, reciprocal: bool = False) -> nx.DiGraph:
    """The main study's cortico-cortical graph (docs/main-study.md), seeded.

    ``regions`` in hierarchical order (default A, B, C) of ``n`` columns each, labelled
    ``"{region}{k}"`` with node attributes ``region`` and ``type``. Edges j → i, each present with
    its kind's probability, weight N(0, w²) for its kind's scale w:
        ``"within"``       both ends in one region (no self-loops),
        ``"feedforward"``  region r → region r + 1 (A → B → C),
        ``"feedback"``     region r + 1 → region r (C → B → A);
    no edges between regions further apart. ``learnable`` per kind. ``slow_fraction``: each
    edge is a slow synapse (``synapse="slow"``) with this probability (a draw of its own: the
    graph is the same for every fraction). ``topographic`` > 0 adds (or sets) the feedforward
    edge from column k of a region to column k of the next one with weight ``topographic`` (as
    retinotopic maps do: a region then sees the one before it in its own layout).
    ``reciprocal``: within-region edges come in pairs (j → i present exactly when i → j is, each
    with its own weight), so the symmetric part of the within-region couplings is a symmetric
    matrix on the graph (a Hopfield energy exists); ``p_within`` is then the pair probability.

    Returns:
        A ``networkx.DiGraph`` with ``region`` node attributes and ``kind`` edge attributes.

    Raises:
        GraphError: fewer than one region, duplicate names, sizes, densities or seed out of range.
    """
    regions = [str(r) for r in regions]
    if not regions or len(set(regions)) != len(regions):
        raise GraphError(f"multiregion: regions must be distinct names, got {regions}")
    n = _positive_int("n", n)
    probs = {"within": _probability("p_within", p_within),
             "feedforward": _probability("p_feedforward", p_feedforward),
             "feedback": _probability("p_feedback", p_feedback)}
    scale = {"within": _scale("w_within", w_within),
             "feedforward": _scale("w_feedforward", w_feedforward),
             "feedback": _scale("w_feedback", w_feedback)}
    topographic = _scale("topographic", topographic)
    learn = {"within": bool(learn_within), "feedforward": bool(learn_feedforward),
             "feedback": bool(learn_feedback)}
    rng = _seed(seed)
    R = len(regions)
    _dense("multiregion", R * n, 6)
    labels = [f"{r}{k}" for r in regions for k in range(n)]
    reg = np.repeat(np.arange(R), n)
    G = nx.DiGraph(name=f"multiregion{R}x{n}")
    for lab, r in zip(labels, reg):
        G.add_node(lab, type=column_type, region=regions[r])
    d = reg[:, None] - reg[None, :]                      # [target, source]: target region − source
    kind = np.full(d.shape, "", dtype=object)
    kind[d == 0], kind[d == 1], kind[d == -1] = "within", "feedforward", "feedback"
    p = np.vectorize(lambda k: probs.get(k, 0.0), otypes=[float])(kind)
    draw = rng.random(d.shape)
    if reciprocal:                                       # one draw per unordered within pair
        up = np.triu(draw, 1)
        draw = np.where(kind == "within", up + up.T, draw)
    mask = draw < p
    np.fill_diagonal(mask, False)
    w = rng.normal(size=d.shape) * np.vectorize(lambda k: scale.get(k, 0.0), otypes=[float])(kind)
    if topographic:
        same = np.arange(len(labels)) % n
        topo = (d == 1) & (same[:, None] == same[None, :])             # column k → column k
        mask |= topo
        w = np.where(topo, float(topographic), w)
    slow = np.random.default_rng([seed, 1]).random(d.shape) < _probability("slow_fraction",
                                                                           slow_fraction)
    tgt, src = np.nonzero(mask)
    G.add_edges_from((labels[j], labels[i], {"weight": float(w[i, j]), "learnable": learn[kind[i, j]],
                                             "kind": kind[i, j],
                                             **({"synapse": "slow"} if slow[i, j] else {})})
                     for i, j in zip(tgt, src))
    return G


def demo_connectome(n_per_hemisphere: int = 10, length_scale: float = 40.0, density: float = 0.5,
                    column_type: str = "bm", seed: int = 0) -> nx.DiGraph:
    """A small generated connectome for examples and tests (no data, no licence): regions on
    two hemispheres of an ellipsoid (semi-axes 70 × 85 × 60 mm, the hemispheres 10 mm apart),
    tract length 1.25 × the Euclidean distance (tracts curve), weight e^{−length/λ} (λ =
    ``length_scale`` mm; the strongest ``density`` fraction of pairs kept in each hemisphere,
    plus every homotopic pair across the midline), symmetric like a DTI connectome, normalised
    to a largest weight of 1. Labels ``L0…``, ``R0…``; node ``region`` "L"/"R"; node attributes
    ``x``, ``y``, ``z`` are not set (they would read as column parameters): positions are in
    ``G.graph["positions"]`` (mm). Edge ``length`` in mm: give a speed in mm/ms for delays in ms.

    Returns:
        A ``networkx.DiGraph`` with ``weight`` and ``length`` (mm) on every edge.

    Raises:
        GraphError: a size, scale or density out of range.
    """
    n = _positive_int("n_per_hemisphere", n_per_hemisphere)
    density = _probability("density", density)
    length_scale = _scale("length_scale (mm)", length_scale, positive=True)
    if not isinstance(column_type, str) or not column_type:
        raise GraphError(f"column_type must be a column type's name, got {column_type!r}")
    rng = _seed(seed)
    _dense("demo_connectome", 2 * n, 6)
    u = rng.normal(size=(n, 3))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    u[:, 0] = np.abs(u[:, 0])                               # one half: x >= 0
    half = u * np.array([70.0, 85.0, 60.0]) * rng.uniform(0.6, 1.0, size=(n, 1))
    pos = np.concatenate([half * [-1, 1, 1] - [5, 0, 0], half + [5, 0, 0]])   # L, R (mirror)
    labels = [f"L{k}" for k in range(n)] + [f"R{k}" for k in range(n)]
    length = 1.25 * np.linalg.norm(pos[:, None] - pos[None, :], axis=-1)
    weight = np.exp(-length / float(length_scale))
    hemi = np.repeat([0, 1], n)
    keep = np.zeros_like(weight, dtype=bool)
    iu = np.triu_indices(n, 1)
    for h in (0, 1):
        block = weight[h * n:(h + 1) * n, h * n:(h + 1) * n][iu]
        k = max(1, int(round(density * block.size))) if block.size else 0
        if k:
            cut = np.sort(block)[-k]
            sel = np.zeros((n, n), dtype=bool)
            sel[iu] = block >= cut
            keep[h * n:(h + 1) * n, h * n:(h + 1) * n] = sel | sel.T
    keep[np.arange(n), np.arange(n) + n] = keep[np.arange(n) + n, np.arange(n)] = True
    weight = np.where(keep, weight, 0.0)
    weight /= weight.max()
    G = nx.DiGraph(name=f"demo_connectome{2 * n}", positions=pos.tolist(), length_unit="mm")
    for lab, h in zip(labels, hemi):
        G.add_node(lab, type=column_type, region="LR"[h])
    for i, j in zip(*np.nonzero(keep)):
        G.add_edge(labels[j], labels[i], weight=float(weight[i, j]), learnable=False,
                   kind="within" if hemi[i] == hemi[j] else "callosal", length=float(length[i, j]))
    return G
