"""The package's shape: folders are layers, imports only point down, no circles, no module over
600 lines, and the top level holds only the package's face.

Imports are read from the source (``ast``), ``if TYPE_CHECKING:`` ones and those inside
functions included: a circle through an annotation is still a circle for a reader.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "rtsdk"

#: Layer of each folder (and of the top-level modules below the face): an import may only
#: go to the same or a lower rank.
RANK = {
    "exceptions": 0,
    "models": 0,
    "kernels": 0,
    "_kernels": 0,
    "_reference": 0,
    "mcp": 0,
    "protocol": 1,
    "link": 2,
    "audio": 3,
    "session": 4,
    "client": 5,
    "telephony": 6,
    "testing": 6,
    "sip": 6,
}
TOP_LEVEL = {"__init__", "__main__", "exceptions", "models", "kernels", "mcp"}


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            targets = [f"{module}.{alias.name}" for alias in node.names] + [module]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
                break
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(name, path, known) for name, path in modules.items()}


def _rank(module: str) -> int | None:
    parts = module.split(".")
    if len(parts) < 2:
        return None  # the package itself
    return RANK.get(parts[1])


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_no_import_circle() -> None:
    graph = _graph()
    assert len(graph) > 80  # the reader found the package
    assert _circles(graph) == []


def test_imports_only_point_down() -> None:
    upward = []
    for module, targets in _graph().items():
        if module in ("rtsdk", "rtsdk.__main__"):
            continue  # the face imports what it presents
        mine = _rank(module)
        assert mine is not None, f"{module} is in no layer: add its folder to RANK"
        for target in targets:
            theirs = _rank(target)
            if theirs is not None and theirs > mine:
                upward.append(f"{module} -> {target}")
    assert upward == []


def test_no_module_over_600_lines_and_a_small_top_level() -> None:
    long = {
        str(p.relative_to(PACKAGE)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > 600
    }
    assert long == {}
    top = {p.stem for p in PACKAGE.glob("*.py")}
    assert top == TOP_LEVEL
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert set(RANK) - {"exceptions", "models", "kernels", "mcp"} == folders
