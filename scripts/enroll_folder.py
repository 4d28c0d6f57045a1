#!/usr/bin/env python3
"""Bulk enrollment: a folder per person, through the same service code as the API.

    python scripts/enroll_folder.py PATH [--people people.csv] [--actor ADMIN] [--retry-failed] [--json]

PATH holds one folder per person with their photos (JPEG/PNG/WebP). The folder name is the employee code, unless a
CSV (PATH/people.csv, or --people FILE) maps folders to people with the columns
`folder,employee_code,full_name[,email,role,site,timezone]` (`folder` defaults to `employee_code`).

For each person: the user is created, or updated when the CSV says something else (server/users/service.py, as
POST/PATCH /api/v1/users do), then the photos are enrolled in batches of up to 5 with the person's consent
(server/users/enrollment.py, as POST /api/v1/users/{id}/faces does: quality gate, duplicate check against other
people, audit, decision records). A photo that fails the quality gate is left out and the rest of its batch retried,
so one bad photo never blocks a person. Consent is taken as given by whoever runs the script (--consent-version).

Summary: people created / updated / unchanged, photos enrolled / skipped / failed, failures counted by reason with
examples, and `failures_by_person` (folder → [{code, photo?, reason, ...}]). With a people CSV, a folder that no row
names is not enrolled and is reported as `folder_not_in_people_csv`; a row whose folder is missing as
`folder_missing`. A photo refused as `duplicate_face` (the face is already enrolled for someone else) is reported
under its person with the other person's user id, employee code and score; the service does not say which photo of
a batch matched, so such a batch is retried one photo at a time and only the matching photos fail.

Resume: progress is written after every batch to PATH/.enroll_state.json (or --state FILE); running again skips
photos already enrolled or already refused (--retry-failed tries the refused ones again). A batch interrupted after
its commit but before the state was written is recognised by the user's template count, never enrolled twice.

Database, models and data directory come from the same environment as the server (DATABASE_URL, DATA_DIR,
MODELS_DIR, FACE_MODEL, ...). The actor (for the audit log) is the admin with --actor (employee code or email;
default ADMIN_EMPLOYEE_CODE). A running server sees the new people within GALLERY_POLL_SECONDS.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

IMAGE_EXT = {".jpg", ".jpeg", ".png", ".webp"}
BATCH = 5
STATE_NAME = ".enroll_state.json"


@dataclass
class Person:
    folder: Path
    employee_code: str
    full_name: str | None = None
    extra: dict = field(default_factory=dict)

    def photos(self) -> list[Path]:
        return sorted(p for p in self.folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXT)


def read_people(root: Path, csv_path: Path | None) -> list[Person]:
    """The people to enroll: every folder (no CSV), or the CSV's rows in order (see unlisted_folders())."""
    csv_path = people_csv(root, csv_path)
    if csv_path is None:
        return [Person(f, f.name) for f in _folders(root)]
    people = []
    with open(csv_path, newline="", encoding="utf-8-sig") as fh:
        for row in csv.DictReader(fh):
            row = {k.strip(): (v or "").strip() for k, v in row.items() if k}
            code = row.get("employee_code") or row.get("folder")
            if not code:
                continue
            extra = {k: row[k] for k in ("email", "role", "site", "timezone") if row.get(k)}
            people.append(Person(root / (row.get("folder") or code), code, row.get("full_name") or None, extra))
    return people


def people_csv(root: Path, csv_path: Path | None) -> Path | None:
    return csv_path or (root / "people.csv" if (root / "people.csv").exists() else None)


