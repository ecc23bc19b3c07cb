"""Wall-clock timing for the benchmarks: the median of repeated calls, the device synchronised
around each (docs/theory.md §8: ratios against a baseline timed the same way, same process)."""

from __future__ import annotations

import statistics
import time

import torch


def sync(device) -> None:
    """Wait for queued work on ``device`` (CUDA); nothing on the CPU."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def median_time(fn, repeats: int, device) -> float:
    """Seconds per call of ``fn()``: one warm-up call, then the median of ``repeats`` timed calls."""
    fn()
    sync(device)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)
