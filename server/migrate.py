"""Alembic from code: upgrade to head, read the current and head revisions.

Alembic is imported only when a migration runs or its script directory is asked (`head_revision`): with mako and
pygments it is ~8.5 MB of every process's RSS and ~0.2 s of its start here. A start on a database already at head
(the usual one) does without it: `code_head` reads the migration files' `revision` / `down_revision` lines, and
`current_revision` the alembic_version row. tests/system/test_migrations.py checks both against Alembic's answers
and that such a start imports no Alembic.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

from sqlalchemy import inspect, text

from server.config import Settings
from server.database import Database
from server.startup import StartupError, check_database, run_cli_step, startup_lock

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"
VERSION_TABLE = "alembic_version"  # Alembic's default (migrations/env.py keeps it)
_REVISION_LINE = re.compile(r"^(revision|down_revision)\s*(?::[^=]*)?=\s*(.+?)\s*$", re.MULTILINE)


def alembic_config(connection=None):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["skip_logging"] = True
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str | None:
    """Alembic's head of the migration scripts."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def code_head() -> str | None:
    """The head of the migration files without Alembic: the one revision no other file names as its down_revision.
    None when the files are not one straight line (a merge's tuple, several heads): then ask `head_revision`."""
    revisions, parents = set(), set()
    for path in sorted((MIGRATIONS_DIR / "versions").glob("*.py")):
        found = dict(_REVISION_LINE.findall(path.read_text(encoding="utf-8")))
        if "revision" not in found:
            continue
        try:
            revision, parent = ast.literal_eval(found["revision"]), ast.literal_eval(found.get("down_revision", "None"))
        except (ValueError, SyntaxError):
            return None
        if not isinstance(revision, str) or not (parent is None or isinstance(parent, str)):
            return None
        revisions.add(revision)
        if parent is not None:
            parents.add(parent)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def current_revision(db: Database) -> str | None:
    """The database's revision: its alembic_version row (None: no table, or no row, as after `downgrade base`)."""
    with db.engine.connect() as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return None
        rows = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
        if len(rows) > 1:  # branches: Alembic's own error ("more than one head present")
            from alembic.runtime.migration import MigrationContext

            return MigrationContext.configure(conn).get_current_revision()
    return rows[0] if rows else None


def upgrade(db: Database, revision: str = "head") -> None:
    from alembic import command

    with db.engine.begin() as conn:
        command.upgrade(alembic_config(conn), revision)


def downgrade(db: Database, revision: str) -> None:
    from alembic import command

    with db.engine.begin() as conn:
        command.downgrade(alembic_config(conn), revision)


def migrate_at_startup(db: Database, settings: Settings) -> str | None:
    """The lifespan's migrations step: the database answers; when it is not at the code's head, `upgrade head` under
    the startup lock (AUTO_MIGRATE=true); then the code's head revision is the database's, else a one-line
    StartupError saying what to run."""
    check_database(db)
    head = code_head() or head_revision()
    current = current_revision(db)
    if current != head and settings.auto_migrate:  # at head already (the usual start): no lock, no Alembic
        with startup_lock(db, settings):
            upgrade(db)
        current = current_revision(db)
    if current != head:
        raise StartupError(f"database is at revision {current or 'none'} but the code needs {head}; run "
                           f"`python -m server.migrate` (or `alembic upgrade head` in the source tree), or start "
                           f"with AUTO_MIGRATE=true")
    return current


def main(argv: list[str] | None = None) -> int:
    """`python -m server.migrate [head|<revision>]`: upgrade the configured database (DATABASE_URL / DATA_DIR),
    under the startup lock. Works from an installed package too (no alembic.ini needed)."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    target = args[0] if args else "head"

    def step(db, settings: Settings) -> str:
        upgrade(db, target)
        return f"database at revision {current_revision(db)}"

    return run_cli_step("migrate", step)


if __name__ == "__main__":
    raise SystemExit(main())
