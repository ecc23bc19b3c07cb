"""Atomic file writes: write to a temporary file in the same folder, then rename it over the
target (``os.replace``), so a reader (or an interrupted run) sees the old file or the new one,
never a torn one. The file gets the mode a plain ``open(path, "w")`` would give it (0666 less the
umask; ``mkstemp`` alone would leave 0600), and a failed write leaves the old file as it was and
raises an ``OSError`` naming the target."""

from __future__ import annotations

import os
import tempfile
from typing import Callable


def atomic_write(path, write: Callable[[str], None], suffix: str = ".tmp") -> str:
    """Call ``write(tmp)`` to fill a temporary file, then move it to ``path``; return the path."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=suffix, dir=folder)
    os.close(fd)
    try:
        try:
            write(tmp)
            os.chmod(tmp, 0o666 & ~_umask())
            os.replace(tmp, path)
        except OSError as err:
            raise type(err)(err.errno, f"writing {path} failed: {err.strerror or err}") from err
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def _umask() -> int:
    """The process umask: from /proc (Linux; no side effect), else by setting it and back."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
