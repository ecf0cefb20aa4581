"""The dashboard behind HTTPS: cookies marked Secure when the page came over HTTPS, and the
reverse proxy's word about the scheme and the client believed only when configured.

Served over HTTPS (usually a reverse proxy such as Caddy or nginx in front of waitress, see
docs/security.md), every cookie gets ``Secure``: a login session must never travel over plain
HTTP. With ``[dashboard] behind_proxy = true`` werkzeug's ProxyFix takes the scheme, host and
client address from the proxy's one X-Forwarded-* hop; without it those headers are ignored,
since anyone could send them. The client address matters: failed logins are rate-limited per
client, and behind a proxy without ProxyFix every client would look like the proxy.

The CSP, X-Frame-Options and no-store headers are set in ``dashboard/web/app.py``.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

StartResponse = Callable[..., Any]


class SecureCookies:
    """WSGI middleware: over HTTPS, add ``Secure`` to every Set-Cookie.

    A middleware rather than an after_request hook: Flask writes the session cookie after every
    after_request hook has run, so a hook would never see it.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("wsgi.url_scheme") != "https":
            return self.app(environ, start_response)

        def secure_start(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
            headers = [(k, _secure(v) if k.lower() == "set-cookie" else v) for k, v in headers]
            return start_response(status, headers, *args)

        return self.app(environ, secure_start)


def _secure(cookie: str) -> str:
    attributes = {a.strip().lower() for a in cookie.split(";")[1:]}
    return cookie if "secure" in attributes else f"{cookie}; Secure"


def init_app(app: Flask, behind_proxy: bool) -> None:
    """Secure cookies over HTTPS; ProxyFix (one proxy hop) only when ``behind_proxy``."""
    app.wsgi_app = SecureCookies(app.wsgi_app)   # type: ignore[method-assign]
    if behind_proxy:   # outermost: the scheme is fixed before SecureCookies looks at it
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_port=1,  # type: ignore[method-assign]
                                x_prefix=1)
