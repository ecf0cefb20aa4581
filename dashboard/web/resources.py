"""One accessor per resource of the running app (flaskr's ``get_db()``): views never reach into
``current_app.extensions`` themselves, and no view holds a bag of everything.

``create_app`` puts each resource in ``app.extensions`` under its own key with ``install``; the
process that serves (dashboard/web/serve.py) starts and stops the threads with ``start_app`` and
``stop_app`` of dashboard/web/app.py.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from flask import Flask, current_app

if TYPE_CHECKING:
    from dashboard.alerts.outbox import Alerter
    from dashboard.store.feed import Feed
    from dashboard.store.store import Store
    from dashboard.web.auth import RateLimiter
    from dashboard.web.metrics import Metrics
    from dashboard.web.overview import Groups
    from dashboard.web.report_jobs import Reports
    from protocol.config import Config

PREFIX = "siaga."     # app.extensions["siaga.store"], ["siaga.config"], ...


@dataclass
class PageCache:
    """What the pages keep between requests: rendered cards and the body of /api/sites."""

    cards: dict[tuple[str, str, str], tuple[Any, Any]] = field(default_factory=dict)
    sites_body: tuple[Any, bytes] | None = None   # /api/sites, per store.freshness
    members: dict[str, tuple[int, list[str]]] = field(default_factory=dict)   # group -> (roster, ids)
    unseen: tuple[int, list[Any]] | None = None   # (roster, stand-ins of rooms never reported)
    fleet: FleetStates = field(default_factory=lambda: FleetStates())   # the header's dot


class FleetStates:
    """Each room's state (present.status) and how many rooms are in each, as of the store's
    ``version``: the worst state of the country without looking at every room on every request."""

    def __init__(self) -> None:
        self.version = -1          # never filled: the store's changes say "reload"
        self.status: dict[str, str] = {}
        self.counts: dict[str, int] = {}
        self.lock = threading.Lock()   # the pages are served from several threads

    def clear(self) -> None:
        """Forget every room."""
        self.status.clear()
        self.counts.clear()

    def put(self, site: str, status: str) -> None:
        """``site`` is now in ``status``."""
        if self.status.get(site) == status:
            return
        self.drop(site)
        self.status[site] = status
        self.counts[status] = self.counts.get(status, 0) + 1

    def drop(self, site: str) -> None:
        """``site`` is gone."""
        old = self.status.pop(site, None)
        if old is not None:
            self.counts[old] -= 1
            if not self.counts[old]:
                del self.counts[old]


def install(app: Flask, **resources: Any) -> None:
    """Keep each resource on ``app`` under its own name (used by create_app only)."""
    for name, value in resources.items():
        app.extensions[PREFIX + name] = value


def resource(app: Flask, name: str) -> Any:
    """One resource of ``app`` outside a request (start_app, stop_app, tests)."""
    return app.extensions[PREFIX + name]


def _get(name: str) -> Any:
    return current_app.extensions[PREFIX + name]


def get_config() -> "Config":
    """The dashboard's siaga.toml."""
    return _get("config")


def get_store() -> "Store":
    """The app's store of states, events and history."""
    return _get("store")


def get_feed() -> "Feed | None":
    """The MQTT feed; None in tests that run without a broker."""
    return _get("feed")


def get_alerter() -> "Alerter | None":
    """The alerts' outbox; None when ``alerts.urls_file`` is empty (alerts off)."""
    return _get("alerter")


def get_zone() -> ZoneInfo:
    """The site's time zone (``site.timezone``)."""
    return _get("zone")


def get_metrics() -> "Metrics":
    """What /metrics answers."""
    return _get("metrics")


def get_groups() -> "Groups":
    """``dashboard.groups``, with each site's groups remembered."""
    return _get("groups")


def get_limiter() -> "RateLimiter":
    """The rate limiter of failed logins and tokens."""
    return _get("limiter")


def get_cache() -> PageCache:
    """The pages' rendered cards and /api/sites body."""
    return _get("cache")


def get_reports() -> "Reports":
    """The reports being made for /report and /api/report (dashboard/web/report_jobs.py)."""
    return _get("reports")


def mqtt_connected() -> bool:
    """True while the feed is connected to the broker."""
    feed = get_feed()
    return feed is not None and feed.connected
