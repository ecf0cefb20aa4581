"""One accessor per resource of the running app (flaskr's ``get_db()``): views never reach into
``current_app.extensions`` themselves."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app

if TYPE_CHECKING:
    from dashboard.web.app import Siaga
    from dashboard.store.feed import Feed
    from dashboard.web.overview import Groups
    from dashboard.store.store import Store

KEY = "siaga"          # create_app keeps its Siaga under this name


def get_siaga() -> "Siaga":
    """Everything create_app made for this app."""
    return current_app.extensions[KEY]


def get_store() -> "Store":
    """The app's store of states, events and history."""
    return get_siaga().store


def get_feed() -> "Feed | None":
    """The MQTT feed; None in tests that run without a broker."""
    return get_siaga().feed


def mqtt_connected() -> bool:
    """True while the feed is connected to the broker."""
    feed = get_feed()
    return feed is not None and feed.connected


def get_groups() -> "Groups":
    """``dashboard.groups``, with each site's groups remembered."""
    return get_siaga().groups
