"""Column types by name, for graphs whose nodes say ``type="…"``.

A column type registers itself in its own file::

    @register
    class MyColumn(HamiltonianColumn):
        type_name = "mine"
        ...

The engine looks names up here and imports no concrete model (this module imports only the
abstract base); the built-in types register when
``columns.types`` is imported (``import columns`` does it).
"""

from __future__ import annotations

from graphs.errors import GraphError, RegistryError

from .column import ColumnType

_REGISTRY: dict[str, type] = {}


def register(cls: type) -> type:
    """Class decorator: make ``cls`` available to graphs whose nodes carry ``type=cls.type_name``.

    Raises:
        RegistryError: ``cls`` is not a ``ColumnType`` subclass, has no (non-empty string)
            ``type_name``, or its name is already registered.

    Returns:
        ``cls`` itself (so it works as a decorator).
    """
    if not (isinstance(cls, type) and issubclass(cls, ColumnType)):
        raise RegistryError(f"{cls!r} is not a ColumnType subclass")
    name = getattr(cls, "type_name", "")
    if not isinstance(name, str) or not name:
        raise RegistryError(f"{cls.__name__} has no type_name: set the class attribute "
                            "type_name = '...' (the name graphs use in type=...)")
    if name in _REGISTRY:
        raise RegistryError(f"column type {name!r} is already registered (by "
                            f"{_REGISTRY[name].__module__}.{_REGISTRY[name].__qualname__}); "
                            f"choose another type_name for {cls.__name__}, or, to define it "
                            f"again (a notebook cell run twice), call "
                            f"columns.unregister({name!r}) first")
    _REGISTRY[name] = cls
    return cls


def unregister(name: str) -> None:
    """Remove a registered name (e.g. a type defined in a notebook cell that is run again).

    Raises:
        RegistryError: no column type of that name is registered (the message lists the known ones).
    """
    if name not in _REGISTRY:
        raise RegistryError(f"no column type {name!r} is registered; known: {known_types()}")
    del _REGISTRY[name]


def column_type(name: str, node=None) -> type:
    """The class registered as ``name``; ``GraphError`` naming the node if unknown."""
    if name not in _REGISTRY:
        where = f" (node {node!r})" if node is not None else ""
        raise GraphError(f"unknown column type {name!r}{where}; known types: {sorted(_REGISTRY)}; "
                         "pass column_types={name: YourColumnType} or decorate it with @register")
    return _REGISTRY[name]


def known_types() -> list[str]:
    """The names graphs may give as a node's ``type``.

    Returns:
        The registered type names, sorted.
    """
    return sorted(_REGISTRY)
