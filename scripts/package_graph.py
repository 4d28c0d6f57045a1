"""The import graph of server/'s top-level packages (the domains): which package imports which, and every cycle
between them with the imports that make it (file:line). Type-only imports (under TYPE_CHECKING) do not count, as in
the import-linter contracts. The routers (`server.<domain>.router`) are the composition layer above every domain
(docs/architecture.md, "Dependency direction"): their imports are left out unless --routers.

    .venv/bin/python scripts/package_graph.py              # the edges and the cycles
    .venv/bin/python scripts/package_graph.py --cycles     # the cycles only; exit status 1 when there is one
    .venv/bin/python scripts/package_graph.py --routers    # the routers' imports counted too

tests/system/test_lint.py checks the same graph (and the "layers" contract in pyproject.toml enforces the order).
"""
from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # server/ from this checkout, installed or not


def cycles(edges: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one node (Tarjan, iterative): every import cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(component)
    return found


def package_of(module: str) -> str | None:
    """server.users.service -> server.users; server.clock (a module of server/ itself) -> None."""
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 2 or (len(parts) == 2 and _is_package(module)) else None


def _is_package(module: str) -> bool:
    return (ROOT / Path(*module.split(".")) / "__init__.py").is_file()


def is_router(module: str) -> bool:
    return module.split(".")[-1] == "router"


def package_imports(graph: grimp.ImportGraph, *, routers: bool = False) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(importer package, imported package) -> the module imports behind that edge (the routers' own imports
    left out unless `routers`)."""
    edges: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for importer in graph.modules:
        a = package_of(importer)
        if a is None or (is_router(importer) and not routers):
            continue
        for imported in graph.find_modules_directly_imported_by(importer):
            b = package_of(imported)
            if b is not None and b != a:
                edges[(a, b)].append((importer, imported))
    return edges


def where(graph: grimp.ImportGraph, importer: str, imported: str) -> list[str]:
    lines = []
    for d in graph.get_import_details(importer=importer, imported=imported):
        path = Path(*importer.split("."))
        path = path / "__init__.py" if _is_package(importer) else path.with_suffix(".py")
        lines.append(f"{path}:{d['line_number']}  {d['line_contents']}")
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cycles", action="store_true", help="print the cycles only")
    ap.add_argument("--routers", action="store_true", help="count the routers' imports too")
    args = ap.parse_args()
    graph = grimp.build_graph("server", exclude_type_checking_imports=True, cache_dir=None)
    edges = package_imports(graph, routers=args.routers)
    adjacency: dict[str, set[str]] = defaultdict(set)
    for a, b in edges:
        adjacency[a].add(b)
    if not args.cycles:
        print("package graph (importer -> imported: number of module imports)"
              + ("" if args.routers else "; the routers' imports left out (--routers)"))
        for a in sorted(adjacency):
            print(f"  {a[7:]:<11} -> " + ", ".join(f"{b[7:]} ({len(edges[a, b])})" for b in sorted(adjacency[a])))
    found = cycles(dict(adjacency))
    print(f"\n{len(found)} cycle(s) between the packages of server/")
    for component in sorted(found, key=sorted):
        print("\ncycle: " + " <-> ".join(p[7:] for p in sorted(component)))
        for a, b in sorted(edges):
            if a in component and b in component:
                print(f"  {a[7:]} -> {b[7:]}")
                for importer, imported in sorted(edges[a, b]):
                    for line in where(graph, importer, imported):
                        print(f"      {line}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
