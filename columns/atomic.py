"""Atomic file writes: write to a temporary file in the same folder, then rename it over the
target (``os.replace``), so a reader (or an interrupted run) sees the old file or the new one,
never a torn one. The file gets the mode a plain ``open(path, "w")`` would give it (0666 less the
umask; ``mkstemp`` alone would leave 0600), and a failed write leaves the old file as it was and
raises an ``OutputError`` (an ``OSError``) naming the target. ``check_writable`` says before any
work whether a target can be written."""

from __future__ import annotations

import errno
import os
import tempfile
from typing import Callable

from graphs.errors import OutputError


def atomic_write(path, write: Callable[[str], None], suffix: str = ".tmp") -> str:
    """Call ``write(tmp)`` to fill a temporary file, then move it to ``path``; return the path."""
    path = os.fspath(path)
    if not path:
        raise OutputError(errno.ENOENT, "cannot write a file at an empty path")
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise OutputError(errno.EISDIR, f"cannot write {path}: it is a folder")
    tmp = None
    try:
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(suffix=suffix, dir=folder)
        os.close(fd)
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except OSError as err:
        raise OutputError(err.errno, f"writing {path} failed: {_reason(err, path)}") from err
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.remove(tmp)
    return path


def check_writable(path, what: str = "path", folder: bool = False) -> None:
    """``OutputError`` naming ``what`` when ``path`` cannot be written: as a file (``folder``
    False: not a folder, its folder creatable and writable) or as a folder (not a file; itself,
    or the nearest existing folder above it, writable). Creates nothing."""
    try:
        path = os.path.abspath(os.fspath(path))
    except TypeError:
        raise OutputError(errno.EINVAL, f"{what} must be a path (str or os.PathLike), got "
                          f"{type(path).__name__}") from None
    if folder and os.path.exists(path) and not os.path.isdir(path):
        raise OutputError(errno.ENOTDIR, f"{what} {path} is a file; give a folder")
    if not folder and os.path.isdir(path):
        raise OutputError(errno.EISDIR, f"{what} {path} is a folder; give a file path")
    probe = path if folder else os.path.dirname(path)
    while not os.path.exists(probe):
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    if not os.path.isdir(probe):
        raise OutputError(errno.ENOTDIR, f"{what} {path} cannot be created: {probe} is a file")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise OutputError(errno.EACCES, f"{what} {path} cannot be written: no write permission "
                          f"in {probe}")


def make_folder(path, what: str = "folder") -> str:
    """``os.makedirs(path, exist_ok=True)``, its failure an ``OutputError`` naming ``what``."""
    path = os.fspath(path)
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as err:
        raise OutputError(err.errno, f"{what} {path} cannot be created: "
                          f"{err.strerror or err}") from err
    return path


def _reason(err: OSError, path: str) -> str:
    """The error's reason without the temporary file's name."""
    text = err.strerror or str(err)
    return text.replace(str(getattr(err, "filename", "") or "\0"), path)


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
