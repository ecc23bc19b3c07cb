"""Memory estimates before large allocations: a size beyond the free memory is a named error with
the estimate, not a ``MemoryError`` (or a swapping machine) halfway through.

``free_bytes(device)``: CUDA's ``mem_get_info`` for a CUDA device, else the operating system's
MemAvailable (Linux), else the available physical pages. ``check(n_bytes, device, what,
advice, error)``: raises ``error`` when ``n_bytes`` exceeds ``SHARE`` of that.
"""

from __future__ import annotations

import os

SHARE = 0.5
"""Largest share of the free memory one allocation may take."""


def free_bytes(device="cpu") -> int:
    """Free memory of ``device`` in bytes (module ``graphs.memory``)."""
    import torch
    device = torch.device(device)
    if device.type == "cuda":
        return int(torch.cuda.mem_get_info(device)[0])
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def check(n_bytes: float, device, what: str, advice: str, error: type) -> None:
    """``error`` naming ``what`` (the sizes behind the estimate), the estimate, the free memory
    and the ``advice`` when ``n_bytes`` > ``SHARE`` × ``free_bytes(device)``."""
    free = free_bytes(device)
    if n_bytes > SHARE * free:
        raise error(f"{what} would take {n_bytes / 2**30:.3g} GiB, more than {SHARE:.0%} of the "
                    f"{free / 2**30:.3g} GiB free on {device}: {advice}")
