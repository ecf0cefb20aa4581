"""The demo's own alert receiver: what IT would get, shown without writing any config.

`siaga demo` points the dashboard's `alerts.urls_file` at an Apprise ``json://`` URL of this small
HTTP server on a free loopback port. It keeps every alert POSTed to it in memory and serves them:
``/`` a page (newest first, Bahasa Indonesia, ``?lang=en`` English) that the room page links to
through `alerts.inbox_url`, and ``/alerts.json`` the same as JSON for scripts and tests.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

logger = logging.getLogger(__name__)

MAX_BODY = 1_000_000   # an alert is a few hundred bytes; anything this big is not one
TEXTS = {
    "id": {"title": "Peringatan yang diterima demo",
           "intro": "Inilah yang diterima bagian TI (Telegram, e-mail, webhook) dari dashboard "
                    "demo; yang terbaru di atas. Halaman ini diperbarui tiap 5 detik.",
           "none": "Belum ada peringatan. Coba di terminal lain: siaga demo power off",
           "room": "← Halaman ruang", "other": "English"},
    "en": {"title": "Alerts the demo received",
           "intro": "What IT (Telegram, e-mail, a webhook) gets from the demo's dashboard; newest "
                    "first. This page refreshes every 5 seconds.",
           "none": "No alert yet. Try in another terminal: siaga demo power off",
           "room": "← Room page", "other": "Bahasa Indonesia"},
}


class AlertInbox:
    """An HTTP server on 127.0.0.1 that collects Apprise's json:// posts and lists them."""

    def __init__(self, port: int, zone: ZoneInfo, room_url: str = "",
                 on_alert: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.port, self.zone, self.room_url, self.on_alert = port, zone, room_url, on_alert
        self._received: list[tuple[float, dict[str, Any]]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def apprise_url(self) -> str:
        """The Apprise URL that posts here (a line of `alerts.urls_file`)."""
        return f"json://127.0.0.1:{self.port}/alerts"

    @property
    def page_url(self) -> str:
        """The page listing what arrived (`alerts.inbox_url`)."""
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> "AlertInbox":
        """Listen on the port, serving from a daemon thread."""
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler(self))
        threading.Thread(target=self._server.serve_forever, name="demo-alerts", daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def add(self, body: dict[str, Any]) -> None:
        """Keep one alert as it arrived."""
        with self._lock:
            self._received.append((time.time(), body))
        if self.on_alert is not None:
            self.on_alert(body)

    def newest_first(self) -> list[dict[str, Any]]:
        """Every alert received, newest first, each with ``received`` (Unix seconds)."""
        with self._lock:
            return [{"received": ts, **body} for ts, body in reversed(self._received)]

    def page(self, lang: str) -> str:
        """The HTML page of the received alerts in ``lang``."""
        t = TEXTS.get(lang, TEXTS["id"])
        other = "en" if lang == "id" else "id"
        items = "".join(self._item(a) for a in self.newest_first()) or f"<p>{_e(t['none'])}</p>"
        room = (f'<a href="{_e(self.room_url)}?lang={lang}">{_e(t["room"])}</a> · '
                if self.room_url else "")
        return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
                '<meta name="viewport" content="width=device-width, initial-scale=1">'
                f'<meta http-equiv="refresh" content="5"><title>{_e(t["title"])} · Siaga</title>'
                f"<style>{STYLE}</style></head><body><main>"
                f'<p>{room}<a href="?lang={other}" lang="{other}">{_e(t["other"])}</a></p>'
                f"<h1>{_e(t['title'])}</h1><p>{_e(t['intro'])}</p>{items}</main></body></html>")

    def _item(self, alert: dict[str, Any]) -> str:
        when = dt.datetime.fromtimestamp(alert["received"], self.zone).strftime("%d/%m %H:%M:%S %Z")
        kind = str(alert.get("type") or "info")
        return (f'<article class="{_e(kind)}"><p class="meta">{_e(when)} · {_e(kind)}</p>'
                f"<h2>{_e(str(alert.get('title') or ''))}</h2>"
                f"<p class=\"body\">{_e(str(alert.get('message') or ''))}</p></article>")


STYLE = ("body{font-family:system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d2330}"
         "main{max-width:44rem;margin:0 auto;padding:1rem}h1{font-size:1.4rem}"
         "article{background:#fff;border-left:.4rem solid #2b6cb0;border-radius:.3rem;"
         "padding:.6rem .9rem;margin:.8rem 0}article.warning{border-color:#b7791f}"
         "article.failure{border-color:#c53030}h2{font-size:1.05rem;margin:.2rem 0}"
         ".meta{color:#4a5568;font-size:.9rem;margin:0}.body{white-space:pre-wrap;margin:.3rem 0}"
         "a{color:#2b6cb0}")


def _e(value: str) -> str:
    return html.escape(value, quote=True)


def _handler(inbox: AlertInbox) -> type[BaseHTTPRequestHandler]:
    """The request handler class bound to ``inbox``."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            length = int(self.headers.get("Content-Length") or 0)
            try:
                if not 0 < length <= MAX_BODY:
                    raise ValueError(f"a body of {length} bytes")
                body = json.loads(self.rfile.read(length))
                if not isinstance(body, dict):
                    raise ValueError("not a JSON object")
            except ValueError as exc:
                logger.warning("the demo's alert receiver ignored a post: %s", exc)
                return self._answer(400, b"", "text/plain")
            inbox.add(body)
            self._answer(200, b"", "text/plain")

        def do_GET(self) -> None:  # noqa: N802
            url = urlsplit(self.path)
            if url.path == "/alerts.json":
                body = json.dumps({"alerts": inbox.newest_first()}, ensure_ascii=False)
                return self._answer(200, body.encode(), "application/json")
            if url.path != "/":
                return self._answer(404, b"not found\n", "text/plain")
            lang = (parse_qs(url.query).get("lang") or ["id"])[0]
            self._answer(200, inbox.page(lang if lang in TEXTS else "id").encode(),
                         "text/html; charset=utf-8")

        def _answer(self, status: int, body: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass   # the demo's terminal shows the alerts itself

    return Handler
