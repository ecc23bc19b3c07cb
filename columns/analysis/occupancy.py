"""Occupancy of attractors: label states by their nearest attractor, dwell times, transitions.

    label_t = argmax_k cos(x_t, a_k)   if that cosine ≥ threshold (default 0.9),   else −1 ("none")
    dwell times: lengths of the maximal runs of one label (runs of −1 excluded)
    transitions: counts (or row-normalised probabilities) of label_t → label_{t+1} over the
                 K + 1 labels (index K = "none"), label changes only unless ``include_stay``

Works on any recorded states: x (T, n) of one region, attractors (K, n).
Shapes: labels (T,) int64 in −1..K−1.
"""

from __future__ import annotations

import torch

from graphs.errors import AnalysisError

from . import checks


def cosines(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Cosine similarity of every row of x (T, n) with every row of y (K, n): (T, K).

    Returns:
        The cosines (T, K) (0 for a zero row).
    """
    xn = x / x.norm(dim=1, keepdim=True).clamp(min=1e-300)
    yn = y / y.norm(dim=1, keepdim=True).clamp(min=1e-300)
    return xn @ yn.T


def label_states(x: torch.Tensor, attractors: torch.Tensor, threshold: float = 0.9) -> torch.Tensor:
    """Nearest attractor by cosine similarity, −1 below ``threshold``. x (T, n), attractors (K, n).

    Returns:
        Labels (T,) int64, −1 where no attractor is close enough.

    Raises:
        AnalysisError: x or attractors not 2-D, or their widths differ.
    """
    threshold = checks.threshold(threshold)
    if x.dim() != 2 or attractors.dim() != 2 or x.shape[1] != attractors.shape[1]:
        raise AnalysisError(f"label_states: need x (T, n) and attractors (K, n), got {tuple(x.shape)} "
                         f"and {tuple(attractors.shape)}")
    if attractors.shape[0] == 0:
        return torch.full((x.shape[0],), -1, dtype=torch.int64, device=x.device)
    best, k = cosines(x, attractors).max(1)
    return torch.where(best >= threshold, k, torch.full_like(k, -1))


def runs(labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(values, lengths) of the maximal runs of equal labels, in time order.

    Returns:
        (values, lengths), each (R,) int64.
    """
    if labels.numel() == 0:
        return labels.new_zeros(0), labels.new_zeros(0)
    values, lengths = torch.unique_consecutive(labels, return_counts=True)
    return values, lengths


def dwell_times(labels: torch.Tensor, n_labels: int) -> list[torch.Tensor]:
    """For each label 0..n_labels−1 the lengths (in samples) of its runs.

    Returns:
        A list of n_labels int64 tensors of run lengths.

    Raises:
        AnalysisError: labels that are not a 1-D integer sequence in −1..n_labels−1.
    """
    labels = checks.labels(labels, n_labels)
    values, lengths = runs(labels)
    return [lengths[values == k] for k in range(n_labels)]


def transition_matrix(labels: torch.Tensor, n_labels: int, include_stay: bool = False,
                      normalise: bool = True) -> torch.Tensor:
    """(K + 1, K + 1) label_t → label_{t+1} (index K = none). Counts, or rows summing to 1
    (rows never left stay 0).

    Returns:
        The matrix (K + 1, K + 1).

    Raises:
        AnalysisError: labels that are not a 1-D integer sequence in −1..n_labels−1.
    """
    labels = checks.labels(labels, n_labels)
    lab = torch.where(labels < 0, n_labels, labels)
    a, b = lab[:-1], lab[1:]
    keep = torch.ones_like(a, dtype=torch.bool) if include_stay else a != b
    M = torch.zeros(n_labels + 1, n_labels + 1, dtype=torch.float64, device=labels.device)
    M.index_put_((a[keep], b[keep]), torch.ones(int(keep.sum()), dtype=torch.float64,
                                                 device=labels.device), accumulate=True)
    if normalise:
        M = M / M.sum(1, keepdim=True).clamp(min=1)
    return M
