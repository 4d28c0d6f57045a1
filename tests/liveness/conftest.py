from __future__ import annotations

from datetime import datetime, UTC

import pytest

from server import clock as clock_module
from tests.attendance.helpers import Clock


@pytest.fixture
def clock():
    c = Clock(datetime(2026, 11, 25, 7, 0, tzinfo=UTC))
    yield c
    clock_module.set_clock(None)
