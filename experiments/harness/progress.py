"""A progress bar for an experiment's long loops (tqdm on stderr, at most one refresh a second)."""

from __future__ import annotations

ENABLED = True
"""False hides the bars (a sweep's points run quietly under the sweep's own bar)."""


def progress(iterable, desc: str, unit: str = "it"):
    """``iterable`` wrapped in a tqdm bar labelled ``desc`` (removed when done)."""
    from tqdm.auto import tqdm
    return tqdm(iterable, desc=desc, unit=unit, mininterval=1.0, leave=False,
                disable=not ENABLED)


def bar(total: int, desc: str, unit: str = "it", show: bool = True):
    """A tqdm bar over ``total`` units that the caller updates (hidden like ``progress``, or
    when ``show`` is False)."""
    from tqdm.auto import tqdm
    return tqdm(total=total, desc=desc, unit=unit, disable=not (show and ENABLED))
