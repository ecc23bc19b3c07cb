"""Every public function and method on the API pages says what it returns and what it raises.

The public surface is what ``docs/api/*.md`` renders with its members (``::: module`` blocks
without ``members: false``): each module's ``__all__`` (or its public names), and the public
methods of the classes among them. A function whose body returns a value needs a ``Returns:``
section, one whose body raises needs ``Raises:`` (Google style, as the site renders them); an
override without a docstring inherits its base's. A docstring that points to "module ``X``" names
a module the API pages render (its docstring holds the equations)."""

import importlib
import inspect
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "docs" / "api").glob("*.md"))


def rendered(members: bool) -> list[str]:
    """The modules the API pages render with their members (True) or docstring only (False)."""
    out = []
    for page in PAGES:
        for name, opts in re.findall(r"^::: ([\w.]+)\n((?:    .*\n)*)", page.read_text() + "\n",
                                     flags=re.M):
            if ("members: false" not in opts) == members:
                out.append(name)
    return out


def public_callables():
    """(qualified name, function) of every public function and method on the API pages."""
    seen, out = set(), []
    for modname in rendered(members=True):
        mod = importlib.import_module(modname)
        names = getattr(mod, "__all__", None) or [n for n in vars(mod) if not n.startswith("_")]
        for n in names:
            obj = getattr(mod, n)
            if inspect.ismodule(obj) or id(obj) in seen:
                continue
            seen.add(id(obj))
            if inspect.isfunction(obj):
                out.append((f"{modname}.{n}", obj))
            elif inspect.isclass(obj) and not issubclass(obj, BaseException):
                for k, v in vars(obj).items():
                    f = v.__func__ if isinstance(v, (classmethod, staticmethod)) else v
                    if not k.startswith("_") and inspect.isfunction(f):
                        out.append((f"{modname}.{n}.{k}", (obj, k, f)))
    return out


def missing_sections() -> list[str]:
    bad = []
    for name, item in public_callables():
        cls, attr, f = item if isinstance(item, tuple) else (None, None, item)
        doc = (inspect.getdoc(getattr(cls, attr)) if cls is not None else inspect.getdoc(f)) or ""
        src = inspect.getsource(f)
        body = src.split('"""', 2)[-1] if src.count('"""') >= 2 else src
        if not doc:
            bad.append(f"{name}: no docstring")
            continue
        if re.search(r"^\s+(return|yield) \S", body, flags=re.M) and \
                not re.search(r"^(Returns|Yields):", doc, flags=re.M):
            bad.append(f"{name}: no Returns section")
        if re.search(r"^\s+raise \w", body, flags=re.M) and not re.search(r"^Raises:", doc, flags=re.M):
            bad.append(f"{name}: raises but has no Raises section")
    return bad


def test_the_api_pages_render_many_functions():
    assert len(public_callables()) > 250          # the check below is not vacuous


def test_every_public_function_says_what_it_returns_and_raises():
    assert missing_sections() == []


def test_the_check_sees_a_missing_section(monkeypatch):
    import columns.analysis as A

    def undocumented(x):
        """Twice x."""
        if x is None:
            raise ValueError("x")
        return 2 * x
    monkeypatch.setattr(A, "__all__", [*A.__all__, "undocumented"])
    monkeypatch.setattr(A, "undocumented", undocumented, raising=False)
    assert sorted(m for m in missing_sections() if "undocumented" in m) == [
        "columns.analysis.undocumented: no Returns section",
        "columns.analysis.undocumented: raises but has no Raises section"]


def test_every_module_a_docstring_points_to_is_on_the_api_pages():
    shown = set(rendered(members=True)) | set(rendered(members=False))
    pointed, unshown = set(), []
    for folder in ("columns", "graphs"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text()
            assert "(module docstring)" not in text, f"{path}: says '(module docstring)' without naming it"
            pointed |= set(re.findall(r"module\s+``([\w.]+)``", text))
    for name in sorted(pointed):
        importlib.import_module(name)                 # a real module, not a name it exports
        if name not in shown:
            unshown.append(name)
    assert pointed and unshown == []
