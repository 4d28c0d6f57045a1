"""Console browser tests: the kiosk tests' live server, API client and headless Chromium (fake camera), with the
console's own artefact folder (test-artifacts/console/)."""
from __future__ import annotations

from pathlib import Path

import pytest


ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
