"""The import graph keeps the layout's promises: nothing in ``columns``/``graphs`` imports
``experiments``, and the engine imports no concrete column model (only the abstract bases)."""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
ENGINE = ["columns/network.py", "columns/build.py", "columns/energy.py", "columns/state.py",
          "columns/layout.py", "columns/view.py", "columns/stimulus.py", "columns/simulate.py",
          "columns/checkpoint.py", "columns/recording.py", "columns/registry.py", "columns/rng.py",
          "columns/atomic.py", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "columns/solvers").glob("*.py"))]
MODELS = {"columns.types.bm", "columns.types.k6", "columns.types.generic", "columns.types.fep",
          "columns.types.canonical", "columns.canonical"}
PACKAGES = {"columns.types"}        # importing the package registers every built-in model


def module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: pathlib.Path) -> set[str]:
    """Every module a file imports (top level or inside functions), resolved to absolute names."""
    pkg = module_name(path).split(".")
    if path.name != "__init__.py":
        pkg = pkg[:-1]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = pkg[:len(pkg) - node.level + 1] if node.level else []
            mod = ".".join(base + ([node.module] if node.module else []))
            out.add(mod)
            out |= {f"{mod}.{a.name}" for a in node.names}      # `from . import energy`
    return out


def import_graph() -> dict[str, set[str]]:
    files = [p for d in ("columns", "graphs", "experiments") for p in (ROOT / d).rglob("*.py")]
    own = ("columns", "graphs", "experiments")
    return {module_name(p): {m for m in imports(p) if m.split(".")[0] in own} for p in files}


def test_no_arrow_from_the_library_up_to_the_experiments():
    up = {(a, b) for a, deps in import_graph().items() if a.split(".")[0] in ("columns", "graphs")
          for b in deps if b.split(".")[0] == "experiments"}
    assert not up, sorted(up)


@pytest.mark.parametrize("path", ENGINE)
def test_the_engine_imports_no_concrete_model(path):
    deps = imports(ROOT / path)
    bad = sorted(d for d in deps if d in PACKAGES or any(d == m or d.startswith(m + ".")
                                                         for m in MODELS))
    assert not bad, f"{path} imports {bad}"


if __name__ == "__main__":                    # the listing: python tests/test_architecture.py
    for mod, deps in sorted(import_graph().items()):
        mods = sorted({d for d in deps if d in import_graph()})
        print(f"{mod} -> {', '.join(mods) if mods else '-'}")


LIBRARY = sorted(p for d in ("columns", "graphs") for p in (ROOT / d).rglob("*.py"))
STEP_NAMES = {"dt", "h", "step_size", "tau", "delta_t"}


def _names(node) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def integrations(path: pathlib.Path) -> list[str]:
    """Where a file integrates: torchdiffeq / torchsde used (imported or odeint / sdeint called),
    or a time-stepping loop, a ``for``/``while`` whose body updates a variable by a step times
    something (``x = x + dt * f(x)``, ``x += h * v``)."""
    found = []
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            found += [f"line {node.lineno}: imports {m}" for m in mods
                      if m.split(".")[0] in ("torchdiffeq", "torchsde")]
        elif isinstance(node, ast.Call):
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if name in ("odeint", "sdeint", "odeint_adjoint"):
                found.append(f"line {node.lineno}: calls {name}")
        elif isinstance(node, (ast.For, ast.While)):
            for stmt in ast.walk(node):
                if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 \
                        and isinstance(stmt.targets[0], ast.Name):
                    v, rhs = stmt.targets[0].id, stmt.value
                    if (isinstance(rhs, ast.BinOp) and isinstance(rhs.op, ast.Add)
                            and v in _names(rhs.left) | _names(rhs.right)
                            and STEP_NAMES & _names(rhs)):
                        found.append(f"line {stmt.lineno}: steps {v} in a loop")
                elif isinstance(stmt, ast.AugAssign) and isinstance(stmt.op, ast.Add) \
                        and STEP_NAMES & _names(stmt.value):
                    found.append(f"line {stmt.lineno}: steps by += in a loop")
    return sorted(set(found))


@pytest.mark.parametrize("path", [p for p in LIBRARY if "solvers" not in p.parts],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_only_the_solvers_integrate(path):
    assert not integrations(path), f"{path.relative_to(ROOT)} integrates: {integrations(path)}"


def test_the_integration_check_sees_a_stepping_loop_and_odeint(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from torchdiffeq import odeint\n"
                   "def run(f, x, dt):\n    for k in range(9):\n        x = x + dt * f(x)\n"
                   "    return odeint(f, x, None)\n")
    assert len(integrations(bad)) == 3
