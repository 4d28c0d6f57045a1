"""Login (password and face), token pairs, refresh rotation with reuse detection, logout."""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from server.auth import lockout
from server.auth.models import RefreshToken
from server.auth.tokens import (
    REFRESH,
    TokenExpired,
    decode_token,
    issue_access_token,
    issue_refresh_token,
)
from server.clock import now
from server.config import Settings
from server.database import keep_on_failure
from server.errors import (
    AppError,
    EmployeeCodeRequired,
    InvalidCredentials,
    InvalidToken,
    ModelMismatch,
    ModelWeightsMissing,
    UnknownFace,
    ValidationFailed,
)
from server.faces import service as faces
from server.faces.images import PHOTOS_PER_REQUEST
from server.faces.runtime import FaceRuntime
from server.liveness import flows as liveness_flows
from server.liveness import service as liveness
from server.liveness.errors import LivenessFailed, LivenessRequired
from server.users.models import User
from server.users.passwords import verify_password


@dataclass
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "bearer"

    def as_dict(self) -> dict:
        return {"access_token": self.access_token, "refresh_token": self.refresh_token,
                "token_type": self.token_type, "expires_in": self.expires_in}


def issue_token_pair(session: Session, settings: Settings, user: User, *, family_id: str | None = None) -> TokenPair:
    """A new access + refresh token; the refresh token is recorded (by jti) in its family."""
    family_id = family_id or uuid.uuid4().hex
    access = issue_access_token(settings, user_id=user.id, role=user.role, family_id=family_id)
    refresh = issue_refresh_token(settings, user_id=user.id, role=user.role, family_id=family_id)
    session.add(RefreshToken(jti=refresh.jti, family_id=family_id, user_id=user.id, issued_at=now(),
                             expires_at=refresh.expires_at))
    session.flush()
    return TokenPair(access.token, refresh.token, access.expires_in)


def find_login_user(session: Session, username: str) -> User | None:
    """By email (case-insensitive) or employee_code (exact)."""
    username = (username or "").strip()
    if not username or "\x00" in username or len(username) > 320:
        return None
    return session.scalar(select(User).where(or_(User.employee_code == username, User.email == username.lower())))


def lockout_subject(user: User | None, username: str | None) -> str | None:
    """Failures count against the user's employee_code whichever name was typed; unknown names count as typed."""
    return user.employee_code if user is not None else username


def password_login(session: Session, settings: Settings, *, username: str, password: str,
                   client: str) -> tuple[User, TokenPair]:
    """Checks the lockout, then the password (argon2 against a dummy hash when there is no such user, so timing
    does not tell whether the user exists). Failure → InvalidCredentials, counted; 429 when locked."""
    user = find_login_user(session, username)
    subject = lockout_subject(user, username)
    lockout.check(session, settings, kind="password", subject=subject, client=client)
    ok = verify_password(password or "", user.password_hash if user is not None else None)
    if not ok or user is None or not user.is_active:
        lockout.record_failure(session, kind="password", subject=subject, client=client)
        raise InvalidCredentials()
    lockout.clear_subject(session, kind="password", subject=subject)
    return user, issue_token_pair(session, settings, user)


def refresh(session: Session, settings: Settings, refresh_token: str) -> tuple[User, TokenPair]:
    """Spends `refresh_token` and returns a new pair in the same family.

    A spent (or revoked) token presented again revokes the whole family: whoever holds a copy of any token of that
    login (attacker or owner) must log in again.
    """
    claims = decode_token(settings, refresh_token, typ=REFRESH)
    row = session.get(RefreshToken, claims["jti"])
    if row is None or row.family_id != claims["fam"]:
        raise InvalidToken()
    t = now()
    spent = session.execute(
        update(RefreshToken)
        .where(RefreshToken.jti == row.jti, RefreshToken.spent_at.is_(None), RefreshToken.revoked_at.is_(None))
        .values(spent_at=t)
        .execution_options(synchronize_session=False)
    ).rowcount
    if spent != 1:  # already spent or revoked: reuse (or a lost race with another refresh of the same token)
        family = row.family_id
        keep_on_failure(session, lambda s: revoke_family(s, family))  # stays revoked although the request fails
        raise InvalidToken("Refresh token reuse detected: all tokens of this login are revoked")
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise InvalidToken()
    return user, issue_token_pair(session, settings, user, family_id=row.family_id)


