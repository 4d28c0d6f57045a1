"""The plumbing every domain shares, written once (no FastAPI routes, no domain rules):

    pages.py   Page[T] (a list answer with its total) and paginate(session, query, order, limit, offset)
    rows.py    get_or_404(session, Model, id, "what") and flush_or_conflict(session, error)
    locks.py   advisory_lock(db, name, settings): one process at a time (PostgreSQL advisory lock, a file lock on
               SQLite), used by the startup steps, the scheduler's jobs and the re-embedding
"""
