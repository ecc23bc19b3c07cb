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


def identity(value):
    """What a run's option is, by content, for the fingerprint: a tensor or array by its shape,
    dtype and SHA-256 of its bytes; a function by its qualified name (``module.qualname``, never
    a memory address); a ``Recording`` by its times and fields; containers element by element;
    other values as they are (their ``repr`` when not a plain number, string or None)."""
    import hashlib

    import numpy as np
    from .recording import Recording
    if torch.is_tensor(value) or isinstance(value, np.ndarray):
        a = (value.detach().cpu().contiguous().numpy() if torch.is_tensor(value)
             else np.ascontiguousarray(value))
        digest = hashlib.sha256(a.tobytes()).hexdigest()[:16]
        return f"array{tuple(a.shape)} {a.dtype} sha256:{digest}"
    if isinstance(value, Recording):
        return {"recording": identity(value.t), **{f: identity(v) for f, v in value.fields.items()}}
    if isinstance(value, dict):
        return {str(k): identity(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [identity(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if callable(value):
        mod, name = getattr(value, "__module__", "?"), getattr(value, "__qualname__", None)
        return f"function {mod}.{name or type(value).__qualname__}"
    return repr(value)


def solver_identity(solver) -> dict:
    """The solver's name and every option by content (``identity``): what resuming compares."""
    return {"name": solver.name, **{k: identity(v) for k, v in solver.settings.items()}}


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
        if isinstance(want, dict) and isinstance(have, dict):      # the solver: option by option
            for k in dict.fromkeys([*want, *have]):
                if have.get(k) != want.get(k):
                    raise SolverError(f"resume: the checkpoint {path!r} was written by a different "
                                      f"run: {key} option {k!r} differs ({_short(have.get(k))} "
                                      f"there, {_short(want.get(k))} here)")
            continue
        if torch.is_tensor(want) or torch.is_tensor(have):
            same = (torch.is_tensor(want) and torch.is_tensor(have) and have.shape == want.shape
                    and have.dtype == want.dtype and torch.equal(have, want))
        else:
            same = have == want
        if not same:
            raise SolverError(f"resume: the checkpoint {path!r} was written by a different run: "
                              f"{key} differs ({_short(have)} there, {_short(want)} here)")
    return data


def _short(v) -> str:
    if torch.is_tensor(v):
        return f"tensor of shape {tuple(v.shape)}"
    text = repr(v)
    return text if len(text) < 120 else text[:117] + "..."
