"""`python -m seeds`: runs the idempotent seeds against the configured database."""
from __future__ import annotations

import json
import logging

from seeds import run_all
from server.config import get_settings
from server.database import Database


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    db = Database(settings.effective_database_url)
    try:
        with db.session() as s:
            print(json.dumps(run_all(s, settings)))
    finally:
        db.dispose()


if __name__ == "__main__":
    main()
