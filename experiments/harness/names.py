"""Experiment names as a user types them: the message for one that is not an experiment."""

from __future__ import annotations

import difflib


def unknown(name: str, names) -> str:
    """The message for an experiment name that is not one: the closest names first."""
    close = difflib.get_close_matches(name, list(names), n=3, cutoff=0.5)
    hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
    return f"unknown experiment {name!r}; {hint}'columns list' names all {len(names)}"
