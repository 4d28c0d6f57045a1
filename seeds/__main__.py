"""`python -m seeds`: runs the idempotent seeds against the configured database (under the startup lock, so it is
safe beside running servers). Exit 1 with a one-line message when a setting or the database is wrong."""
from __future__ import annotations

import json
import logging
import sys

from seeds import run_all
from server.config import get_settings
from server.startup import StartupError, check_database, open_database, startup_lock


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    try:
        db = open_database(settings)
    except StartupError as exc:
        print(f"seeds: {exc}", file=sys.stderr)
        return 1
    try:
        check_database(db)
        with startup_lock(db, settings), db.session() as s:
            print(json.dumps(run_all(s, settings)))
    except StartupError as exc:
        print(f"seeds: {exc}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
