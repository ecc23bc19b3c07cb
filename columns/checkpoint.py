"""Checkpoints of a run in progress: written atomically, read back to resume bit-identically.

A checkpoint (``torch.save`` format) holds

    {"version", "fingerprint": what defines the run (solver and options, time grid, y0, batch,
     recorded fields, chunk, network sizes and dtype),
     "k": index of the last sample computed, "y": the state there, "carry": the solver's carry
     (warm starts, RNG counters, diagnostics), "fields": every recorded field up to k}

so that ``simulate(..., resume=path)`` continues from sample k with exactly the state, carry and
chunk boundaries of the uninterrupted run (on CPU the result is bit-identical). A checkpoint is
written to a temporary file in the same folder and renamed over the old one: an interruption
leaves either the previous checkpoint or the new one, never a torn file.

Shapes: y (B, S); fields (k+1, B, n_f).
"""

from __future__ import annotations

import os

import torch

from graphs.errors import SolverError

from .atomic import atomic_write

VERSION = 1


def save(path, payload: dict) -> str:
    """Write ``payload`` to ``path`` atomically; return the path."""
    return atomic_write(path, lambda tmp: torch.save({"version": VERSION, **payload}, tmp),
                        suffix=".ckpt.tmp")


def load(path, fingerprint: dict) -> dict:
    """Read a checkpoint and check that it belongs to the run described by ``fingerprint``.

    Raises:
        SolverError: no file, not a checkpoint, or written by a different run (names the key).
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise SolverError(f"resume: no checkpoint at {path!r}")
    try:
        data = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:                     # noqa: BLE001 - any unreadable file
        raise SolverError(f"resume: {path!r} is not a readable checkpoint ({err})") from err
    if not isinstance(data, dict) or data.get("version") != VERSION:
        raise SolverError(f"resume: {path!r} is not a checkpoint of this version ({VERSION})")
    for key, want in fingerprint.items():
        have = data["fingerprint"].get(key)
        same = (torch.equal(have, want) if torch.is_tensor(want) and torch.is_tensor(have)
                else have == want)
        if not same:
            raise SolverError(f"resume: the checkpoint {path!r} was written by a different run: "
                              f"{key} differs ({_short(have)} there, {_short(want)} here)")
    return data


def _short(v) -> str:
    if torch.is_tensor(v):
        return f"tensor of shape {tuple(v.shape)}"
    text = repr(v)
    return text if len(text) < 120 else text[:117] + "..."
