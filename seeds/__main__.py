"""`python -m seeds`: runs the idempotent seeds against the configured database (under the startup lock, so it is
safe beside running servers). Exit 1 with a one-line message when a setting or the database is wrong."""
from __future__ import annotations

import json
import logging
import sys

from seeds import run_all
from server.startup import run_cli_step


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    def step(db, settings) -> str:
        with db.session() as s:
            return json.dumps(run_all(s, settings))

    return run_cli_step("seeds", step)


if __name__ == "__main__":
    sys.exit(main())
