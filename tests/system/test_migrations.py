"""Alembic: upgrade → downgrade → upgrade on a real database, and the models match the migrations."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

import server.models  # noqa: F401
from server.database import Base
from server.migrate import current_revision, downgrade, head_revision, upgrade


def test_upgrade_downgrade_upgrade(db):
    assert current_revision(db) == head_revision()
    downgrade(db, "base")
    assert current_revision(db) is None
    assert not (set(inspect(db.engine).get_table_names()) & set(Base.metadata.tables))
    upgrade(db)
    assert current_revision(db) == head_revision()
    assert set(Base.metadata.tables) <= set(inspect(db.engine).get_table_names())


def test_models_and_migrations_agree(db):
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
    assert diff == []
