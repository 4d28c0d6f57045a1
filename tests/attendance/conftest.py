from __future__ import annotations

from datetime import datetime

import pytest

from server import clock as clock_module
from tests.attendance.helpers import UTC, Clock, install_fake_faces, make_world

# Wednesday 25 November 2026, 07:00 UTC = 08:00 in Madrid (CET, UTC+1)
START = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    c = Clock(START)
    yield c
    clock_module.set_clock(None)


@pytest.fixture
def world(client, clock):
    install_fake_faces(client.app)
    return make_world(client)
