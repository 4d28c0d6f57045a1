"""Imports every domain's tables so Base.metadata is complete (Alembic, tests)."""
from server.attendance.models import DayMark, KioskRequest, Punch, WorkDay  # noqa: F401
from server.audit.models import AuditEntry  # noqa: F401
from server.auth.models import LoginFailure, RefreshToken  # noqa: F401
from server.database import Base  # noqa: F401
from server.devices.models import Device  # noqa: F401
from server.holidays.models import Holiday  # noqa: F401
from server.leaves.models import Leave  # noqa: F401
from server.requests.models import EmployeeRequest  # noqa: F401
from server.faces.models import FaceAttempt, FaceTemplate, GalleryState  # noqa: F401
from server.liveness.models import Challenge  # noqa: F401
from server.shifts.models import Shift, ShiftAssignment  # noqa: F401
from server.users.models import Role, User  # noqa: F401
