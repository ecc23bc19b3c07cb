"""One live run per folder: a run holds ``DIR/.columns.lock`` (an exclusive ``fcntl.flock``)
while it works, and writes into it who holds it (process id, host, start time, command).

A second run into the same folder (with or without ``--resume``, a sweep's point run twice at
once, a sweep started twice into one folder) finds the lock held and stops before touching
anything, naming the live process. The operating system releases the lock when the holder ends
in any way (finished, interrupted, killed), so a stale lock file never blocks: the file itself
stays (removing it could let two runs hold locks on different files), except in a folder the
run created and left empty (a run refused at its start leaves no folder). On a system without
``fcntl`` there is no lock.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import time

from columns import ConfigError, OutputError
from columns.atomic import make_folder

NAME = ".columns.lock"


@contextlib.contextmanager
def held(folder: str, what: str = "run"):
    """Hold the folder's lock for the block (module ``experiments.harness.lock``); ``ConfigError``
    naming the live
    holder when another process has it. Creates ``folder`` if needed."""
    try:
        import fcntl
    except ImportError:                          # not POSIX: no lock
        yield
        return
    created = not os.path.exists(folder)
    make_folder(folder, "the output folder")
    path = os.path.join(folder, NAME)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as err:
        raise OutputError(err.errno, f"{folder} cannot be written ({path}: "
                          f"{err.strerror or err})") from err
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise ConfigError(f"{folder} is in use by a {what} that is still going ({holder(path)}):"
                              f" wait for it to end, or stop it, then run again; nothing was "
                              "changed") from None
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                 "started": time.strftime("%Y-%m-%d %H:%M:%S"),
                                 "command": " ".join(sys.argv)[:300]}).encode())
        yield
    finally:
        os.close(fd)                             # releases the lock
        if created and os.listdir(folder) == [NAME]:    # a run that wrote nothing: no folder
            try:
                os.remove(path)
                os.rmdir(folder)
            except OSError:
                pass


def holder(path: str) -> str:
    """Who holds the lock at ``path``, in words (what the holder wrote)."""
    try:
        with open(path) as f:
            info = json.load(f)
        return (f"process {info['pid']} on {info['host']}, started {info['started']}: "
                f"{info.get('command', '')}")
    except (OSError, ValueError, KeyError, TypeError):
        return "a process that has not written its name yet"
