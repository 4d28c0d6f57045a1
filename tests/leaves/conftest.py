from tests.attendance.conftest import clock, world  # noqa: F401  (same fixtures as the attendance tests)
