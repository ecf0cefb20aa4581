"""The status page (`siaga dashboard`): a Flask app fed only by MQTT, never by NUT or GPIO.

``create_app(config)`` builds everything (store, MQTT feed, pages, API); tests pass their own
``store`` (and ``feed``) instead. Pages are in ``site.language``, the other language with ``?lang=``.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, Response, g, render_template, request, url_for
from werkzeug.exceptions import HTTPException, ServiceUnavailable

from dashboard.alerts.outbox import Alerter
from dashboard.alerts.targets import load_targets
from dashboard.store import engine
from dashboard.store.engine import DatabaseUnavailable
from dashboard.store.feed import Feed
from dashboard.store.store import Store
from dashboard.texts import events as event_texts, i18n, keys
from dashboard.web import present, resources, security
from dashboard.web.auth import RateLimiter, csrf_token, logged_in, valid_hash
from dashboard.web.metrics import Metrics
from dashboard.web.openapi import bp as openapi_bp
from dashboard.web.overview import Groups, expected_sites
from dashboard.web.report_jobs import Reports
from dashboard.web.resources import get_alerter, get_config, get_zone
from protocol.config import Config, ConfigError

logger = logging.getLogger(__name__)

LANG_COOKIE = "siaga_lang"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; "
                               "base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def open_store(config: Config) -> Store:
    """The store at ``dashboard.database``; ConfigError naming the key when it cannot be opened."""
    try:
        return Store(config.dashboard.database, stale_after_s=config.dashboard.stale_after_s,
                     sites=config.dashboard.sites)
    except engine.errors(config.dashboard.database) as exc:
        raise ConfigError(f"{Path(config.path).name}: dashboard.database: cannot open "
                          f"{engine.shown(config.dashboard.database)}: "
                          f"{engine.reason(exc, config.dashboard.database)}") from None


def create_app(config: Config, store: Store | None = None, feed: Feed | None = None) -> Flask:
    """The dashboard app, wired but not running: ``start_app`` starts its threads.

    Without ``store`` it opens the database and makes the MQTT feed; tests pass their own."""
    zone = ZoneInfo(config.site.timezone)   # checked when the config was loaded
    pwhash = config.dashboard.admin_password_hash
    if pwhash and not valid_hash(pwhash):
        raise ConfigError(f"{Path(config.path).name}: dashboard.admin_password_hash: not a hash "
                          "made by `siaga passwd`")
    targets = load_targets(config) if config.alerts.urls_file else None
    if store is None:
        store = open_store(config)
        feed = feed or Feed(config, store)
    alerter = None
    if targets is not None:  # alerts on: every new event and state also goes to the alerter
        alerter = Alerter(config, store.db, targets, store.entries)
        store.listeners.append(alerter.hear)
    app = Flask("dashboard")   # dashboard/templates and static: the report renders them too
    app.config.update(SECRET_KEY=store.secret_key(), SESSION_COOKIE_NAME="siaga_session",
                      SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_HTTPONLY=True,
                      PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=12),
                      MAX_CONTENT_LENGTH=64 * 1024)
    resources.install(app, config=config, store=store, feed=feed, alerter=alerter, zone=zone,
                      metrics=Metrics(store, lambda: feed is not None and feed.connected),
                      groups=Groups(config.dashboard.groups, store.max_sites,
                                    expected_sites(config.dashboard.sites, config.dashboard.groups)),
                      limiter=RateLimiter(), cache=resources.PageCache(), reports=Reports())
    from dashboard.web import alerts as alerts_api, api, auth, pages
    for blueprint in (pages.bp, api.bp, auth.bp, alerts_api.bp):
        app.register_blueprint(blueprint)
    from dashboard.web.report import bp as report_bp   # the needs report (CONTRACT §5.6)
    app.register_blueprint(report_bp)
    app.register_blueprint(openapi_bp)
    security.init_app(app, config.dashboard.behind_proxy)
    app.before_request(_pick_language)
    app.after_request(_finish_response)
    app.context_processor(_template_globals)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(DatabaseUnavailable, _database_away)
    return app


def start_app(app: Flask) -> None:
    """Start what runs beside the pages: the MQTT feed (with its replays) and the alerts."""
    feed, alerter = resources.resource(app, "feed"), resources.resource(app, "alerter")
    if feed is not None:
        feed.start()
    if alerter is not None:
        alerter.start()


def stop_app(app: Flask) -> None:
    """Stop what ``start_app`` started (the feed first: nothing new reaches the alerts)."""
    feed, alerter = resources.resource(app, "feed"), resources.resource(app, "alerter")
    if feed is not None:
        feed.stop()
    if alerter is not None:
        alerter.stop()


def _pick_language() -> None:
    config = get_config()
    g.lang = i18n.pick_language(request.args.get("lang"), request.cookies.get(LANG_COOKIE),
                                config.site.language)


def _finish_response(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    if not request.path.startswith("/static/"):
        response.headers.setdefault("Cache-Control", "no-store")
    asked = request.args.get("lang")
    if asked in i18n.LANGUAGES and request.cookies.get(LANG_COOKIE) != asked:
        response.set_cookie(LANG_COOKIE, asked, max_age=365 * 86400, samesite="Lax", httponly=True)
    return response


def _http_error(exc: HTTPException) -> Response | tuple[Any, int]:
    """JSON for the API, a page in the reader's language for people."""
    code = exc.code or 500
    if request.path.startswith(("/api/", "/healthz", "/metrics")):
        return {"error": exc.description or exc.name}, code
    if "lang" not in g:
        g.lang = get_config().site.language
    title, text = ERROR_TEXTS.get(code, ("error", "error_text"))   # never werkzeug's English name
    return render_template("error.html", code=code, title=title, text=text), code


