"""The one figure helper of the experiments: matplotlib's file backend (Agg, no screen needed),
axes labelled when they are made, and an atomic save (a temp file in the output folder, then a
rename: an interrupted run never leaves a torn PNG)."""

from __future__ import annotations

import os


def pyplot():
    """matplotlib.pyplot on the Agg backend (imported on first use, not with the experiments)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def figure(nrows: int = 1, ncols: int = 1, **kwargs):
    """``plt.subplots(nrows, ncols, **kwargs)`` on the Agg backend: (figure, axes)."""
    return pyplot().subplots(nrows, ncols, **kwargs)


def label(ax, xlabel: str, ylabel: str, title: str | None = None):
    """Set an axes' x and y labels (and title); returns the axes."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title is not None:
        ax.set_title(title)
    return ax


def save(fig, out: str, name: str, dpi: int = 110) -> str:
    """Write ``fig`` to ``out/name`` atomically (the format from the name's extension), close it,
    and return ``name`` (for the results' figure list)."""
    from columns.atomic import atomic_write
    ext = os.path.splitext(name)[1] or ".png"
    atomic_write(os.path.join(out, name),
                 lambda tmp: fig.savefig(tmp, dpi=dpi, format=ext.lstrip(".")), suffix=ext)
    pyplot().close(fig)
    return name