def _folders(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def unlisted_folders(root: Path, people: list[Person]) -> list[Path]:
    """Folders under root that no CSV row points at: they are not enrolled, and the summary says so."""
    listed = {p.folder.resolve() for p in people}
    return [f for f in _folders(root) if f.resolve() not in listed]


class State:
    """Per photo (key "folder/file"): {"sha256", "status": enrolled|failed|pending, "code"?}; atomic writes."""

    def __init__(self, path: Path):
        self.path = path
        self.data = json.loads(path.read_text()) if path.exists() else {"photos": {}}

    def get(self, key: str) -> dict | None:
        return self.data["photos"].get(key)

    def set(self, key: str, value: dict) -> None:
        self.data["photos"][key] = value

    def save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, indent=1, sort_keys=True))
        os.replace(tmp, self.path)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Enroller:
    def __init__(self, settings, db, engine, actor_ref: str | None, state: State, retry_failed: bool):
        from server.users.models import User
        from sqlalchemy import or_, select

        self.settings, self.db, self.engine, self.state, self.retry_failed = settings, db, engine, state, retry_failed
        ref = actor_ref or settings.admin_employee_code
        with db.session() as s:
            actor = s.scalar(select(User).where(or_(User.employee_code == ref, User.email == ref.lower()),
                                                User.role == "admin", User.is_active.is_(True)))
            if actor is None:
                raise SystemExit(f"no active admin {ref!r} to act as (start the server once, or give --actor)")
            self.actor_id = actor.id
        self.people = Counter()
        self.photos = Counter()
        self.failures: Counter = Counter()
        self.examples: dict[str, list[str]] = {}
        self.by_person: dict[str, list[dict]] = {}

    def fail(self, key: str, code: str, reason: str | None = None, **details) -> None:
        """Counts a failure by reason and notes it under its person (the folder: the part of key before "/")."""
        self.failures[code] += 1
        self.examples.setdefault(code, [])
        if len(self.examples[code]) < 5:
            self.examples[code].append(key)
        folder, _, photo = key.partition("/")
        entry = {"code": code, **({"photo": photo} if photo else {}), **({"reason": reason} if reason else {}),
                 **details}
        self.by_person.setdefault(folder, []).append(entry)

    # ------------------------------------------------------------------ users
    def ensure_user(self, session, person: Person):
        from pydantic import ValidationError
        from sqlalchemy import select

        from server.users import service
        from server.users.models import User
        from server.users.schemas import UserCreate, UserUpdate

        actor = session.get(User, self.actor_id)
        user = session.scalar(select(User).where(User.employee_code == person.employee_code))
        try:
            if user is None:
                data = UserCreate(employee_code=person.employee_code,
                                  full_name=person.full_name or person.employee_code,
                                  **person.extra)
                user = service.create_user(session, self.settings, actor=actor, data=data)
                self.people["created"] += 1
                return user
            wanted = {k: v for k, v in {"full_name": person.full_name, **person.extra}.items()
                      if v is not None and getattr(user, k, None) != v}
            if wanted:
                service.update_user(session, self.settings, actor=actor, user=user, data=UserUpdate(**wanted))
                self.people["updated"] += 1
            else:
                self.people["unchanged"] += 1
            return user
        except ValidationError as exc:
            raise _PersonError("invalid_person_data", str(exc.errors()[0].get("msg"))) from None

    # ------------------------------------------------------------------ photos
    def _todo(self, person: Person, user_id: int, session) -> list[tuple[str, Path, bytes]]:
        from server.users.enrollment import list_templates

        todo, count = [], None
        for photo in person.photos():
            key = f"{person.folder.name}/{photo.name}"
            data = photo.read_bytes()
            seen = self.state.get(key)
            if seen and seen.get("sha256") == _sha(data):
                if seen["status"] == "pending":  # interrupted: did that batch commit?
                    count = len(list_templates(session, user_id)) if count is None else count
                    if count >= seen["templates_after"]:
                        self.state.set(key, {"sha256": seen["sha256"], "status": "enrolled"})
                        seen = self.state.get(key)
                if seen["status"] == "enrolled" or (seen["status"] == "failed" and not self.retry_failed):
                    self.photos["skipped"] += 1
                    continue
            todo.append((key, photo, data))
        return todo

    def enroll_person(self, person: Person) -> None:
        from server.errors import AppError
        from server.users.enrollment import enroll, list_templates
        from server.users.models import User

        if not person.folder.is_dir():
            self.fail(person.folder.name, "folder_missing", f"the people CSV names {person.folder.name}/, which "
                                                            f"does not exist")
            return
        with self.db.session() as session:
            try:
                user = self.ensure_user(session, person)
            except (AppError, _PersonError) as exc:
                self.fail(person.folder.name, exc.code, str(exc))
                return
            session.commit()
            user_id = user.id
            todo = self._todo(person, user_id, session)
        if not todo and not person.photos():
            self.fail(person.folder.name, "no_photos", "no JPEG/PNG/WebP photo in the folder")
        batches = [todo[start:start + BATCH] for start in range(0, len(todo), BATCH)]
        while batches:
            batch = batches.pop(0)
            with self.db.session() as session:
                user, actor = session.get(User, user_id), session.get(User, self.actor_id)
                after = len(list_templates(session, user_id)) + len(batch)
                for key, _, data in batch:
                    self.state.set(key, {"sha256": _sha(data), "status": "pending", "templates_after": after})
                self.state.save()
                try:
                    enroll(session, self.settings, self.engine, actor=actor, user=user,
                           images=[d for _, _, d in batch], consent=True, client="enroll_folder")
                    session.commit()
                except AppError as exc:
                    session.rollback()
                    batches[0:0] = self._after_failure(batch, exc)
                    self.state.save()
                    continue
            for key, _, data in batch:
                self.state.set(key, {"sha256": _sha(data), "status": "enrolled"})
                self.photos["enrolled"] += 1
            self.state.save()

    def _after_failure(self, batch, exc) -> list[list]:
        """Mark the photos that failed; return the batches to try again (none when the whole batch is refused).

        The quality gate names the failing photos (`failures: [{index, code, message}]`). A duplicate_face refusal
        names only the other person (`user_id`, `score`), not the photo: a batch of several photos is then split and
        its photos tried one at a time, so only the photos that match someone else fail."""
        if exc.code == "duplicate_face" and len(batch) > 1:
            return [[item] for item in batch]
        failures = exc.details.get("failures")
        if failures:
            bad = {f["index"]: (f["code"], f.get("message")) for f in failures}
        else:
            bad = {i: (exc.code, exc.message) for i in range(len(batch))}
        extra = {}
        if exc.code == "duplicate_face":
            extra = {k: exc.details[k] for k in ("user_id", "score") if k in exc.details}
            code = self._employee_code(extra.get("user_id"))
            if code:
                extra["employee_code"] = code
        keep = []
        for i, (key, photo, data) in enumerate(batch):
            if i in bad:
                code, message = bad[i]
                self.state.set(key, {"sha256": _sha(data), "status": "failed", "code": code})
                self.photos["failed"] += 1
                self.fail(key, code, message, **(extra if code == "duplicate_face" else {}))
            else:
                keep.append((key, photo, data))
        return [keep] if keep else []

    def _employee_code(self, user_id) -> str | None:
        if user_id is None:
            return None
        from server.users.models import User

        with self.db.session() as s:
            user = s.get(User, user_id)
            return user.employee_code if user else None

    def summary(self) -> dict:
        return {"people": dict(self.people), "photos": dict(self.photos),
                "failures_by_reason": dict(self.failures.most_common()), "examples": self.examples,
                "failures_by_person": self.by_person}


