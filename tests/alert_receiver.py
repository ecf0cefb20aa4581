"""A real HTTP receiver on 127.0.0.1 for Apprise's ``json://`` URL: what IT's webhook would get.

Shared by tests/test_alerts_serve.py and bench/alerts_bench.py. It can be stopped and started
again on the same port (the uplink going down and coming back). While it is not listening it
keeps its port bound (a socket that does not listen: a connection is refused at once), so that
no other test's server can take the port and answer in its place (seen once in a run of eight
workers: the alert's error was not "connection refused").
"""

from __future__ import annotations

import json
import socket
import threading
import time
import weakref
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Receiver:
    """Collects every JSON body POSTed to it, with the time it arrived."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.received: list[tuple[float, dict[str, Any]]] = []
        self.hold_s = 0.0      # keep each body, then answer this much later (a slow webhook)
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()
        self._held: socket.socket | None = None
        self._hold()

    def _hold(self) -> None:
        """Bind the port without listening, while nothing serves it (best effort)."""
        held = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            held.bind(("127.0.0.1", self.port))
        except OSError:       # taken already (another test's port 9): nothing to hold
            held.close()
            return
        self._held = held
        weakref.finalize(self, held.close)   # a receiver let go closes what it still holds

    def _release(self) -> None:
        if self._held is not None:
            self._held.close()
            self._held = None

    @property
    def url(self) -> str:
        """The Apprise URL that posts here."""
        return f"json://127.0.0.1:{self.port}/alerts"

    def start(self) -> "Receiver":
        """Listen (again) on the port."""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._lock:
                    receiver.received.append((time.time(), json.loads(body)))
                time.sleep(receiver.hold_s)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._release()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop listening: sends now fail with "connection refused"."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self._hold()

    def messages(self) -> list[dict[str, Any]]:
        """Every body received so far, in arrival order."""
        with self._lock:
            return [body for _, body in self.received]
