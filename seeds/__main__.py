"""`python -m seeds`: runs the idempotent seeds against the configured database (under the startup lock, so it is
safe beside running servers). Exit 1 with a one-line message when a setting or the database is wrong.

`python -m seeds reset-admin [--email E]`: a new password for the admin of E (default ADMIN_EMAIL): ADMIN_PASSWORD
when set, else a generated one printed once. Its logins are revoked, its lockout cleared, the reset audited.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys

from seeds import run_all
from server.config import Settings
from server.startup import run_cli_step


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m seeds", description="Idempotent seeds, or an admin password reset.")
    sub = ap.add_subparsers(dest="command")
    reset = sub.add_parser("reset-admin", help="set a new password for an admin (lost password)",
                           description="Sets a new password for the admin of --email (default ADMIN_EMAIL): "
                                       "ADMIN_PASSWORD when set, else a generated one, printed once. Revokes the "
                                       "admin's logins, clears its lockout, reactivates it; audited.")
    reset.add_argument("--email", help="the admin's e-mail (default: ADMIN_EMAIL)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    if args.command == "reset-admin":
        def step(db, settings: Settings) -> str:
            from seeds.users import reset_admin

            with db.session() as s:
                user, password, generated = reset_admin(s, settings, args.email)
                email = user.email
            if generated:  # printed after the commit: a password is never shown for a reset that did not happen
                return (f"new password for admin {email}: {password}\n"
                        f"(shown once, stored only hashed; log in and change it; its earlier logins are revoked)")
            return f"password of admin {email} set from ADMIN_PASSWORD; its earlier logins are revoked"

        return run_cli_step("seeds reset-admin", step)

    def step(db, settings: Settings) -> str:
        with db.session() as s:
            return json.dumps(run_all(s, settings))

    return run_cli_step("seeds", step)


if __name__ == "__main__":
    sys.exit(main())
