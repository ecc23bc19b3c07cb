"""The layout keeps its promises: nothing in ``columns``/``graphs`` imports ``experiments``; the
engine (with the coupling room and the learning rules) imports no concrete column model; no study
imports another study and at most 8 flat modules stay at ``experiments/``; only the solvers
integrate; only the coupling room writes a product over edges."""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
ENGINE = ["columns/network.py", "columns/build.py", "columns/energy.py", "columns/state.py",
          "columns/layout.py", "columns/view.py", "columns/stimulus.py", "columns/simulation.py",
          "columns/checkpoint.py", "columns/recording.py", "columns/types/registry.py", "columns/rng.py",
          "columns/landscape.py",
          "columns/atomic.py", "columns/threads.py",
          *sorted(str(p.relative_to(ROOT)) for d in ("solvers", "coupling", "plasticity")
                  for p in (ROOT / "columns" / d).glob("*.py"))]
MODELS = {"columns.types.bm", "columns.types.bm_trace", "columns.types.k6", "columns.types.generic", "columns.types.fep",
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


COUPLING_ROOM = {"graphs/coupling.py", "columns/coupling/edges.py", "columns/coupling/kernels.py"}
EDGE_PRODUCTS = {"index_add", "index_add_", "scatter_add", "scatter_add_", "index_reduce",
                 "index_reduce_", "segment_reduce", "sparse_csr_tensor", "sparse_coo_tensor",
                 "to_sparse", "to_sparse_csr"}


def edge_products(path: pathlib.Path) -> list[str]:
    """Calls that sum over edges (scatter-adds, segment reductions, sparse matrices)."""
    return sorted({f"line {n.lineno}: {getattr(n.func, 'attr', getattr(n.func, 'id', ''))}"
                   for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Call)
                   and getattr(n.func, "attr", getattr(n.func, "id", "")) in EDGE_PRODUCTS})


@pytest.mark.parametrize("path", [p for p in LIBRARY
                                  if str(p.relative_to(ROOT)) not in COUPLING_ROOM],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_only_the_coupling_room_writes_edge_products(path):
    assert not edge_products(path), f"{path.relative_to(ROOT)}: {edge_products(path)}"


def test_the_room_itself_holds_the_products():
    assert edge_products(ROOT / "graphs/coupling.py")          # the check sees them


def test_no_study_imports_another_study():
    from experiments import EXPERIMENTS
    studies = {mod for mod, _ in EXPERIMENTS.values()}
    graph = import_graph()
    bad = sorted((a, b) for a, deps in graph.items() if a in studies
                 for b in deps if b in studies and b != a)
    assert not bad, bad


def test_at_most_eight_flat_modules_in_experiments():
    flat = sorted(p.name for p in (ROOT / "experiments").glob("*.py"))
    assert len(flat) <= 8, flat


def module_graph() -> dict[str, set[str]]:
    """Module → the modules it makes Python execute: what it imports (at any level, lazily
    too) and, when that lies in another package, that package's ``__init__`` and the ones above
    it (the top-level packages ``columns``, ``graphs``, ``experiments`` left out: their
    ``__init__`` runs first)."""
    graph = import_graph()
    mods = set(graph)
    tops = {"columns", "graphs", "experiments"}
    out = {}
    for a, deps in graph.items():
        edges = set()
        for d in deps:
            while d and d not in mods:
                d = d.rpartition(".")[0]
            if not d or d == a or d in tops or a.startswith(d + "."):
                continue
            edges.add(d)
            parts = d.split(".")
            for k in range(2, len(parts)):
                pkg = ".".join(parts[:k])
                if pkg in mods and not (a == pkg or a.startswith(pkg + ".")):
                    edges.add(pkg)
        out[a] = edges
    return out


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, comps, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return comps


def test_no_import_cycles():
    assert not cycles(module_graph()), cycles(module_graph())


def test_the_cycle_check_sees_a_cycle_through_a_package():
    g = {"columns.solvers.riccati": {"columns.analysis"}, "columns.analysis": {"columns.analysis.a"},
         "columns.analysis.a": {"columns.solvers"}, "columns.solvers": {"columns.solvers.riccati"}}
    assert cycles(g) == [sorted(g)]


def test_no_public_name_hides_a_module():
    """``import columns.analysis.free_run`` gives the module: no package exports a function or
    class under the name of one of its own submodules (``help`` and the API pages could not
    reach that module)."""
    import importlib
    import inspect
    import pkgutil
    hidden = []
    for pkg in ("columns", "columns.analysis", "columns.solvers", "columns.types", "columns.coupling",
                "columns.plasticity", "columns.canonical", "graphs", "experiments.harness.sweep"):
        package = importlib.import_module(pkg)
        for info in pkgutil.iter_modules(package.__path__):
            value = getattr(package, info.name, None)
            if value is not None and not inspect.ismodule(value):
                hidden.append(f"{pkg}.{info.name}")
    assert hidden == []
