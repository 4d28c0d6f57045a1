"""Biometric files are private: face templates (the SQLite database and its -wal/-shm), kept enrollment photos
(DATA_DIR/images) and the JWT secret are readable by the server's user alone.

`make_private` runs first in the "directories" startup step and in the command-line steps (`python -m seeds`,
`python -m server.migrate`): it sets the process umask, so whatever is created afterwards is private from its first
byte, and fixes the modes of what already exists. `mode_problems` is what scripts/diagnose_startup.py reports.
"""
from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from server.auth.tokens import SECRET_FILE
from server.config import Settings

log = logging.getLogger("faceclock.startup")

PRIVATE_UMASK = 0o077  # files 0600, directories 0700: face templates, kept photos, the JWT secret


def sqlite_path(settings: Settings) -> Path | None:
    """The SQLite database file of the settings, or None (PostgreSQL, in-memory, or not a usable URL)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(settings.effective_database_url)
    except (ArgumentError, ValueError):
        return None
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:" \
            or url.database.startswith("file:"):
        return None
    return Path(url.database)


def private_paths(settings: Settings) -> list[Path]:
    """What must be readable by the server's user alone: the SQLite database (face templates) with its -wal, -shm
    and -journal files, DATA_DIR/images and everything in it (kept enrollment photos), DATA_DIR/jwt_secret.
    Existing ones only; symbolic links are not followed."""
    out: list[Path] = []
    db = sqlite_path(settings)
    if db is not None:
        out += [p for suffix in ("", "-wal", "-shm", "-journal") if (p := Path(f"{db}{suffix}")).exists()]
    images = Path(settings.images_dir)
    if images.is_dir() and not images.is_symlink():
        out.append(images)
        for root, dirs, files in os.walk(images):
            out += [Path(root) / n for n in dirs + files]
    secret = Path(settings.data_dir) / SECRET_FILE
    if secret.exists():
        out.append(secret)
    return [p for p in out if not p.is_symlink()]


def mode_problems(settings: Settings) -> list[tuple[Path, int]]:
    """(path, mode) of every private path that group or others can reach."""
    out = []
    for p in private_paths(settings):
        try:
            mode = stat.S_IMODE(p.lstat().st_mode)
        except OSError:  # gone meanwhile
            continue
        if mode & 0o077:
            out.append((p, mode))
    return out


def make_private(settings: Settings) -> list[str]:
    """Sets the process umask to 0077, so that every file and directory this process creates from here on (the
    SQLite file and its -wal/-shm, DATA_DIR and images/, kept photos) is private from its first byte, and takes
    group and other bits off the existing private paths. Returns what it changed (logged); a path it may not change
    (another owner) is logged as an error, not fatal: scripts/diagnose_startup.py reports it too."""
    os.umask(PRIVATE_UMASK)
    changed = []
    for p, mode in mode_problems(settings):
        try:
            p.chmod(mode & ~0o077)
        except OSError as exc:
            log.error("%s is readable by others (mode %04o) and cannot be made private: %s", p, mode, exc.strerror)
            continue
        changed.append(f"{p}: {mode:04o} -> {mode & ~0o077:04o}")
        log.warning("made %s private (mode %04o -> %04o)", p, mode, mode & ~0o077)
    return changed
