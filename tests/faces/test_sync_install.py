"""The is_active hook of server/faces/sync.py on every new Database, whatever came before it in the process.

Regression: install() asked event.contains(), which SQLAlchemy's registry answers by id(): a Database whose
sessionmaker was allocated at the address of a collected one (a test's database, a script's) was told it already
listened, so its sessions flushed without the hook (is_active changes missed by the gallery and its change log), and
uninstall() then failed with "not in deque". Seen in the suite only in some orders.
"""
from __future__ import annotations

import gc

from server.database import Database
from server.faces import sync


def _listens(db: Database) -> bool:
    session = db.sessionmaker()
    try:
        return sync._on_before_flush in list(session.dispatch.before_flush)
    finally:
        session.close()


def test_every_new_database_gets_the_hook_and_loses_it_on_uninstall():
    for i in range(60):
        db = Database("sqlite://")
        sync.install(db)
        sync.install(db)  # twice: still one listener
        assert _listens(db), f"database {i}: installed but its sessions have no is_active hook"
        assert list(db.sessionmaker().dispatch.before_flush).count(sync._on_before_flush) == 1
        if i % 2:  # half of them are dropped still listening, as a process's earlier databases may be
            sync.uninstall(db)
            assert not _listens(db)
            sync.uninstall(db)  # twice: nothing to remove, no error
        db.engine.dispose()
        del db
        gc.collect()
