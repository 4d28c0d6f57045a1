#!/usr/bin/env python3
"""constraints.txt: the pinned version of every package faceclock installs (base + test extra), used by run.sh
(so CI), and by the Dockerfile.

    python scripts/constraints.py update         # after changing dependencies in pyproject.toml: re-resolves them in
                                                 # a fresh venv (newest versions pyproject allows) and rewrites the file
    python scripts/constraints.py check          # exit 1 naming every installed dependency (direct or transitive)
                                                 # that constraints.txt does not pin, or pins at another version
    python scripts/constraints.py requirements [--extra test]
                                                 # the dependency lines of pyproject.toml (the Dockerfile installs them
                                                 # before copying the code, so that layer survives code changes)

`requirements` needs nothing but the standard library (it runs in the image before anything is installed).
The `tensorflow` extra is not pinned (it is never installed by run.sh, CI or the image).
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONSTRAINTS = ROOT / "constraints.txt"
PINNED_EXTRAS = ("test",)
HEADER = """\
# Pinned versions of every package faceclock installs (base + the test extra), Python 3.11 on Linux x86_64.
# Used by run.sh (./run.sh, ./run.sh test, so CI) and the Dockerfile. Do not edit by hand: after changing the
# dependencies in pyproject.toml run `python scripts/constraints.py update` (a fresh venv resolves them) and commit
# both files. tests/system/test_constraints.py fails while this file misses an installed dependency.
"""


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirements(extras: tuple[str, ...] = ()) -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    out = list(project["dependencies"])
    for extra in extras:
        out += project["optional-dependencies"][extra]
    return out


def read_pins(path: Path | None = None) -> dict[str, str]:
    pins = {}
    for line in (path or CONSTRAINTS).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[canonical(name)] = version.strip()
    return pins


def _requirement_class():
    try:
        from packaging.requirements import Requirement
    except ImportError:  # pip always carries one
        from pip._vendor.packaging.requirements import Requirement
    return Requirement


def installed_closure(extras: tuple[str, ...] = PINNED_EXTRAS) -> dict[str, str]:
    """{name: installed version ("" when missing)} of every distribution that pyproject.toml's dependencies (with
    `extras`) need, transitively, as installed here; markers are evaluated for this interpreter."""
    from importlib import metadata

    Requirement = _requirement_class()
    seen: dict[str, str] = {}
    done: set[tuple[str, frozenset]] = set()
    todo = [Requirement(r) for r in requirements(extras)]
    while todo:
        req = todo.pop()
        key = (canonical(req.name), frozenset(req.extras))
        if key in done:
            continue
        done.add(key)
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            seen.setdefault(key[0], "")
            continue
        seen[key[0]] = dist.version
        wanted = [{"extra": e} for e in {"", *req.extras}]  # base requirements, plus those of the asked extras
        for raw in dist.requires or []:
            sub = Requirement(raw)
            if sub.marker is None or any(sub.marker.evaluate(env) for env in wanted):
                todo.append(sub)
    return seen


def check() -> list[str]:
    """Problems: an installed dependency not pinned, or installed at another version than its pin, or a direct
    dependency whose pin pyproject.toml's specifier does not allow."""
    Requirement = _requirement_class()
    if not CONSTRAINTS.exists():
        return [f"{CONSTRAINTS.name} is missing"]
    pins = read_pins()
    problems = []
    for raw in requirements(PINNED_EXTRAS):
        req = Requirement(raw)
        pin = pins.get(canonical(req.name))
        if pin and not req.specifier.contains(pin, prereleases=True):
            problems.append(f"{canonical(req.name)}: pinned {pin}, but pyproject.toml asks for {req.specifier}")
    for name, version in sorted(installed_closure().items()):
        if not version:
            problems.append(f"{name}: a dependency that is not installed in this environment")
        elif name not in pins:
            problems.append(f"{name} {version}: installed as a dependency but not pinned")
        elif pins[name] != version:
            problems.append(f"{name}: installed {version}, pinned {pins[name]}")
    return problems


def update() -> int:
    """Resolves base + test extras in a fresh venv, unconstrained, and writes every installed package pinned."""
    with tempfile.TemporaryDirectory(prefix="faceclock-constraints-") as tmp:
        venv = Path(tmp) / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        py = str(venv / "bin" / "python")
        subprocess.run([py, "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
        subprocess.run([py, "-m", "pip", "install", "--quiet", f"{ROOT}[{','.join(PINNED_EXTRAS)}]"], check=True)
        frozen = subprocess.run([py, "-m", "pip", "freeze", "--all", "--exclude", "faceclock", "--exclude", "pip"],
                                check=True, capture_output=True, text=True).stdout
    lines = sorted((x for x in frozen.splitlines() if "==" in x), key=lambda x: canonical(x.split("==")[0]))
    CONSTRAINTS.write_text(HEADER + "\n".join(lines) + "\n")
    print(f"wrote {CONSTRAINTS} ({len(lines)} pins); commit it with pyproject.toml")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("update", help="re-resolve in a fresh venv and rewrite constraints.txt")
    sub.add_parser("check", help="exit 1 naming what constraints.txt misses")
    req = sub.add_parser("requirements", help="print pyproject.toml's dependency lines")
    req.add_argument("--extra", action="append", default=[], help="also this extra's lines (repeatable)")
    args = ap.parse_args(argv)
    if args.command == "requirements":
        print("\n".join(requirements(tuple(args.extra))))
        return 0
    if args.command == "update":
        return update()
    problems = check()
    for p in problems:
        print(p)
    if problems:
        print(f"{CONSTRAINTS.name} does not match: run `python scripts/constraints.py update` and commit it",
              file=sys.stderr)
        return 1
    print(f"{CONSTRAINTS.name} pins every installed dependency")
    return 0


if __name__ == "__main__":
    sys.exit(main())
