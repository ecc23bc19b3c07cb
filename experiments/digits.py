"""Data of the FEP attractor simulations: scikit-learn's bundled 8×8 digits, preprocessed as in the
authors' code (pixel values squared, each image z-scored with its own mean and population std).

Train set: the first 10 images (digits 0..9 in order); test set: the other 1787.
Shapes: (10, 64) and (1787, 64), float64.
"""

from __future__ import annotations

import torch


def zscore_rows(x: torch.Tensor) -> torch.Tensor:
    return (x - x.mean(-1, keepdim=True)) / x.std(-1, unbiased=False, keepdim=True)


def digits(device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """(train (10, 64), test (1787, 64)) z-scored squared digits."""
    from sklearn.datasets import load_digits
    X = torch.as_tensor(load_digits().data, dtype=torch.float64)
    Z = zscore_rows(X ** 2).to(device)
    return Z[:10], Z[10:]
