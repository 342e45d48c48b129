"""The walls of the house, checked from the source: where SQL may be, what the core may import,
how thin a route is, and that docs/architecture.md names only what exists."""

import ast
import re
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGES = ("kb", "search_app", "indexer", "bench")
SQL_CALLS = {"execute", "executemany", "executescript"}
ROUTE_DECORATORS = {"get", "post", "put", "delete", "patch"}


def sources(*packages: str) -> list[Path]:
    return sorted(p for package in packages for p in (REPO / package).rglob("*.py"))


def tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(tree(path)):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def test_no_sql_outside_the_store():
    offenders = [
        f"{rel(path)}:{node.lineno}"
        for path in sources(*PACKAGES) if not rel(path).startswith("kb/store/")
        for node in ast.walk(tree(path))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SQL_CALLS
    ]
    assert offenders == []


def test_the_core_imports_nothing_of_the_web_or_the_indexer():
    """kb/cli/ is the one composition root (DESIGN.md): its commands may import both."""
    forbidden = re.compile(r"^(fastapi|starlette|search_app|indexer)(\.|$)")
    offenders = {rel(path): sorted(m for m in imported_modules(path) if forbidden.match(m))
                 for path in sources("kb") if not rel(path).startswith("kb/cli/")}
    assert {path: found for path, found in offenders.items() if found} == {}


def test_no_private_module_is_imported_from_outside_its_package():
    offenders = []
    for path in sources(*PACKAGES) + sorted((REPO / "tests").rglob("*.py")):
        package = rel(path).rsplit("/", 1)[0].replace("/", ".")
        for module in imported_modules(path):
            parts = module.split(".")
            private = next((i for i, part in enumerate(parts) if part.startswith("_") and part != "__future__"), None)
            if private is not None and ".".join(parts[:private]) != package:
                offenders.append(f"{rel(path)} imports {module}")
    assert offenders == []


# The core's rooms (kb/<room>/) and what each must not import. A room may import the ones
# below it in docs/architecture.md's list; these are the walls that list implies.
ROOMS = ("documents", "files", "inbox", "search", "matching", "notes", "workspace")
UPPER = ("kb.core", "kb.knowledge_base", "kb.live_index", "kb.accounts", "kb.cli")
WALLS = {
    "kb/documents/": ("kb.store", "kb.files", "kb.inbox", "kb.search", "kb.matching", "kb.notes", "kb.workspace",
                      *UPPER),
    "kb/files/": ("kb.inbox", "kb.search", "kb.matching", "kb.notes", "kb.workspace", *UPPER),
    "kb/inbox/": ("kb.files", "kb.search", "kb.matching", "kb.notes", "kb.workspace", "kb.core", "kb.knowledge_base",
                  "kb.live_index", "kb.cli"),
    "kb/search/": ("kb.inbox", "kb.matching", "kb.notes", "kb.workspace", "kb.knowledge_base", "kb.accounts", "kb.cli"),
    "kb/matching/": ("kb.notes", "kb.workspace", "kb.knowledge_base", "kb.cli"),
    "kb/notes/": ("kb.matching", "kb.workspace", "kb.knowledge_base", "kb.cli"),
    "kb/workspace/": ("kb.notes", "kb.knowledge_base", "kb.cli"),
    "kb/core.py": ("kb.matching", "kb.notes", "kb.workspace", "kb.knowledge_base", "kb.cli"),
}


def _imports_any(path: Path, prefixes: tuple[str, ...]) -> list[str]:
    return sorted({m for m in imported_modules(path) for p in prefixes if m == p or m.startswith(p + ".")})


@pytest.mark.parametrize("room", sorted(WALLS))
def test_each_room_keeps_to_its_walls(room):
    paths = [p for p in sources("kb") if rel(p) == room or rel(p).startswith(room)]
    assert paths
    assert {rel(p): found for p in paths if (found := _imports_any(p, WALLS[room]))} == {}


def test_the_store_imports_only_the_records_it_stores_and_the_errors():
    allowed = re.compile(r"^kb\.(store|documents|errors)(\.|$)")
    offenders = {rel(p): sorted(m for m in imported_modules(p) if m.startswith("kb.") and not allowed.match(m))
                 for p in sources("kb") if rel(p).startswith("kb/store/")}
    assert {path: found for path, found in offenders.items() if found} == {}


