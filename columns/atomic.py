"""Atomic file writes: write to a temporary file in the same folder, then rename it over the
target (``os.replace``), so a reader (or an interrupted run) sees the old file or the new one,
never a torn one."""

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
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path
