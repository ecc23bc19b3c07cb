"""How many CPU threads the engine computes with: one count for torch and numba, for the whole run.

torch's intra-op pool and numba's parallel kernels share one OpenMP runtime (torch's libgomp).
Starting numba's pool sets OpenMP's thread count, which is torch's count, to every core: a run
set to one thread ran on two after its first fused-kernel call. And when another process takes a
core, every parallel region of ours waits at a barrier for a thread the scheduler has put aside
(measured on 2 cores, the main study with one busy competitor started during the run: 485 s
before this module, 210 s with it; 200 s and 180 s alone). So:

- ``start_numba()`` starts numba's pool once, before any kernel, and puts torch's count back
  (``columns.coupling.kernels`` calls it on import): from then on only ``torch.set_num_threads`` and this
  module change the count;
- ``set_threads(n)`` fixes the count for torch and numba (the CLI's ``--threads N``);
  ``set_threads("auto")`` uses the cores that other processes leave free, re-measured every
  ``WATCH_PERIOD`` seconds by a daemon thread for the whole run (``/proc/stat``'s busy time minus
  this process's own), so a competitor that starts mid-run takes threads away at the next chunk
  or dynamics call, and gives them back when it ends;
- ``engine(work)``, around a run: small problems (``work`` = batch × state size below
  ``SMALL_WORK``) run on one thread, which is faster there (a dynamics call of 3 × 192 columns:
  no gain from a second thread; at 10⁵ columns × 3: 2.0×); on exit the setting applies again
  (without one, torch's count from before is put back);
- ``sync()``, at safe points (every dynamics call, every chunk): applies the current count to the
  calling thread (OpenMP's count is per thread), and costs a comparison when nothing changed.

Without ``set_threads`` the count is torch's own (``torch.get_num_threads()`` when ``engine`` is
entered, so ``torch.set_num_threads`` keeps working), fixed.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time

import torch

SMALL_WORK = 50_000
"""Batch × state size below which one thread is at least as fast (dynamics-call timings)."""

WATCH_PERIOD = 1.0
"""Seconds between two measurements of the other processes' load (``set_threads("auto")``)."""

_lock = threading.Lock()
_fixed: int | None = None          # set_threads(n)
_auto = False                      # set_threads("auto")
_free: int | None = None           # cores other processes leave free (the watcher's last reading)
_watcher: threading.Thread | None = None
_local = threading.local()         # per thread: the user's count and the cap of engine(), a stack
_used: set[int] = set()            # the counts runs have used (``used()``)


def cores() -> int:
    """The cores this process may run on (its affinity mask, else the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _cpu_times() -> tuple[float, float]:
    """(busy seconds of the whole machine, busy seconds of this process) since boot."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    tick = os.sysconf("SC_CLK_TCK")
    busy = (sum(v[:8]) - v[3] - (v[4] if len(v) > 4 else 0)) / tick   # all but idle, iowait
    own = os.times()
    return busy, own.user + own.system


def others_busy(window: float = 0.25) -> float:
    """Cores kept busy by other processes over ``window`` seconds (Linux ``/proc/stat``; else
    the 1-minute load average, which counts this process too)."""
    try:
        b0, o0 = _cpu_times()
        t0 = time.monotonic()
        time.sleep(window)
        b1, o1 = _cpu_times()
        dt = time.monotonic() - t0
        return max(0.0, ((b1 - b0) - (o1 - o0)) / dt)
    except (OSError, ValueError, IndexError):
        try:
            return os.getloadavg()[0]
        except OSError:
            return 0.0


def free_cores(window: float = 0.25) -> int:
    """The cores other processes leave free now (at least 1)."""
    return max(1, min(cores(), round(cores() - others_busy(window))))


def _watch() -> None:
    global _free
    while _auto:
        _free = free_cores(WATCH_PERIOD)


def set_threads(n: int | str | None) -> int:
    """Fix the thread count of torch and numba (``n`` ≥ 1), or follow the free cores
    (``"auto"``; a daemon thread re-measures them every ``WATCH_PERIOD`` s), or go back to
    torch's own count (None; the watcher stops). Returns the count in force now. Raises
    ValueError for anything else.

    Returns:
        The thread count in force after the call.

    Raises:
        ValueError: ``n`` is not an integer ≥ 1, ``"auto"`` or None.
    """
    global _fixed, _auto, _free, _watcher
    if n is None:
        _fixed, _auto, _free = None, False, None
    elif n == "auto":
        with _lock:
            _fixed, _auto = None, True
            _free = free_cores()
            if _watcher is None or not _watcher.is_alive():
                _watcher = threading.Thread(target=_watch, name="columns-threads", daemon=True)
                _watcher.start()
    elif isinstance(n, int) and not isinstance(n, bool) and n >= 1:
        _fixed, _auto, _free = n, False, None
    else:
        raise ValueError(f"threads must be an integer >= 1 or 'auto', got {n!r}")
    start_numba()
    return sync()


def setting() -> int | str | None:
    """What ``set_threads`` last fixed: a count, "auto", or None (torch's own count)."""
    return "auto" if _auto else _fixed


def _wanted() -> int:
    """The count for the calling thread now: the setting (fixed, free cores, or torch's count
    when ``engine`` was entered), capped by the innermost ``engine`` (1 for small problems)."""
    stack = getattr(_local, "stack", None)
    if _fixed is not None:
        n = _fixed
    elif _auto:
        n = _free or 1
    elif stack:
        n = stack[0][0]
    else:
        return torch.get_num_threads()
    if stack:
        n = min(n, stack[-1][1])
    return max(1, n)


def sync() -> int:
    """Apply the wanted count to torch and numba in the calling thread; return it."""
    n = _wanted()
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
        _used.add(n)
    return n


def used(reset: bool = False) -> list[int]:
    """The thread counts that runs (``engine``) have computed with, ascending; ``reset`` empties
    the list afterwards."""
    out = sorted(_used)
    if reset:
        _used.clear()
    return out


@contextlib.contextmanager
def engine(work: int):
    """Run the block with the count for a problem of ``work`` = batch × state-size elements
    (one thread below ``SMALL_WORK``); torch's count before is restored on exit."""
    stack = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    before = torch.get_num_threads()
    stack.append((before, 1 if work < SMALL_WORK else 1 << 30))
    try:
        _used.add(sync())
        yield
    finally:
        stack.pop()
        if _fixed is not None or _auto:
            sync()                             # the setting now, not the count at entry
        elif torch.get_num_threads() != before:
            torch.set_num_threads(before)


def numba_threads() -> int:
    """The thread count for a fused numba kernel called now (the torch count, within numba's
    pool); sets numba's count for the calling thread."""
    import numba
    n = max(1, min(sync(), numba.config.NUMBA_NUM_THREADS))
    if numba.get_num_threads() != n:
        numba.set_num_threads(n)
    return n


_numba_started = False


def start_numba() -> None:
    """Start numba's thread pool now, keeping torch's thread count (module ``columns.threads``)."""
    global _numba_started
    if _numba_started:
        return
    try:
        import numba
    except ImportError:
        _numba_started = True
        return
    n = torch.get_num_threads()
    numba.get_num_threads()                # launches the pool: OpenMP's count becomes every core
    torch.set_num_threads(n)
    _numba_started = True
