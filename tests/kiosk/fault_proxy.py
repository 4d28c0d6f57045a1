"""A fault-injecting HTTP proxy for the browser tests: the page talks to the real live server through it, and a rule
may answer a kiosk check itself (a 500 server error, a 503 database_unavailable) instead of forwarding it.

    with FaultProxy(live.url, rule) as proxy:       # rule(request_id, seen) -> (status, body) | None (forward)
        driver.get(proxy.url + "/kiosk")

`seen` counts the checks with that request_id the proxy has received so far (1 for the first). Everything else
(the page, its files, /api/v1/devices/me, checks the rule lets through) reaches the real server unchanged.
"""
from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

Rule = Callable[[str, int], "tuple[int, dict] | None"]
_REQUEST_ID = re.compile(rb'name="request_id"\r\n\r\n([0-9a-fA-F-]{36})')
_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "host"}


class FaultProxy:
    def __init__(self, upstream: str, rule: Rule):
        self.upstream, self.rule = upstream.rstrip("/"), rule
        self.seen: Counter = Counter()
        self.injected: list[tuple[str, int]] = []  # (request_id, status) answered by the proxy itself
        self.lock = threading.Lock()
        self.http = httpx.Client(timeout=60)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _forward(self, method: str) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if method == "POST" and self.path.startswith("/api/v1/kiosk/check"):
                    m = _REQUEST_ID.search(body)
                    if m:
                        rid = m.group(1).decode()
                        with proxy.lock:
                            proxy.seen[rid] += 1
                            answer = proxy.rule(rid, proxy.seen[rid])
                            if answer is not None:
                                proxy.injected.append((rid, answer[0]))
                        if answer is not None:
                            return self._reply(answer[0], {"content-type": "application/json"},
                                               json.dumps(answer[1]).encode())
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
                try:
                    r = proxy.http.request(method, proxy.upstream + self.path, headers=headers, content=body)
                except httpx.HTTPError:
                    return self._reply(502, {"content-type": "text/plain"}, b"upstream unreachable")
                self._reply(r.status_code, {k: v for k, v in r.headers.items() if k.lower() not in _HOP}, r.content)

            def _reply(self, status: int, headers: dict, content: bytes) -> None:
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def do_GET(self):
                self._forward("GET")

            def do_POST(self):
                self._forward("POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FaultProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.http.close()
