"""The rules of docs/architecture.md that a machine can check, run by `./run.sh test` (so by CI's .ci/run):
ruff and the import-linter contracts (both configured in pyproject.toml), no import cycle between the modules of
server/ nor between its packages, only the face engine imports the ML runtimes, no module of server/ over MAX_LINES
lines."""
from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from package_graph import cycles, package_imports  # noqa: E402  (the cycle finder; the package graph)

BIN = Path(sys.executable).parent
MAX_LINES = 400
ML_RUNTIMES = ("cv2", "dlib", "deepface", "onnxruntime", "tensorflow")
ENGINE = "server.faces.engine"
# Exceptions (none today); each entry must still be true: one that no longer holds fails, so the lists only shrink.
KNOWN_CYCLES: list[set[str]] = []
KNOWN_LONG: set[str] = set()


def _run(*cmd: str) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_ruff_finds_nothing():
    p = _run(str(BIN / "ruff"), "check", "--no-cache", ".")
    assert p.returncode == 0, "ruff check (fix: .venv/bin/ruff check --fix):\n" + p.stdout + p.stderr


def test_ruff_reports_a_finding(tmp_path):
    """The harness itself: a module with an unused import and an undefined name fails with the configuration."""
    bad = tmp_path / "bad.py"
    bad.write_text("import os\n\n\ndef f():\n    return undefined_name\n")
    p = _run(str(BIN / "ruff"), "check", "--no-cache", "--config", str(ROOT / "pyproject.toml"), str(bad))
    assert p.returncode == 1 and "F401" in p.stdout and "F821" in p.stdout, p.stdout + p.stderr


def test_import_contracts_are_kept():
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    p = _run(str(BIN / "lint-imports"), "--no-cache")
    report = p.stdout[p.stdout.find("Contracts"):]  # after the banner
    assert p.returncode == 0, "lint-imports (contracts in pyproject.toml):\n" + report + p.stderr
    assert f"Contracts: {len(contracts)} kept, 0 broken." in p.stdout, p.stdout


def _graph(external: bool = False) -> grimp.ImportGraph:
    return grimp.build_graph("server", include_external_packages=external, exclude_type_checking_imports=True,
                             cache_dir=None)


def test_the_cycle_finder_finds_cycles():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]
    assert cycles({"a": {"b"}, "b": set(), "c": {"b"}}) == []
    assert sorted(map(sorted, cycles({"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"c", "a"}}))) == [["a", "b"],
                                                                                                  ["c", "d"]]


def test_server_modules_import_no_cycle():
    graph = _graph()
    edges = {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    found = cycles(edges)
    unexpected = [sorted(c) for c in found if c not in KNOWN_CYCLES]
    assert unexpected == [], ("import cycles between modules of server/ (move the shared part to a module both import, "
                              "or the cross-domain work to a flows.py):\n" + "\n".join(map(str, unexpected)))
    stale = [sorted(c) for c in KNOWN_CYCLES if c not in found]
    assert stale == [], f"gone, remove from KNOWN_CYCLES: {stale}"


def test_server_packages_import_no_cycle():
    """Between the top-level packages of server/ (routers left out: they are the composition layer), as the layers
    contract in pyproject.toml enforces; scripts/package_graph.py prints the imports behind an edge, file:line."""
    edges: dict[str, set[str]] = {}
    for importer, imported in package_imports(_graph()):
        edges.setdefault(importer, set()).add(imported)
    assert "server.users" in edges["server.attendance"]  # the graph is there: attendance reads users
    assert cycles(edges) == [], "import cycles between the packages of server/ (scripts/package_graph.py --cycles)"


def test_only_the_engine_imports_the_ml_runtimes():
    graph = _graph(external=True)
    outside = {name: sorted(m for m in graph.find_modules_that_directly_import(name)
                            if m != ENGINE and not m.startswith(ENGINE + "."))
               for name in ML_RUNTIMES if name in graph.modules}
    assert {k: v for k, v in outside.items() if v} == {}
    assert "cv2" in outside and "dlib" in outside  # the graph does see the engine's (in-function) imports


def test_no_module_is_over_the_size_limit():
    sizes = {str(p.relative_to(ROOT)): len(p.read_text().splitlines()) for p in (ROOT / "server").rglob("*.py")}
    long = {path: n for path, n in sizes.items() if n > MAX_LINES and path not in KNOWN_LONG}
    assert long == {}, f"modules over {MAX_LINES} lines (split by concern): {long}"
    stale = sorted(path for path in KNOWN_LONG if sizes.get(path, 0) <= MAX_LINES)
    assert stale == [], f"back under {MAX_LINES} lines, remove from KNOWN_LONG: {stale}"


def test_tests_share_fixtures_through_the_plugin_package():
    """A test module imports shared helpers from tests/fixtures (a pytest plugin package, registered in
    tests/conftest.py), or modules of its own folder; never a conftest, nor another folder's modules."""
    import ast

    wrong = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        folder = path.relative_to(ROOT / "tests").parts[0]
        for node in ast.walk(ast.parse(path.read_text())):
            names = [node.module] if isinstance(node, ast.ImportFrom) and node.module else \
                [a.name for a in node.names] if isinstance(node, ast.Import) else []
            for name in names:
                parts = name.split(".")
                if parts[0] != "tests" or len(parts) < 2 or parts[1] == "fixtures" and "conftest" not in parts:
                    continue
                if "conftest" in parts or parts[1] != folder:
                    wrong.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {name}")
    assert wrong == [], "\n".join(wrong)
