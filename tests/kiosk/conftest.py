"""The kiosk browser tests' artefact folder (test-artifacts/kiosk/); the live server, API client and headless
Chromium are the shared fixtures of tests/fixtures/live.py."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures import ROOT

ARTIFACTS = ROOT / "test-artifacts" / "kiosk"


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