def test_other_packages_import_a_room_by_its_face():
    """Outside kb/<room>/, a room's names come from kb.<room> (its __init__), never a module of it."""
    offenders = []
    for path in sources(*PACKAGES):
        for node in ast.walk(tree(path)):
            modules = ([node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
                       else [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            for module in modules:
                parts = module.split(".")
                if (len(parts) > 2 and parts[0] == "kb" and parts[1] in ROOMS
                        and not rel(path).startswith(f"kb/{parts[1]}/")):
                    offenders.append(f"{rel(path)}:{node.lineno} imports {module}")
    assert offenders == []


def test_kb_itself_holds_at_most_ten_modules_and_a_folder_per_job():
    modules = sorted(p.name for p in (REPO / "kb").glob("*.py") if p.name not in ("__init__.py", "__main__.py"))
    assert len(modules) <= 10, modules
    for room in ROOMS:
        face = REPO / "kb" / room / "__init__.py"
        docstring = ast.get_docstring(tree(face))
        assert docstring and len(docstring) > 60, f"kb/{room}/__init__.py says what it owns"
        exported = next(n for n in tree(face).body if isinstance(n, ast.Assign) and n.targets[0].id == "__all__")
        assert len(exported.value.elts) > 0


def _routes():
    for path in sources("search_app"):
        for node in ast.walk(tree(path)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
                isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and d.func.attr in ROUTE_DECORATORS
                for d in node.decorator_list
            ):
                yield f"{rel(path)}:{node.name}", node


def _calls_into_kb(function: ast.AST) -> list[str]:
    """Calls whose receiver is the `kb` parameter, e.g. kb.search(...) or kb.notes.create(...)."""
    calls = []
    for node in ast.walk(function):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            root = node.func
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id == "kb":
                calls.append(ast.unparse(node.func))
    return calls


def test_every_route_makes_at_most_one_call_into_the_knowledge_base():
    routes = dict(_routes())
    assert len(routes) >= 25
    assert {name: calls for name, route in routes.items() if len(calls := _calls_into_kb(route)) > 1} == {}


def test_the_web_never_reaches_behind_the_knowledge_base():
    """No route or helper of search_app uses the store, the embedder or the index directly."""
    behind = re.compile(r"\bkb\.(store|embedder|live|index|queries|refresh_index|ingest)\b")
    offenders = [f"{rel(path)}: {match.group(0)}" for path in sources("search_app")
                 for match in behind.finditer(path.read_text(encoding="utf-8"))]
    assert offenders == []


def test_architecture_md_names_only_what_exists():
    text = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`((?:kb|search_app|indexer|bench|tests|corpus|scripts|docs)/[\w./-]*)`", text))
    assert len(named) >= 20
    assert sorted(p for p in named if not (REPO / p).exists()) == []


@pytest.mark.parametrize("package", ["kb", "search_app", "indexer"])
def test_every_module_of_a_package_is_in_the_code_map(package):
    """A module directly in a package is named; one in a sub-package may be named by its folder."""
    text = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = [rel(p) for p in sources(package)
               if p.name not in ("__init__.py", "__main__.py") and f"`{rel(p)}`" not in text
               and not (p.parent.name != package and f"`{rel(p.parent)}/`" in text)]
    assert missing == []


def test_every_imported_package_is_declared():
    import sys
    import tomllib
    from importlib.metadata import packages_distributions

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = {re.split(r"[<>=\[ ;]", d)[0].lower().replace("_", "-")
                for d in project["dependencies"] + sum(project["optional-dependencies"].values(), [])}
    ours = {"kb", "search_app", "indexer", "bench", "tests"}
    distributions = packages_distributions()
    undeclared = {}
    for path in sources(*PACKAGES):
        for module in imported_modules(path):
            top = module.split(".")[0]
            if top in ours or top in sys.stdlib_module_names:
                continue
            names = {d.lower().replace("_", "-") for d in distributions.get(top, [top])}
            if not names & declared:
                undeclared.setdefault(top, rel(path))
    assert undeclared == {}
