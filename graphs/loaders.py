"""Loaders: a numpy matrix, GraphML (via networkx), and TVB's connectivity zip.

Every loader returns a ``networkx.DiGraph`` that passes ``validate`` (then ``compile`` it).
The matrix convention must be stated: ``"target_source"`` (ours, row = target: ``A[i, j]`` is
the weight of j -> i) or ``"source_target"`` (networkx's ``to_numpy_array``, row = source).
"""

from __future__ import annotations

import io
import zipfile
import xml.etree.ElementTree as ET

import networkx as nx
import numpy as np

from .errors import GraphError
from .schema import validate

CONVENTIONS = ("target_source", "source_target")


def from_numpy(A, convention: str = "target_source", labels=None, column_type: str = "bm",
               learnable: bool = False, kind: str = "default", allow_self_loops: bool = False,
               regions=None) -> nx.DiGraph:
    """A square matrix of weights -> DiGraph; zero entries are absent edges.

    Shapes: A (N, N).
    """
    A = np.asarray(A, dtype=float)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise GraphError(f"connectivity matrix must be square (N, N), got shape {A.shape}")
    if convention not in CONVENTIONS:
        raise GraphError(f"convention must be one of {CONVENTIONS}, got {convention!r}")
    if not np.all(np.isfinite(A)):
        i, j = np.argwhere(~np.isfinite(A))[0]
        raise GraphError(f"connectivity matrix has a non-finite entry at [{i}, {j}]")
    W = A if convention == "target_source" else A.T          # W[target, source]
    n = W.shape[0]
    labels = list(range(n)) if labels is None else list(labels)
    if len(labels) != n:
        raise GraphError(f"{len(labels)} labels for a {n}x{n} matrix")
    regions = ["0"] * n if regions is None else [str(r) for r in regions]
    G = nx.DiGraph(allow_self_loops=allow_self_loops)
    for lab, reg in zip(labels, regions):
        G.add_node(lab, type=column_type, region=reg)
    if len(G) != n:
        raise GraphError("duplicate node labels in 'labels'")
    tgt, src = np.nonzero(W)
    G.add_edges_from((labels[j], labels[i], {"weight": float(W[i, j]), "learnable": learnable,
                                             "kind": kind}) for i, j in zip(tgt, src))
    validate(G)
    return G


def from_graphml(path, column_type: str | None = None) -> nx.DiGraph:
    """Read a GraphML file (networkx) as a DiGraph; ``column_type`` fills missing ``type``."""
    try:
        G = nx.read_graphml(path)
    except (OSError, ET.ParseError, nx.NetworkXError, KeyError, ValueError) as err:
        raise GraphError(f"{path}: not a readable GraphML file ({type(err).__name__}: {err})") from None
    if not G.is_directed():
        raise GraphError(f"{path}: GraphML graph is undirected (edgedefault='undirected'); "
                         "cortico-cortical graphs must be directed")
    G = nx.DiGraph(G)
    if column_type is not None:
        for v in G.nodes:
            G.nodes[v].setdefault("type", column_type)
    validate(G)
    return G


def from_tvb_zip(path, convention: str = "target_source", column_type: str = "bm",
                 learnable: bool = False) -> nx.DiGraph:
    """Read a TVB connectivity zip (``weights.txt``, optional ``centres.txt``/``tract_lengths.txt``).

    Region labels come from the first column of ``centres.txt`` when present. Tract lengths,
    when present, are kept as ``G.graph["tract_lengths"]`` ((N, N) nested list, same orientation
    as the weights file) for users who derive delays = length / conduction speed.
    TVB's own orientation of ``weights`` should be checked against your data set: pass
    ``convention`` explicitly.
    """
    try:
        z = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as err:
        raise GraphError(f"{path}: not a readable TVB connectivity zip ({type(err).__name__}: "
                         f"{err})") from None
    with z:
        names = {n.rsplit("/", 1)[-1]: n for n in z.namelist()}
        if "weights.txt" not in names:
            raise GraphError(f"{path}: no weights.txt in the connectivity zip (found {sorted(names)})")
        try:
            W = np.loadtxt(io.BytesIO(z.read(names["weights.txt"])))
        except ValueError as err:
            raise GraphError(f"{path}: weights.txt is not a numeric matrix ({err})") from None
        labels = None
        if "centres.txt" in names:
            lines = z.read(names["centres.txt"]).decode().split("\n")
            labels = [ln.split()[0] for ln in lines if ln.strip()]
        lengths = (np.loadtxt(io.BytesIO(z.read(names["tract_lengths.txt"])))
                   if "tract_lengths.txt" in names else None)
    G = from_numpy(W, convention=convention, labels=labels, column_type=column_type,
                   learnable=learnable)
    if lengths is not None:
        G.graph["tract_lengths"] = lengths.tolist()
    return G
