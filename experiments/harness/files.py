"""Atomic text and JSON files of a run (results.json, report.md, run.json, point.json, …): a temp
file in the same folder, then a rename, with the mode a plain ``open(…, "w")`` gives
(``columns.atomic_write``)."""

from __future__ import annotations

import json

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
