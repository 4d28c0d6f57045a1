"""JWT rejections: alg none, another algorithm, wrong signature, wrong audience, wrong issuer, expired; and the
secret file used when JWT_SECRET is not set."""
from __future__ import annotations

import base64
import json
import os
import stat

import jwt
import pytest

from server.auth import tokens
from tests.fixtures.api import bearer, error_code, login
from tests.fixtures import ADMIN_PASSWORD


@pytest.fixture
def admin_claims(client, settings):
    pair = login(client, "admin@example.com", ADMIN_PASSWORD)
    return tokens.decode_token(settings, pair["access_token"])


def _me(client, token):
    return client.get("/api/v1/users/me", headers=bearer(token))


def _b64(obj) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def test_a_valid_token_is_accepted(client, settings, admin_claims):
    token = jwt.encode(admin_claims, settings.jwt_secret, algorithm="HS256")
    assert _me(client, token).status_code == 200


def test_alg_none_is_rejected(client, admin_claims):
    token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(admin_claims)}."
    r = _me(client, token)
    assert r.status_code == 401
    assert error_code(r) == "invalid_token"


def test_other_algorithm_is_rejected_even_with_the_right_secret(client, settings, admin_claims):
    token = jwt.encode(admin_claims, settings.jwt_secret, algorithm="HS512")
    r = _me(client, token)
    assert r.status_code == 401
    assert error_code(r) == "invalid_token"


def test_wrong_signature_is_rejected(client, admin_claims):
    token = jwt.encode(admin_claims, "another-secret-that-is-long-enough-for-hs256", algorithm="HS256")
    r = _me(client, token)
    assert r.status_code == 401
    assert error_code(r) == "invalid_token"


def test_wrong_audience_is_rejected(client, settings, admin_claims):
    token = jwt.encode({**admin_claims, "aud": "someone-else"}, settings.jwt_secret, algorithm="HS256")
    r = _me(client, token)
    assert r.status_code == 401
    assert error_code(r) == "invalid_token"


def test_wrong_issuer_is_rejected(client, settings, admin_claims):
    token = jwt.encode({**admin_claims, "iss": "evil"}, settings.jwt_secret, algorithm="HS256")
    assert _me(client, token).status_code == 401


def test_missing_claim_is_rejected(client, settings, admin_claims):
    claims = dict(admin_claims)
    del claims["jti"]
    assert _me(client, jwt.encode(claims, settings.jwt_secret, algorithm="HS256")).status_code == 401


def test_expired_token_is_rejected(client, settings, admin_claims):
    token = jwt.encode({**admin_claims, "exp": admin_claims["iat"] - 1}, settings.jwt_secret, algorithm="HS256")
    r = _me(client, token)
    assert r.status_code == 401
    assert error_code(r) == "invalid_token"


def test_access_token_expires_after_its_lifetime(client, clock):
    token = login(client, "admin@example.com", ADMIN_PASSWORD)["access_token"]
    clock.advance(minutes=14)
    assert _me(client, token).status_code == 200
    clock.advance(minutes=1, seconds=1)
    assert _me(client, token).status_code == 401


def test_garbage_bearer_is_rejected(client):
    r = _me(client, "garbage")
    assert r.status_code == 401
    assert error_code(r) == "invalid_token"


def test_secret_is_generated_once_and_persisted_with_0600(settings_factory, tmp_path):
    s = settings_factory("sqlite://", jwt_secret=None, data_dir=tmp_path / "d1")
    first = tokens.signing_secret(s)
    path = tmp_path / "d1" / "jwt_secret"
    assert path.read_text() == first
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    tokens._cache.clear()  # as a new process would
    assert tokens.signing_secret(s) == first
    token = tokens.issue_access_token(s, user_id=1, role="admin", family_id="f1").token
    tokens._cache.clear()
    assert tokens.decode_token(s, token)["sub"] == "1"


def test_production_requires_jwt_secret(settings_factory, tmp_path):
    s = settings_factory("sqlite://", jwt_secret=None, environment="production", data_dir=tmp_path / "d2")
    with pytest.raises(tokens.SecretMissing):
        tokens.signing_secret(s)
    assert not (tmp_path / "d2" / "jwt_secret").exists()
