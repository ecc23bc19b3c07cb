"""Column types by name, for graphs whose nodes say ``type="…"``."""

from __future__ import annotations

from graphs.errors import GraphError

from .bm_network import NetworkBMColumn
from .canonical.column import CanonicalColumn
from .column import ColumnType
from .fep_column import FEPColumn
from .k6 import K6Column

_REGISTRY: dict[str, type[ColumnType]] = {"bm": NetworkBMColumn, "k6": K6Column, "fep": FEPColumn,
                                          "canonical": CanonicalColumn}


def register_column_type(name: str, cls: type[ColumnType]) -> None:
    """Make ``cls`` available to graphs whose nodes carry ``type=name``."""
    if not (isinstance(cls, type) and issubclass(cls, ColumnType)):
        raise TypeError(f"{cls!r} is not a ColumnType subclass")
    _REGISTRY[name] = cls


def column_type(name: str, node=None) -> type[ColumnType]:
    """The class registered as ``name``; ``GraphError`` naming the node if unknown."""
    if name not in _REGISTRY:
        where = f" (node {node!r})" if node is not None else ""
        raise GraphError(f"unknown column type {name!r}{where}; known types: {sorted(_REGISTRY)}; "
                         "pass column_types={name: YourColumnType} or register_column_type()")
    return _REGISTRY[name]


def known_types() -> list[str]:
    return sorted(_REGISTRY)
