"""scripts/bench_calendar.py runs end to end on a small company and checks its own result (every user's day became
a holiday)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_calendar_runs_and_reaches_every_user():
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_calendar.py"), "--users", "12"],
                       capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["users"] == 12 and out["holiday"]["days_turned_holiday"] == 12
    assert out["leave_30_days"]["seconds"] > 0
