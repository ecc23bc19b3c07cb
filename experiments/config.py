"""The fields every experiment's ``Config`` has (a dataclass subclassing this one)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ExperimentConfig:
    """``seed`` (every random draw of the run follows from it) and ``device`` ("cpu", "cuda", …);
    ``tiny()`` is the CI preset (each experiment overrides it)."""

    seed: int = 0
    """every random draw of the run follows from it"""
    device: str = "cpu"
    """torch device: "cpu", "cuda", "cuda:1" …"""

    @classmethod
    def tiny(cls):
        return cls()