class _PersonError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def _progress(items, enabled: bool):
    if not enabled:
        return items
    try:
        from tqdm import tqdm
    except ImportError:  # plain fallback
        def gen():
            for i, item in enumerate(items, 1):
                print(f"\r{i}/{len(items)} people", end="", file=sys.stderr, flush=True)
                yield item
            print(file=sys.stderr)
        return gen()
    return tqdm(items, unit="person", desc="enrolling")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("path", type=Path)
    p.add_argument("--people", type=Path, help="CSV mapping folders to people (default PATH/people.csv if present)")
    p.add_argument("--actor", help="admin employee code or email recorded in the audit log")
    p.add_argument("--state", type=Path, help=f"resume file (default PATH/{STATE_NAME})")
    p.add_argument("--retry-failed", action="store_true", help="try photos refused in an earlier run again")
    p.add_argument("--database-url", help="default: DATABASE_URL / the server's default")
    p.add_argument("--json", action="store_true", help="print the summary as JSON (no progress bar)")
    a = p.parse_args(argv)
    if not a.path.is_dir():
        p.error(f"{a.path} is not a folder")

    from server.config import Settings
    from server.database import Database
    from server.faces.runtime import FaceRuntime
    from server.migrate import migrate_at_startup as migrate
    from server.startup import ensure_directories

    settings = Settings(**({"database_url": a.database_url} if a.database_url else {}))
    ensure_directories(settings)
    db = Database(settings.effective_database_url)
    migrate(db, settings)
    with db.session() as session:  # as the server's startup does (idempotent): roles, shifts, first admin
        from seeds import run_all

        run_all(session, settings)
    rt = FaceRuntime(settings)
    engine = rt.load_engine()
    rt.load_gallery(db)  # duplicates are checked against everyone already enrolled
    enroller = Enroller(settings, db, rt, a.actor, State(a.state or a.path / STATE_NAME), a.retry_failed)
    people = read_people(a.path, a.people)
    if people_csv(a.path, a.people) is not None:
        for folder in unlisted_folders(a.path, people):
            enroller.fail(folder.name, "folder_not_in_people_csv",
                          f"{folder.name}/ has no row in the people CSV: not enrolled")
    try:
        for person in _progress(people, not a.json):
            enroller.enroll_person(person)
    except KeyboardInterrupt:
        print("\ninterrupted: run again to resume", file=sys.stderr)
        return 130
    finally:
        db.dispose()
    out = {"model_id": engine.model_id, **enroller.summary()}
    if a.json:
        print(json.dumps(out, indent=2))
    else:
        print(f"people: {out['people']}  photos: {out['photos']}")
        if out["failures_by_reason"]:
            print("failures by reason:")
            for code, n in out["failures_by_reason"].items():
                print(f"  {code:24} {n:5}   e.g. {', '.join(out['examples'][code][:3])}")
            print("failures by person:")
            for folder, items in out["failures_by_person"].items():
                for f in items:
                    who = (f" (duplicate of {f.get('employee_code') or 'user'} #{f['user_id']},"
                           f" score {f.get('score')})" if f["code"] == "duplicate_face" and "user_id" in f else "")
                    print(f"  {folder}/{f.get('photo', '')}: {f['code']}{who} {f.get('reason') or ''}".rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
