"""Request counts and latency by route, exposed in the Prometheus text format (per process)."""
from __future__ import annotations

import threading
from collections import defaultdict

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self.hist: dict[tuple[str, str], list[float]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(method, route, status)] += 1
            h = self.hist.setdefault((method, route), [0.0] * (len(BUCKETS) + 2))  # buckets.., count, sum
            for i, b in enumerate(BUCKETS):
                if seconds <= b:
                    h[i] += 1
            h[-2] += 1
            h[-1] += seconds

    def render(self, extra: dict[str, float] | None = None) -> str:
        lines = ["# HELP http_requests_total Requests by method, route and status.",
                 "# TYPE http_requests_total counter"]
        with self._lock:
            for (m, r, s), n in sorted(self.requests.items()):
                lines.append(f'http_requests_total{{method="{m}",route="{r}",status="{s}"}} {n}')
            lines += ["# HELP http_request_duration_seconds Request latency by method and route.",
                      "# TYPE http_request_duration_seconds histogram"]
            for (m, r), h in sorted(self.hist.items()):
                lab = f'method="{m}",route="{r}"'
                for i, b in enumerate(BUCKETS):
                    lines.append(f'http_request_duration_seconds_bucket{{{lab},le="{b}"}} {int(h[i])}')
                lines.append(f'http_request_duration_seconds_bucket{{{lab},le="+Inf"}} {int(h[-2])}')
                lines.append(f"http_request_duration_seconds_count{{{lab}}} {int(h[-2])}")
                lines.append(f"http_request_duration_seconds_sum{{{lab}}} {h[-1]:.6f}")
        for name, value in (extra or {}).items():
            lines += [f"# TYPE {name} gauge", f"{name} {value}"]
        return "\n".join(lines) + "\n"
