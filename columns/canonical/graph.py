"""A canonical network's middle layer as a graph of "canonical" column nodes (thresholds = priors)."""

from __future__ import annotations

from .params import CanonicalNetwork, log1m_sig
from .reverse import priors_from_thresholds


def graph_from_network(net: CanonicalNetwork):
    """A networkx graph of ``CanonicalColumn`` nodes 0..Nx−1 for the middle layer of ``net``:
    edges j → i with weight K_ij (self-loops allowed), node attributes ``prior`` (D from the
    thresholds) and ``structure`` (c). The sensory drive W o_t is the stimulus.

    Returns:
        A ``networkx.DiGraph`` ready for ``columns.Network.from_graph``.
    """
    import networkx as nx
    h, _ = net.thresholds()
    struct = (log1m_sig(net.W1).sum(-1) + log1m_sig(net.K1).sum(-1)
              - log1m_sig(net.W0).sum(-1) - log1m_sig(net.K0).sum(-1))
    D = priors_from_thresholds(h, net)
    G = nx.DiGraph(allow_self_loops=True)
    K = net.K
    for i in range(K.shape[0]):
        G.add_node(i, type="canonical", prior=float(D[i]), structure=float(struct[i]))
    G.add_weighted_edges_from((j, i, float(K[i, j])) for i in range(K.shape[0]) for j in range(K.shape[1]))
    return G
