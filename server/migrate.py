"""Alembic from code: upgrade to head, read the current and head revisions."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from server.config import Settings
from server.database import Database
from server.startup import StartupError, check_database, run_cli_step, startup_lock

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"


def alembic_config(connection=None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["skip_logging"] = True
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(db: Database, revision: str = "head") -> None:
    with db.engine.begin() as conn:
        command.upgrade(alembic_config(conn), revision)


def downgrade(db: Database, revision: str) -> None:
    with db.engine.begin() as conn:
        command.downgrade(alembic_config(conn), revision)


def migrate_at_startup(db: Database, settings: Settings) -> str | None:
    """The lifespan's migrations step: the database answers, `upgrade head` under the startup lock (AUTO_MIGRATE=true),
    and the code's head revision is the database's, else a one-line StartupError saying what to run."""
    check_database(db)
    head = head_revision()
    if settings.auto_migrate:
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