def logout(session: Session, settings: Settings, refresh_token: str) -> None:
    """Revokes the family of `refresh_token` (this login on this client). An expired token is fine to log out with;
    a forged one is not."""
    try:
        claims = decode_token(settings, refresh_token, typ=REFRESH)
    except TokenExpired:
        return
    row = session.get(RefreshToken, claims["jti"])
    if row is None:
        raise InvalidToken()
    revoke_family(session, row.family_id)


def revoke_family(session: Session, family_id: str) -> int:
    """Revokes a login: its refresh tokens and (through `live_family`) its access tokens."""
    return session.execute(
        update(RefreshToken).where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now()).execution_options(synchronize_session=False)
    ).rowcount or 0


def revoke_user_tokens(session: Session, user_id: int) -> int:
    """Revokes every login of a user (deactivation, deletion, password change): its refresh tokens, and its access
    tokens at their next use (their families are revoked; `current_user` also requires an active user)."""
    return session.execute(
        update(RefreshToken).where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now()).execution_options(synchronize_session=False)
    ).rowcount or 0


def live_family(family_id: str):
    """SQL condition on `User`: the login (token family) `family_id` is alive and is this user's.

    revoke_family / revoke_user_tokens revoke every row of a family at once, so any unrevoked row means the login
    is alive, and every row of a family names the same user. One probe of ix_refresh_tokens_family_id, in the
    same query as the user (an uncorrelated subquery: a correlated `user_id = users.id` would make SQLite, which
    has no statistics, walk the user's index instead, i.e. every login the user ever had). Rows are purged a day
    after their expiry (server/auth/jobs.py): the newest row of a family outlives its newest access token.
    """
    owner = (select(RefreshToken.user_id)
             .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None)).limit(1))
    return User.id == owner.scalar_subquery()


def purge_expired_tokens(session: Session, cutoff) -> int:
    from sqlalchemy import delete

    return session.execute(delete(RefreshToken).where(RefreshToken.expires_at < cutoff)).rowcount or 0


# ----------------------------------------------------------------------------- face login

@dataclass
class FaceLoginResult:
    user: User
    tokens: TokenPair
    score: float
    model_id: str


def face_login(session: Session, settings: Settings, rt: FaceRuntime, *, frames: list[bytes], employee_code: str | None,
               client: str, challenge_id: str | None = None) -> FaceLoginResult:
    """1:1 against the templates of `employee_code` when given (the 1:1 operating point), else 1:N against the gallery
    at the 1:N operating point for its size (FACE_LOGIN_WITHOUT_CODE=false refuses that: 422 employee_code_required;
    every frame must agree). Every attempt writes a decision record with its real outcome. No match, an unknown or
    inactive user, or a user enrolled with another model only → UnknownFace (401, counted for lockout); a bad photo →
    the quality error (422, not counted); locked → 429; no model weights → 503.

    With a `challenge_id` (required when LIVENESS_LOGIN=challenge) the challenge is spent first, only the first of the
    2-5 frames is matched, and the others must show that person turning as asked (server/liveness/flows.py); else
    LivenessFailed (422, counted for lockout, the measures in the decision record)."""
    import time


    code = (employee_code or "").strip().replace("\x00", "") or None
    lockout.check(session, settings, kind="face", subject=code, client=client)
    started = time.perf_counter()
    engine = rt.engine
    model_id = engine.model_id if engine is not None else settings.face_model

    last: dict = {}

    def attempt(decision: str, liveness: dict | None = None, **kw) -> None:
        """The decision record of this login; kept even when the request then fails (unless it recognized).
        `liveness`: a challenge's measures (rule.Verdict.measures)."""
        latency_ms = (time.perf_counter() - started) * 1000
        last["kw"] = kw

        def write(s: Session) -> None:
            row = faces.record_attempt(s, "login", model_id=model_id, decision=decision, client=client,
                                       latency_ms=latency_ms, **kw)
            row.liveness = liveness
            if s is session:
                last["row"] = row

        if decision == "recognized":
            write(session)
        else:
            keep_on_failure(session, write)

    if code is None and not settings.face_login_without_code:
        attempt(f"rejected:{EmployeeCodeRequired.code}")
        raise EmployeeCodeRequired(field="employee_code")
    action = _login_challenge(session, settings, challenge_id, client, len(frames))

    if engine is None:
        attempt("rejected:model_weights_missing")
        raise ModelWeightsMissing()
    try:
        if action is None:
            samples, analyzed = faces.analyze_all(rt, frames, "login"), None
        else:  # a challenge: the decoded frames and their finer landmarks are kept for the liveness measures
            analyzed = liveness_flows.analyze_frames(rt, frames, "login")
            samples = [f.sample for f in analyzed]
    except AppError as exc:
        attempt(f"rejected:{exc.code}")
        raise
    matched = samples if action is None else samples[:1]
    if code is not None:
        user, score = _face_one_to_one(session, rt, matched, code, attempt)
    else:
        user, score = _face_one_to_many(session, rt, matched, attempt)
    if user is not None and action is not None:
        _judge_login(session, rt, analyzed, user, action, code, client, attempt, last)
    if user is None:
        lockout.record_failure(session, kind="face", subject=code, client=client)
        raise UnknownFace()
    lockout.clear_subject(session, kind="face", subject=code or user.employee_code)
    return FaceLoginResult(user, issue_token_pair(session, settings, user), float(score), engine.model_id)


