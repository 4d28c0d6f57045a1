"""JWT access and refresh tokens (PyJWT, HS256).

Claims: iss, aud, exp, iat, jti, sub (user id as a string), role, typ ("access" | "refresh") and fam: the login (token
family) the token belongs to. Refresh tokens use it for reuse detection; access tokens for revocation
(`server.auth.deps.current_user` refuses an access token whose family is revoked: logout, reuse detection, deactivation
and password changes end that login's access tokens at their next request, not at their expiry). Only HS256 is accepted:
`alg: none`, other algorithms, a wrong signature, issuer or audience, a missing claim, the wrong `typ` and an expired
token all raise `InvalidToken`.

Expiry is checked against `server.clock.now()` (not PyJWT's own clock) so that tests can move time.

The signing secret is `JWT_SECRET`; it is required when ENVIRONMENT=production. Otherwise a random secret is generated
once and persisted in DATA_DIR/jwt_secret (mode 0600), so tokens survive restarts and are shared by the workers of one
machine.
"""
from __future__ import annotations

import os
import secrets
import threading
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import jwt

from server.config import Settings
from server.clock import as_utc, now
from server.errors import InvalidToken

ALGORITHM = "HS256"
ACCESS = "access"
REFRESH = "refresh"
SECRET_FILE = "jwt_secret"
_REQUIRED = ["iss", "aud", "exp", "iat", "jti", "sub", "role", "typ", "fam"]
_MIN_SECRET_BYTES = 32
_lock = threading.Lock()
_cache: dict[str, str] = {}


class TokenExpired(InvalidToken):
    """An otherwise valid token past its `exp` (still 401 invalid_token for clients)."""

    message = "Token expired"


class SecretMissing(RuntimeError):
    """JWT_SECRET is required in production."""


def secret_problem(settings: Settings) -> str | None:
    """Why the server must not start with this JWT configuration (checked by the lifespan's first step), or None."""
    if settings.environment != "production":
        return None
    if not settings.jwt_secret:
        return ("JWT_SECRET must be set when ENVIRONMENT=production (at least 32 random bytes, e.g. the output of "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`)")
    n = len(settings.jwt_secret.encode())
    if n < _MIN_SECRET_BYTES:
        return f"JWT_SECRET is {n} bytes long; ENVIRONMENT=production needs at least {_MIN_SECRET_BYTES}"
    return None


def secret_warning(settings: Settings) -> str | None:
    """A short JWT_SECRET outside production: allowed (development), but worth saying."""
    if settings.environment != "production" and settings.jwt_secret:
        n = len(settings.jwt_secret.encode())
        if n < _MIN_SECRET_BYTES:
            return f"JWT_SECRET is only {n} bytes long; use at least {_MIN_SECRET_BYTES} (required in production)"
    return None


def signing_secret(settings: Settings) -> str:
    """JWT_SECRET, or (outside production) the secret persisted under DATA_DIR, created on first use."""
    if settings.jwt_secret:
        return settings.jwt_secret
    if settings.environment == "production":
        raise SecretMissing("JWT_SECRET must be set when ENVIRONMENT=production")
    path = (Path(settings.data_dir) / SECRET_FILE).resolve()
    key = str(path)
    with _lock:
        if key in _cache:
            return _cache[key]
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # O_EXCL: of several workers starting together, exactly one writes the secret; the others read it.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            secret = _read_secret(path)
        else:
            secret = secrets.token_urlsafe(48)
            with os.fdopen(fd, "w") as fh:
                fh.write(secret)
        _cache[key] = secret
        return secret


def _read_secret(path: Path) -> str:
    for _ in range(50):  # another worker may be between create and write
        secret = path.read_text().strip()
        if len(secret) >= _MIN_SECRET_BYTES:
            return secret
        threading.Event().wait(0.02)
    raise SecretMissing(f"{path} exists but holds no usable secret; delete it or set JWT_SECRET")


@dataclass(frozen=True)
class IssuedToken:
    token: str
    jti: str
    expires_at: object  # datetime (UTC)
    expires_in: int  # seconds
    family_id: str | None = None


def _encode(settings: Settings, *, user_id: int, role: str, typ: str, lifetime: timedelta,
            extra: dict | None = None) -> IssuedToken:
    issued = now().replace(microsecond=0)
    expires = issued + lifetime
    jti = uuid.uuid4().hex
    claims = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": int(issued.timestamp()),
        "exp": int(expires.timestamp()),
        "jti": jti,
        "sub": str(user_id),
        "role": role,
        "typ": typ,
        **(extra or {}),
    }
    token = jwt.encode(claims, signing_secret(settings), algorithm=ALGORITHM)
    return IssuedToken(token, jti, expires, int(lifetime.total_seconds()), (extra or {}).get("fam"))


def issue_access_token(settings: Settings, *, user_id: int, role: str, family_id: str) -> IssuedToken:
    """An access token of the login `family_id` (it stops working when that family is revoked)."""
    return _encode(settings, user_id=user_id, role=role, typ=ACCESS,
                   lifetime=timedelta(minutes=settings.access_token_minutes), extra={"fam": family_id})


def issue_refresh_token(settings: Settings, *, user_id: int, role: str, family_id: str | None = None) -> IssuedToken:
    """A refresh token; a new family unless `family_id` (rotation keeps the family)."""
    return _encode(settings, user_id=user_id, role=role, typ=REFRESH,
                   lifetime=timedelta(days=settings.refresh_token_days),
                   extra={"fam": family_id or uuid.uuid4().hex})


def decode_token(settings: Settings, token: str, *, typ: str = ACCESS) -> dict:
    """Verified claims of `token`, or InvalidToken. Only HS256, our iss/aud, not expired, of type `typ`."""
    if not token or not isinstance(token, str):
        raise InvalidToken()
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != ALGORITHM:
            raise InvalidToken()
        claims = jwt.decode(
            token,
            signing_secret(settings),
            algorithms=[ALGORITHM],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": _REQUIRED, "verify_exp": False, "verify_iat": False},
        )
    except jwt.PyJWTError:
        raise InvalidToken() from None
    if claims.get("typ") != typ or not isinstance(claims.get("fam"), str) or not claims["fam"]:
        raise InvalidToken()
    try:
        exp = int(claims["exp"])
        int(claims["sub"])
    except (TypeError, ValueError):
        raise InvalidToken() from None
    if exp <= as_utc(now()).timestamp():
        raise TokenExpired()
    return claims
