"""Atomic text and JSON files of a run (results.json, report.md, run.json, point.json, …): a temp
file in the same folder, then a rename, with the mode a plain ``open(…, "w")`` gives
(``columns.atomic_write``)."""

from __future__ import annotations

import json
import os

import torch

from columns import atomic_write


def write_text(path: str, text: str) -> None:
    """Write a text file atomically (temp file in the same folder, then rename)."""
    def write(tmp):
        with open(tmp, "w") as f:
            f.write(text)
    atomic_write(path, write)


def write_json(path: str, data: dict) -> None:
    """Write JSON atomically (``write_text``)."""
    write_text(path, json.dumps(data, indent=2, default=_jsonable))


def _jsonable(x):
    if torch.is_tensor(x):
        return x.tolist()
    if hasattr(x, "tolist"):
        return x.tolist()
    return str(x)


def set_aside(path: str) -> str:
    """Rename a file that cannot be read to ``path.unreadable`` (``.unreadable.1``, … when that
    name is taken: an earlier one is never overwritten); return the new name. Kept for inspection,
    never deleted."""
    bad, k = path + ".unreadable", 0
    while os.path.exists(bad):
        k += 1
        bad = f"{path}.unreadable.{k}"
    os.replace(path, bad)
    return bad