# HTTP status -> the error page's heading and sentence (dashboard/texts/page.py)
ERROR_TEXTS = {400: ("bad_request", "bad_request_text"), 404: ("not_found", "not_found_text"),
               405: ("method_not_allowed", "method_not_allowed_text"),
               413: ("too_large", "too_large_text"),
               429: ("too_many_requests", "too_many_requests_text"),
               500: ("server_error", "server_error_text"), 503: ("unavailable", "unavailable_text")}


def _database_away(exc: DatabaseUnavailable) -> Response | tuple[Any, int]:
    """A page that needs PostgreSQL while it restarts: 503, no traceback (the engine said it)."""
    return _http_error(ServiceUnavailable())


def _template_globals() -> dict[str, Any]:
    from dashboard.web.pages import fleet_led    # pages imports from this package's modules
    config, zone, lang, now = get_config(), get_zone(), g.get("lang", "id"), time.time()
    return {
        "lang": lang,
        "other_lang": "en" if lang == "id" else "id",
        "t": lambda key, **kw: i18n.translate(lang, key, **kw),
        "lang_url": _lang_url,
        "now": now,
        "when": lambda ts: i18n.when(ts, zone, now),
        "full_time": lambda ts: i18n.full_time(ts, zone),
        "meeting_time": lambda m: i18n.meeting_span(m.start, m.end, zone, now),
        "num": lambda v, digits=0: i18n.number(v, lang, digits),
        "pct": lambda v: i18n.percent(v, lang),
        "minutes": lambda s: i18n.minutes(s, lang),
        "plural": lambda key, n, **kw: i18n.plural(lang, key, n, **kw),
        "event_rows": lambda events: event_texts.rows(events, lang),
        "stage_answers": lambda events, started: event_texts.stage_answers(events, started, lang),
        "duration": lambda s: i18n.duration(s, lang),
        "present": present,
        "keys": keys,
        "header_led": fleet_led,
        "logged_in": logged_in,
        "login_enabled": bool(config.dashboard.admin_password_hash),
        "token_enabled": bool(config.dashboard.api_token),
        "csrf_token": csrf_token,
        "mqtt_connected": resources.mqtt_connected(),
        "alerts_enabled": get_alerter() is not None,
        "sop_site": config.site.id,    # the room whose siaga.toml this is: its SOP link
    }


def _lang_url(lang: str) -> str:
    """This page in ``lang``."""
    if request.endpoint is None or request.endpoint == "static":
        return url_for("pages.overview", lang=lang)
    # Query keys starting with "_" would reach url_for's own options (_method, _scheme, ...).
    query = {k: v for k, v in request.args.items() if not k.startswith("_")}
    args = {**query, **(request.view_args or {}), "lang": lang}
    return url_for(request.endpoint, **args)
