#!/usr/bin/env python3
"""Bulk enrollment: a folder per person, through the same service code as the API.

    python scripts/enroll_folder.py PATH [--people people.csv] [--actor ADMIN] [--retry-failed] [--json]
                                         [--batch-people N] [--threads N]

PATH holds one folder per person with their photos (JPEG/PNG/WebP). The folder name is the employee code, unless a
CSV (PATH/people.csv, or --people FILE) maps folders to people with the columns
`folder,employee_code,full_name[,email,role,site,timezone]` (`folder` defaults to `employee_code`).

For each person the user is created, or updated when the CSV says something else (server/users/service.py, as
POST/PATCH /api/v1/users do). Then the photos are enrolled with the people's consent through the batch enrollment
of server/faces/batch.py, in-process, as POST /api/v1/faces/batch does: batches of up to --batch-people people
(default ENROLL_BATCH_MAX_PEOPLE) with up to 5 photos each, the photos of a batch analysed side by side on every
core (--threads, default FACE_THREADS: this process serves no kiosk), then one commit and one gallery version bump
per batch; the quality gate, duplicate check against other people (those of the same batch too), audit and decision
records are enrollment's. A photo that fails the quality gate, or matches someone else (the batch answer names the
photo), is left out and the person's other photos go again in the next round, so one bad photo never blocks a
person. Consent is taken as given by whoever runs the script.

Summary: people created / updated / unchanged, photos enrolled / skipped / failed, failures counted by reason with
examples, `failures_by_person` (folder → [{code, photo?, reason, ...}]), and `rate`: seconds, people enrolled,
people per minute and photos per minute of this run. With a people CSV, a folder that no row names is not enrolled
and is reported as `folder_not_in_people_csv`; a row whose folder is missing as `folder_missing`. A photo refused as
`duplicate_face` (the face is already enrolled for someone else) is reported under its person with the other
person's user id, employee code and score.

Resume: progress is written after every batch to PATH/.enroll_state.json (or --state FILE); running again skips
photos already enrolled or already refused (--retry-failed tries the refused ones again). A batch interrupted after
its commit but before the state was written is sent again: the service finds its photos among the people's
templates (`already_enrolled`) and stores nothing twice.

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
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

IMAGE_EXT = {".jpg", ".jpeg", ".png", ".webp"}
BATCH = 5
STATE_NAME = ".enroll_state.json"


@dataclass
class _Work:
    person: Person
    user_id: int
    employee_code: str
    todo: list  # [(key, path, bytes)] photos left to enroll


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
        self.enrolled_people: set[int] = set()
        self.batches: list[dict] = []

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

        from server.auth import flows as auth
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
                auth.update_user(session, self.settings, actor=actor, user=user, data=UserUpdate(**wanted))
                self.people["updated"] += 1
            else:
                self.people["unchanged"] += 1
            return user
        except ValidationError as exc:
            raise _PersonError("invalid_person_data", str(exc.errors()[0].get("msg"))) from None

    # ------------------------------------------------------------------ photos
    def _todo(self, person: Person, user_id: int, session) -> list[tuple[str, Path, bytes]]:
        """Photos not yet settled. One left `pending` (its batch was interrupted, committed or not) goes again: if
        its batch did commit, the service finds it among the person's templates and stores nothing twice."""
        todo = []
        for photo in person.photos():
            key = f"{person.folder.name}/{photo.name}"
            data = photo.read_bytes()
            seen = self.state.get(key)
            if seen and seen.get("sha256") == _sha(data):
                if seen["status"] == "enrolled" or (seen["status"] == "failed" and not self.retry_failed):
                    self.photos["skipped"] += 1
                    continue
            todo.append((key, photo, data))
        return todo

    def prepare(self, person: Person) -> _Work | None:
        """The person's user (created or updated) and the photos left to enroll; None when there is nothing to do."""
        from server.errors import AppError

        if not person.folder.is_dir():
            self.fail(person.folder.name, "folder_missing", f"the people CSV names {person.folder.name}/, which "
                                                            f"does not exist")
            return None
        with self.db.session() as session:
            try:
                user = self.ensure_user(session, person)
            except (AppError, _PersonError) as exc:
                self.fail(person.folder.name, exc.code, str(exc))
                return None
            session.commit()
            user_id, code = user.id, user.employee_code
            todo = self._todo(person, user_id, session)
        if not todo and not person.photos():
            self.fail(person.folder.name, "no_photos", "no JPEG/PNG/WebP photo in the folder")
        return _Work(person, user_id, code, todo) if todo else None

    def run(self, people: list[Person], batch_people: int, progress: bool) -> None:
        """Every person's photos, in batches of up to `batch_people` people (up to BATCH photos each) through
        server/faces/batch.py, as POST /api/v1/faces/batch does: inference side by side on every core, one commit
        and one gallery version bump per batch. A person refused for some photos goes again with the others in a
        later round, so one bad photo never blocks a person; a person with more than BATCH photos takes several
        rounds."""
        work = [w for w in (self.prepare(p) for p in _progress(people, progress, "people")) if w is not None]
        while work:
            entries = [(w, w.todo[:BATCH]) for w in work]
            for start in range(0, len(entries), batch_people):
                self._batch(entries[start:start + batch_people])
            work = [w for w in work if w.todo]

    def _batch(self, entries: list[tuple[_Work, list]]) -> None:
        from server.faces import batch
        from server.users.models import User

        for _w, items in entries:
            for key, _, data in items:
                self.state.set(key, {"sha256": _sha(data), "status": "pending"})
        self.state.save()
        people = [batch.BatchPerson([d for _, _, d in items], user_id=w.user_id) for w, items in entries]
        started = time.perf_counter()
        with self.db.session() as session:
            actor = session.get(User, self.actor_id)
            out = batch.enroll_batch(session, self.settings, self.engine, actor=actor, people=people, consent=True,
                                     client="enroll_folder")
            session.commit()
        self.batches.append({"people": len(entries), "photos": sum(len(i) for _, i in entries),
                             "seconds": round(time.perf_counter() - started, 3)})
        for (w, items), result in zip(entries, out.people):
            done = self._after(w, items, result)
            w.todo = [t for t in w.todo if t[0] not in done]
        self.state.save()

    def _after(self, w: _Work, items: list, result) -> set[str]:
        """Marks the photos of one person's entry by the batch's answer; returns the keys settled (the others go
        again in the next round)."""
        keys = [key for key, _, _ in items]
        if result.status in ("enrolled", "already_enrolled"):
            for j, (key, _, data) in enumerate(items):
                self.state.set(key, {"sha256": _sha(data), "status": "enrolled"})
                self.photos["skipped" if j in result.skipped_photos else "enrolled"] += 1
            if result.status == "enrolled":
                self.enrolled_people.add(w.user_id)
            return set(keys)
        if result.failures:
            bad = {f["index"]: (f["code"], f["message"]) for f in result.failures}
        elif result.code == "duplicate_face" and "image_index" in result.details:
            bad = {result.details["image_index"]: (result.code, result.message)}
        else:
            bad = {j: (result.code, result.message) for j in range(len(items))}
        extra = {}
        if result.code == "duplicate_face":
            extra = {k: result.details[k] for k in ("user_id", "score") if k in result.details}
            code = self._employee_code(extra.get("user_id"))
            if code:
                extra["employee_code"] = code
        for j, (code, message) in bad.items():
            key, _, data = items[j]
            self.state.set(key, {"sha256": _sha(data), "status": "failed", "code": code})
            self.photos["failed"] += 1
            self.fail(key, code, message, **(extra if code == "duplicate_face" else {}))
        return {keys[j] for j in bad}

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


