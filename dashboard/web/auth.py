"""Who may press the buttons: an admin login (session + CSRF token) or a bearer token.

Reading needs no login. The login form checks ``dashboard.admin_password_hash`` (made by
``siaga passwd``); scripts send ``Authorization: Bearer`` with the token of
``dashboard.api_token_file``. Failed attempts of both are rate-limited per client and overall.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import threading
import time
from collections import OrderedDict, deque
from typing import Callable

from flask import (Blueprint, Response, abort, g, redirect, render_template, request,
                   session, url_for)
from werkzeug.security import check_password_hash
from werkzeug.wrappers import Response as BaseResponse

from dashboard.web.resources import get_config, get_limiter
from protocol.durations import Span, duration

logger = logging.getLogger(__name__)

bp = Blueprint("auth", __name__)

CSRF_FIELD, CSRF_HEADER = "csrf_token", "X-CSRF-Token"
HASH_METHODS = ("scrypt", "pbkdf2")


class RateLimiter:
    """At most ``per_client`` failures per client and ``overall`` failures in all per window."""

    def __init__(self, per_client: int = 5, overall: int = 50, window_s: float = 900.0,
                 clock: Callable[[], float] = time.monotonic, max_clients: int = 10000) -> None:
        self.per_client, self.overall, self.window_s = per_client, overall, window_s
        self.clock, self.max_clients = clock, max_clients
        self._clients: OrderedDict[str, deque[float]] = OrderedDict()
        self._all: deque[float] = deque()
        self._lock = threading.Lock()

    def wait_s(self, client: str) -> float:
        """Seconds ``client`` must wait before trying again; 0 when it may try now."""
        now = self.clock()
        with self._lock:
            waits = [self._wait(self._all, self.overall, now)]
            if client in self._clients:
                waits.append(self._wait(self._clients[client], self.per_client, now))
        return max(waits)

    def _wait(self, times: deque[float], limit: int, now: float) -> float:
        while times and times[0] <= now - self.window_s:
            times.popleft()
        return times[0] + self.window_s - now if len(times) >= limit else 0.0

    def failed(self, client: str) -> None:
        """Count one failed attempt."""
        now = self.clock()
        with self._lock:
            self._clients.setdefault(client, deque()).append(now)
            self._clients.move_to_end(client)
            while len(self._clients) > self.max_clients:
                self._clients.popitem(last=False)
            self._all.append(now)

    def succeeded(self, client: str) -> None:
        """Forget the client's failures after a good attempt."""
        with self._lock:
            self._clients.pop(client, None)


def valid_hash(pwhash: str) -> bool:
    """True when ``pwhash`` looks like a werkzeug hash from ``siaga passwd``."""
    method = pwhash.split("$", 1)[0].split(":", 1)[0]
    return pwhash.count("$") == 2 and method in HASH_METHODS


def csrf_token() -> str:
    """This session's CSRF token, made on first use."""
    if CSRF_FIELD not in session:
        session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return session[CSRF_FIELD]


def csrf_ok() -> bool:
    """True when the request carries this session's CSRF token (form field or header)."""
    sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER, "")
    kept = session.get(CSRF_FIELD, "")
    return bool(sent and kept) and hmac.compare_digest(sent.encode(), kept.encode())


def logged_in() -> bool:
    """True when this browser has logged in as admin."""
    return bool(session.get("admin"))


def limiter() -> RateLimiter:
    """The app's rate limiter of failed logins and tokens."""
    return get_limiter()


def command_actor() -> tuple[str | None, int]:
    """(who sends a command, 0) or (None, HTTP status of the refusal: 401, 403 or 429)."""
    header = request.headers.get("Authorization", "")
    if header:
        return _bearer(header)
    if not logged_in():
        return None, 401
    if not csrf_ok():
        return None, 403
    return "admin", 0


def _bearer(header: str) -> tuple[str | None, int]:
    client = request.remote_addr or "?"
    if limiter().wait_s(client):
        return None, 429
    scheme, _, token = header.partition(" ")
    expected = get_config().dashboard.api_token
    if scheme.lower() == "bearer" and expected and hmac.compare_digest(
            token.strip().encode(), expected.encode()):
        return "api", 0
    limiter().failed(client)
    logger.warning("refused a command with a wrong bearer token from %s", client)
    return None, 401


@bp.route("/login", methods=["GET", "POST"])
def login() -> BaseResponse | str | tuple[str, int]:
    """The admin login form."""
    pwhash = get_config().dashboard.admin_password_hash
    if not pwhash:
        return render_template("login.html", disabled=True), 404
    target = _safe_next(request.values.get("next", ""))
    if request.method == "GET":
        return render_template("login.html", next=target)
    client = request.remote_addr or "?"
    wait = limiter().wait_s(client)
    if wait:
        minutes = duration(wait, g.get("lang", "id"), Span.NEEDED)  # a wait: rounded up, never "0"
        body = render_template("login.html", next=target, error="too_many_attempts", minutes=minutes)
        return Response(body, 429, {"Retry-After": str(int(wait) + 1)})
    if not csrf_ok():
        return render_template("login.html", next=target, error="session_expired"), 400
    if not check_password_hash(pwhash, request.form.get("password", "")):
        limiter().failed(client)
        logger.warning("failed dashboard login from %s", client)
        return render_template("login.html", next=target, error="wrong_password"), 401
    limiter().succeeded(client)
    session.clear()  # a new session after login: no fixation
    session.permanent = True
    session["admin"] = True
    csrf_token()
    logger.info("admin logged in from %s", client)
    return redirect(target, 303)


@bp.route("/logout", methods=["POST"])
def logout() -> BaseResponse:
    """End the admin session."""
    if not csrf_ok():
        abort(400)
    session.clear()
    return redirect(url_for("pages.overview"), 303)


def _safe_next(target: str) -> str:
    """Only a path on this site: never "//evil.example" or "https://..."."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target \
            and all(32 < ord(c) < 127 for c in target) and len(target) < 300:
        return target
    return url_for("pages.overview")

