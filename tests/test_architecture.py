"""The import graph is the layering: labelspec's modules import each other at module level, without
cycles, so what depends on what can be read off the imports (docs/architecture.md)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import labelspec

PACKAGE = Path(labelspec.__file__).parent
LAZY_MARK = "lazy"  # a function-local import says why on its line


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def targets(module: str, node: ast.Import | ast.ImportFrom, is_package: bool) -> list[str]:
    """The labelspec modules an import statement loads."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name in MODULES]
    base = node.module or ""
    if node.level:
        parts = module.split(".")[: None if is_package else -1]
        parts = parts[: len(parts) - node.level + 1]
        base = ".".join([*parts, base] if base else parts)
    found = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in MODULES]
    return found or ([base] if base in MODULES else [])


class Imports(ast.NodeVisitor):
    """Module-level and function-local imports of one module (``if TYPE_CHECKING`` skipped)."""

    def __init__(self, module: str, path: Path):
        self.module, self.is_package = module, path.name == "__init__.py"
        self.lines = path.read_text().splitlines()
        self.top: set[str] = set()
        self.local: list[tuple[int, str]] = []  # function-local imports: (line, source)
        self.depth = 0

    def visit_FunctionDef(self, node) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_If(self, node: ast.If) -> None:
        if "TYPE_CHECKING" not in ast.unparse(node.test):
            self.generic_visit(node)

    def visit_Import(self, node) -> None:
        if self.depth:
            self.local.append(
                (node.lineno, " ".join(self.lines[node.lineno - 1 : node.end_lineno]))
            )
            return
        self.top.update(t for t in targets(self.module, node, self.is_package) if t != self.module)

    visit_ImportFrom = visit_Import


def scan() -> dict[str, Imports]:
    found = {}
    for module, path in MODULES.items():
        imports = Imports(module, path)
        imports.visit(ast.parse(path.read_text()))
        found[module] = imports
    return found


def module_graph(found: dict[str, Imports]) -> dict[str, set[str]]:
    """module -> the modules importing it runs first: its module-level imports, and each enclosing
    package (below ``labelspec`` itself, whose imports are lazy or leaves) unless that package
    imports the module itself, when its ``__init__`` has run first anyway."""
    graph = {m: set(i.top) for m, i in found.items()}
    for module in found:
        parts = module.split(".")
        for size in range(2, len(parts)):
            package = ".".join(parts[:size])
            if package in found and module not in found[package].top:
                graph[module].add(package)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            step = next(edges, None)
            if step is not None:
                if step not in index:
                    index[step] = low[step] = len(index)
                    stack.append(step)
                    on_stack.add(step)
                    work.append((step, iter(sorted(graph.get(step, ())))))
                elif step in on_stack:
                    low[node] = min(low[node], index[step])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    out.append(sorted(component))
    return out


def test_labelspec_modules_import_each_other_without_cycles():
    assert cycles(module_graph(scan())) == []


def test_a_function_local_import_says_why_it_is_lazy():
    """Imports sit at the top; one inside a function (a heavy or optional package, or a module
    that imports this one) carries a ``# lazy: why`` comment."""
    unexplained = [
        f"{found.module}:{line}: {source.strip()}"
        for found in scan().values()
        for line, source in found.local
        if LAZY_MARK not in source
    ]
    assert unexplained == []


def test_the_cycle_finder_finds_a_cycle_through_a_package():
    # store.a -> resolve.b, whose package runs first and imports store.a back
    graph = {
        "labelspec.store.a": {"labelspec.resolve.b"},
        "labelspec.resolve": {"labelspec.store.a"},
        "labelspec.resolve.b": set(),
        "labelspec.store": set(),
    }
    found = {m: Imports(m, PACKAGE / "errors.py") for m in graph}
    for module, edges in graph.items():
        found[module].top = edges
    assert cycles(module_graph(found)) == [
        ["labelspec.resolve", "labelspec.resolve.b", "labelspec.store.a"]
    ]


def test_a_package_importing_its_own_module_is_no_cycle():
    graph = {"labelspec.loaders": {"labelspec.loaders.rows"}, "labelspec.loaders.rows": set()}
    found = {m: Imports(m, PACKAGE / "errors.py") for m in graph}
    for module, edges in graph.items():
        found[module].top = edges
    assert cycles(module_graph(found)) == []


VCS_PACKAGES = {"git", "dvc", "dvc_data", "dvc_objects", "scmrepo"}
# the demo drives git as its user would (`git clone`, `git pull`), from the outside
VCS_OUTSIDERS = {"labelspec.demo.story"}


def vcs_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names = [node.module or ""]
        found += [n for n in names if n.split(".")[0] in VCS_PACKAGES]
    if re.search(r'\[\s*"git"\s*,', path.read_text()):  # an argv: ["git", "log", ...]
        found.append("git as a process")
    return found


def test_only_vcs_talks_to_git_and_dvc():
    reaching = {
        name: imports
        for name, path in MODULES.items()
        if not name.startswith("labelspec.vcs")
        and name not in VCS_OUTSIDERS
        and (imports := vcs_imports(path))
    }
    assert reaching == {}
    # nor through the handles vcs.py returns
    past = [
        f"{name}: {line.strip()}"
        for name, path in MODULES.items()
        if not name.startswith("labelspec.vcs")
        for line in path.read_text().splitlines()
        if any(f".repo.{attr}" in line for attr in ("git.", "config", "heads", "cache", "index"))
    ]
    assert past == []


def test_no_error_is_the_bare_base_class():
    """Each error says its family (and so its exit code): bad input, not found, conflict ..."""
    bare = [
        f"{name}:{node.lineno}"
        for name, path in MODULES.items()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "LabelspecError"
    ]
    assert bare == []