def _progress(items, enabled: bool, unit: str = "people"):
    if not enabled:
        return items
    try:
        from tqdm import tqdm
    except ImportError:  # plain fallback
        def gen():
            for i, item in enumerate(items, 1):
                print(f"\r{i}/{len(items)} {unit}", end="", file=sys.stderr, flush=True)
                yield item
            print(file=sys.stderr)
        return gen()
    return tqdm(items, unit="person", desc="users")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("path", type=Path)
    p.add_argument("--people", type=Path, help="CSV mapping folders to people (default PATH/people.csv if present)")
    p.add_argument("--actor", help="admin employee code or email recorded in the audit log")
    p.add_argument("--state", type=Path, help=f"resume file (default PATH/{STATE_NAME})")
    p.add_argument("--retry-failed", action="store_true", help="try photos refused in an earlier run again")
    p.add_argument("--database-url", help="default: DATABASE_URL / the server's default")
    p.add_argument("--json", action="store_true", help="print the summary as JSON (no progress bar)")
    p.add_argument("--batch-people", type=int, default=None,
                   help="people per batch (one commit, one gallery version bump each; default "
                        "ENROLL_BATCH_MAX_PEOPLE)")
    p.add_argument("--threads", type=int, default=None,
                   help="photos analysed at once (default FACE_THREADS: every core; this process serves no kiosk)")
    a = p.parse_args(argv)
    if not a.path.is_dir():
        p.error(f"{a.path} is not a folder")

    from server.config import Settings
    from server.database import Database
    from server.faces.runtime import FaceRuntime
    from server.migrate import migrate_at_startup as migrate
    from server.startup import ensure_directories

    settings = Settings(**({"database_url": a.database_url} if a.database_url else {}))
    # No kiosk is served by this process: the batch lane may take every inference slot (FACE_THREADS), unless told.
    threads = a.threads or settings.inference_slots
    settings = settings.model_copy(update={"face_threads": max(threads, settings.inference_slots),
                                           "enroll_batch_threads": threads})
    batch_people = a.batch_people or settings.enroll_batch_max_people
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
    started = time.perf_counter()
    try:
        enroller.run(people, batch_people, not a.json)
    except KeyboardInterrupt:
        print("\ninterrupted: run again to resume", file=sys.stderr)
        return 130
    finally:
        rt.close()  # the gallery sync thread and the photo pools, before the database goes
        db.dispose()
    seconds = time.perf_counter() - started
    analysed = sum(b["photos"] for b in enroller.batches)
    out = {"model_id": engine.model_id, **enroller.summary(),
           "rate": {"seconds": round(seconds, 3), "people_enrolled": len(enroller.enrolled_people),
                    "people_per_minute": round(len(enroller.enrolled_people) / seconds * 60, 1) if seconds else None,
                    "photos_analysed": analysed,
                    "photos_per_minute": round(analysed / seconds * 60, 1) if seconds else None,
                    "batches": len(enroller.batches), "batch_people": batch_people, "threads": threads,
                    "cpu_count": os.cpu_count()}}
    if a.json:
        print(json.dumps(out, indent=2))
    else:
        print(f"people: {out['people']}  photos: {out['photos']}")
        rate = out["rate"]
        print(f"{rate['people_enrolled']} people enrolled in {rate['seconds']} s: {rate['people_per_minute']} "
              f"people/minute, {rate['photos_per_minute']} photos/minute ({rate['batches']} batches, "
              f"{rate['threads']} threads)")
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