def _login_challenge(session: Session, settings: Settings, challenge_id: str | None, client: str,
                     frames: int) -> str | None:
    """The action this login must answer, or None when no challenge applies. The challenge is spent in a short
    transaction of its own, committed before the frames are analysed (so two logins racing with one challenge
    cannot both pass, and nothing is locked during the analysis)."""
    if challenge_id is None or not str(challenge_id).strip():
        if settings.liveness_login == "challenge":
            raise LivenessRequired()
        if frames > PHOTOS_PER_REQUEST["login"]:
            raise ValidationFailed(f"At most {PHOTOS_PER_REQUEST['login']} frames without a challenge", field="images")
        return None
    liveness.check_frame_count(frames)
    with Session(bind=session.get_bind()) as own:
        action = liveness.spend(own, challenge_id, purpose="login", client=client)
        own.commit()
    return action


def _judge_login(session: Session, rt: FaceRuntime, frames, user: User, action: str, code, client,
                 attempt, last: dict) -> None:
    """The later frames must show `user` turning as asked. Live: the recognition's decision record gets the
    measures. Not live: that record becomes `liveness:<reason>` with the measures (kept when the request fails),
    the failure counts toward the lockout, and LivenessFailed (422) is raised."""
    verdict = liveness_flows.judge(rt, frames, user.id, action, session)
    if verdict.live:
        last["row"].liveness = verdict.measures()
        return
    session.delete(last.pop("row"))
    session.flush()
    attempt(f"liveness:{verdict.reason}", liveness=verdict.measures(), **last["kw"])
    lockout.record_failure(session, kind="face", subject=code or user.employee_code, client=client)
    raise LivenessFailed(reason=verdict.reason, action=action)


def _outcome(matched: bool, user: User | None) -> str:
    if not matched:
        return "unknown"
    return "recognized" if user is not None and user.is_active else "refused:inactive_user"


def _face_one_to_one(session: Session, rt: FaceRuntime, samples, code: str,
                     attempt) -> tuple[User | None, float | None]:
    """The user of `code` if every frame matches its templates and it is active; records the attempt either way."""
    engine = rt.require_engine()
    target = session.scalar(select(User).where(User.employee_code == code))
    if target is None:
        attempt("unknown", threshold=engine.threshold)
        return None, None
    try:
        result = faces.match_one_to_one(rt, session, target.id, samples)
    except ModelMismatch:  # enrolled with another face model only: needs re-enrollment (the record tells admins)
        attempt("rejected:model_mismatch", best_user_id=target.id, threshold=engine.threshold)
        return None, None
    decision = _outcome(result.matched, target)
    attempt(decision, best_user_id=target.id, best_score=result.score, threshold=engine.threshold)
    return (target if decision == "recognized" else None), result.score


def _face_one_to_many(session: Session, rt: FaceRuntime, samples, attempt) -> tuple[User | None, float | None]:
    """The recognised active user, or None; records the attempt either way."""
    engine = rt.require_engine()
    try:
        d = faces.match_one_to_many(rt, samples, session=session)
    except ModelMismatch:
        attempt("rejected:model_mismatch", threshold=engine.threshold)
        raise
    user = session.get(User, d.user_id) if d.recognized else None
    decision = _outcome(d.recognized, user)
    attempt(decision, best_user_id=d.candidates[0].user_id if d.candidates else None, best_score=d.score,
            runner_up_score=d.runner_up, point=d.point)
    return (user if decision == "recognized" else None), d.score
