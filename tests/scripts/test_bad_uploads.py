"""The reduced bad-upload corpus through the real app (TestClient): every photo endpoint answers a named 4xx."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import bad_corpus  # noqa: E402
import bad_uploads  # noqa: E402

ADMIN = {"admin_email": "admin@example.com", "admin_password": "admin-password-123"}


@pytest.fixture
def client(db_url, settings_factory):
    from fastapi.testclient import TestClient

    from server.main import create_app

    settings = settings_factory(db_url, lockout_max_per_client=10**6, lockout_max_per_user=10**6)
    with TestClient(create_app(settings)) as c:
        yield c


def test_corpus_has_every_kind_and_at_least_500_cases():
    cases = bad_corpus.build()
    assert len(cases) >= 500
    kinds = bad_corpus.summary(cases)
    for kind in ("zero_bytes", "random_bytes", "truncated_jpeg", "truncated_png", "huge_dimensions", "oversize_body",
                 "animated", "svg", "non_image", "exif_bomb", "wrong_content_type", "malformed_request"):
        assert kinds.get(kind), kind
    names = {c.name for c in cases}
    assert {"png_20000x20000_gray", "body_30MB_random", "animated_gif_2frames"} <= names
    big = next(c for c in cases if c.name == "png_20000x20000_gray").materialize()[0][2]
    assert len(big) < 2 * 1024 * 1024  # 400 MP of zeros, compressed


def test_reduced_corpus_gets_named_4xx_everywhere(client):
    cases = bad_corpus.build(full=False)
    result = bad_uploads.run(client, cases, **ADMIN)
    assert result["skipped_endpoints"] == [], result
    assert result["failures"] == 0, result["failure_examples"]
    assert set(result["statuses"]) <= set(range(400, 500))
    assert result["requests"] == len(cases) * 4


def test_extreme_aspect_ratio_images_get_named_4xx(client):
    """Regression: these made YuNet's cv2.resize assert (500); now intake refuses them from the header."""
    cases = [bad_corpus.Case(name, "huge_dimensions", files=[(name + ".png", "image/png", make())])
             for name, make in (("png_100000x1", lambda: bad_corpus.huge_png(100000, 1, 0)),
                                ("png_1x100000", lambda: bad_corpus.huge_png(1, 100000, 0)),
                                ("jpeg_sof_30000x1", lambda: bad_corpus.huge_jpeg_header(30000, 1)))]
    result = bad_uploads.run(client, cases, **ADMIN)
    assert result["failures"] == 0, result["failure_examples"]
    assert result["requests"] == len(cases) * 4 and set(result["statuses"]) == {422}, result
    assert set(result["error_codes"]) == {"invalid_image"}, result
