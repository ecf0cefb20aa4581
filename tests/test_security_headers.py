"""The dashboard's browser-facing hardening, through Flask's test client: a CSP that allows no
inline code (and pages that need none), no framing, no caching of what a login shows, cookies
marked Secure over HTTPS, and a reverse proxy's X-Forwarded-* believed only when configured."""

from __future__ import annotations

import re
import time

import pytest
from werkzeug.security import generate_password_hash

from dashboard.store.store import Store
from dashboard.web.app import create_app
from protocol.config import load_config
from tests.dashboard_support import outage_events, outage_snapshot, write_config
from tests.dashboard_support import PASSWORD, TOKEN, login

PAGES = ("/", "/sites/bappeda-rr1", "/login", "/?lang=en", "/sites/no-such-site")
INLINE = [re.compile(p, re.I) for p in (r"<script(?![^>]*\ssrc=)[^>]*>", r"<style", r"\sstyle=",
                                         r"\son[a-z]+=", r"javascript:")]


@pytest.fixture
def make_client(tmp_path):
    stores = []

    def make(behind_proxy: bool = False):
        (tmp_path / "token").write_text(TOKEN + "\n")
        pwhash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
        extra = f'admin_password_hash = "{pwhash}"\napi_token_file = "token"\n' \
                f'behind_proxy = {"true" if behind_proxy else "false"}'
        config = load_config(write_config(tmp_path, dashboard=extra))
        store = Store(config.dashboard.database)
        stores.append(store)
        store.put_state(outage_snapshot("bappeda-rr1", time.time()))
        for event in outage_events("bappeda-rr1", time.time()):
            store.put_event(event)
        return create_app(config, store).test_client()

    yield make
    for store in stores:
        store.close()


def cookies_of(answer) -> dict[str, str]:
    """Set-Cookie headers by cookie name."""
    return {c.split("=", 1)[0]: c for c in answer.headers.getlist("Set-Cookie")}


@pytest.mark.parametrize("path", PAGES)
def test_pages_forbid_inline_code_and_framing_and_need_none(make_client, path):
    answer = make_client().get(path)
    csp = answer.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "script-src" not in csp
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    html = answer.get_data(as_text=True)
    for pattern in INLINE:   # the CSP would block it: the page would break silently
        assert not pattern.search(html), f"inline code in {path}: {pattern.search(html).group(0)}"


def test_what_a_login_shows_is_never_cached(make_client):
    client = make_client()
    login(client)
    for path in ("/", "/sites/bappeda-rr1", "/api/sites", "/api/sites/bappeda-rr1/events"):
        answer = client.get(path)
        assert answer.status_code == 200
        assert "no-store" in answer.headers["Cache-Control"], path


def test_cookies_are_secure_over_https(make_client):
    client = make_client()
    answer = client.get("/login?lang=en", base_url="https://dashboard.example")
    cookies = cookies_of(answer)
    assert set(cookies) == {"siaga_session", "siaga_lang"}
    assert all("; Secure" in c for c in cookies.values())
    token = re.search(r'name="csrf_token" value="([^"]+)"', answer.get_data(as_text=True)).group(1)
    answer = client.post("/login", data={"csrf_token": token, "password": PASSWORD, "next": "/"},
                         base_url="https://dashboard.example")
    assert answer.status_code == 303
    assert "; Secure" in cookies_of(answer)["siaga_session"] and "HttpOnly" in cookies_of(answer)["siaga_session"]


def test_cookies_over_plain_http_still_work(make_client):
    # Secure cookies over http would be dropped by the browser: the login would never stick.
    cookies = cookies_of(make_client().get("/login?lang=en"))
    assert cookies and not any("Secure" in c for c in cookies.values())


@pytest.mark.parametrize("behind_proxy, secure", [(False, False), (True, True)])
def test_the_proxys_word_on_https_counts_only_when_configured(make_client, behind_proxy, secure):
    answer = make_client(behind_proxy).get("/login", headers={"X-Forwarded-Proto": "https"})
    assert ("; Secure" in cookies_of(answer)["siaga_session"]) is secure


@pytest.mark.parametrize("behind_proxy, other_client", [(False, 429), (True, 401)])
def test_behind_the_proxy_failed_tokens_are_counted_per_client(make_client, behind_proxy, other_client):
    client = make_client(behind_proxy)

    def attempt(ip: str) -> int:
        return client.post("/api/sites/bappeda-rr1/commands/silence", environ_base={"REMOTE_ADDR": "127.0.0.1"},
                           headers={"Authorization": "Bearer wrong", "X-Forwarded-For": ip}).status_code

    assert [attempt("10.0.0.1") for _ in range(6)] == [401] * 5 + [429]
    # Without ProxyFix every client is the proxy: one bad script locks the others out.
    assert attempt("10.0.0.2") == other_client
