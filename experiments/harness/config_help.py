"""``columns run NAME --help-config`` without importing the experiment (nor torch, numba, dask).

The options are read from the source of the experiment's ``Config`` class and its bases
(``ast``): each field's name, annotation, default (a literal) and the string after it (its
docstring), bases first as a dataclass orders them. The text equals the one built from the
imported class (``cli.help_config``; a test compares them for every experiment); ``None`` means
the source does not say it plainly (a default that is not a literal, a base class not found), and
the CLI then imports the experiment.
"""

from __future__ import annotations

import ast
import importlib.util
import os


def _source(module: str) -> tuple[ast.Module, str] | None:
    """The parsed source of ``module`` and its package name (for relative imports), found from
    the top-level package's folder: nothing of it is imported (``find_spec`` of a submodule
    would import its parent packages, and a package's ``__init__`` may import much)."""
    top, _, rest = module.partition(".")
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = os.path.join(list(spec.submodule_search_locations)[0], *rest.split(".")) \
        if rest else list(spec.submodule_search_locations)[0]
    for path, package in ((os.path.join(folder, "__init__.py"), module),
                          (folder + ".py", module.rpartition(".")[0])):
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as f:
                return ast.parse(f.read(), path), package
    return None


def _resolve(name: str, tree: ast.Module, package: str, depth: int = 0) -> ast.ClassDef | None:
    """The class ``name`` as defined in ``tree`` or in the module it is imported from."""
    if depth > 8:
        return None
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            node.package = package                              # for its bases
            node.module_tree = tree
            return node
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and any((a.asname or a.name) == name
                                                    for a in node.names):
            original = next(a.name for a in node.names if (a.asname or a.name) == name)
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            target = (f"{base}.{node.module}" if node.module else base) if node.level \
                else node.module
            found = _source(target)
            if found is None:
                return None
            return _resolve(original, found[0], found[1], depth + 1)
    return None


def _fields(cls: ast.ClassDef, depth: int = 0) -> list[tuple[str, ast.AST, ast.AST, str]] | None:
    """(name, annotation, default, docstring) of every dataclass field, bases first; None when a
    base cannot be read."""
    out: list = []
    for b in cls.bases:
        if not isinstance(b, ast.Name) or depth > 8:
            return None
        base = _resolve(b.id, cls.module_tree, cls.package)
        if base is None:
            return None
        inherited = _fields(base, depth + 1)
        if inherited is None:
            return None
        for f in inherited:
            if f[0] not in [g[0] for g in out]:
                out.append(f)
    body = cls.body
    for i, node in enumerate(body):
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            continue
        if "ClassVar" in ast.unparse(node.annotation):
            continue
        nxt = body[i + 1] if i + 1 < len(body) else None
        doc = (" ".join(nxt.value.value.split()) if isinstance(nxt, ast.Expr)
               and isinstance(nxt.value, ast.Constant) and isinstance(nxt.value.value, str)
               else "(undocumented)")
        field = (node.target.id, node.annotation, node.value, doc)
        names = [g[0] for g in out]
        if field[0] in names:
            out[names.index(field[0])] = field            # an override keeps its place
        else:
            out.append(field)
    return out


def _type_name(annotation: ast.AST) -> str:
    if isinstance(annotation, ast.Subscript) and ast.unparse(annotation.value) in ("tuple", "list"):
        first = annotation.slice.elts[0] if isinstance(annotation.slice, ast.Tuple) \
            else annotation.slice
        return f"comma-separated {ast.unparse(first)}s"
    return ast.unparse(annotation)


def static_help(module: str) -> str | None:
    """The ``--help-config`` text of experiment module ``module`` from its source, or None."""
    found = _source(module)
    if found is None:
        return None
    cls = _resolve("Config", *found)
    if cls is None:
        return None
    fields = _fields(cls)
    if fields is None:
        return None
    lines = [f"{module}: --key=value options (default, type: meaning)"]
    for name, annotation, value, doc in fields:
        if value is None:
            return None
        try:
            default = ast.literal_eval(value)
        except ValueError:
            return None
        shown = ",".join(map(str, default)) if isinstance(default, (tuple, list)) else default
        lines.append(f"  --{name}={shown}  ({_type_name(annotation)}): {doc}")
    return "\n".join(lines)
