"""The layout's rules, checked on every module as it is today, so a new module is held to them
without anyone listing it (the import contracts in .importlinter name modules by wildcard; this
walks the whole import graph with grimp, the library under import-linter):

- a module below the web (anything that is not a `views`, `admin` or `urls` module or package)
  imports no web module;
- no module of the product or the sandbox passes 600 lines (migrations aside): a module that
  grows past it is split by job.
"""

from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("erp1688", "catalog", "sync", "open1688", "sandbox")
WEB_NAMES = {"views", "admin", "urls"}
MAX_LINES = 600


def _is_web(module: str) -> bool:
    parts = module.split(".")
    if parts[0] == "erp1688":
        return module in ("erp1688.urls", "erp1688.views")
    return parts[0] == "catalog" and any(part in WEB_NAMES for part in parts[1:])


def test_nothing_below_the_web_imports_a_web_module():
    graph = grimp.build_graph(*PACKAGES[:-1])
    below = [m for m in graph.modules if m.split(".")[0] in PACKAGES and not _is_web(m)]
    assert len(below) > 100 and any(_is_web(m) for m in graph.modules)  # the walk sees the tree
    upward = sorted(
        f"{module} -> {imported}"
        for module in below
        for imported in graph.find_modules_directly_imported_by(module)
        if _is_web(imported)
    )
    assert upward == []


def test_no_module_passes_600_lines():
    sizes = {
        str(path.relative_to(ROOT)): len(path.read_text().splitlines())
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    }
    assert len(sizes) > 150
    assert {path: lines for path, lines in sizes.items() if lines > MAX_LINES} == {}
