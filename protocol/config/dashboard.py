"""[dashboard] and [alerts] of siaga.toml: the sections only `siaga dashboard` (and check) use."""

from __future__ import annotations

import dataclasses
import re
import socket
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from .declare import (DAY_S, ID_PATTERN, MEMBER_PATTERN, derived, key, section, sites_filter,
                      table, web_url)
from .reader import Reader, key_name, show_value

POSTGRES_SCHEMES = ("postgresql", "postgres")


def database_location(v: Any) -> str | None:
    """An SQLite file path or a ``postgresql://`` URL (its host, user and database are checked
    when the dashboard connects)."""
    wrong = 'must be a file path or a URL such as "postgresql://siaga@db.example.go.id/siaga"'
    if not isinstance(v, str) or not v.strip():
        return wrong
    scheme, sep, rest = v.partition("://")
    if not sep:
        return None                      # a file
    if scheme.lower() not in POSTGRES_SCHEMES or not rest.strip("/"):
        return wrong
    try:
        parts = urllib.parse.urlsplit(v)  # raises on "[::1" (a bracket not closed)
        parts.port                       # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return wrong
    if not parts.hostname and "host=" not in parts.query:
        return wrong
    return None


def is_postgres(location: str) -> bool:
    """True when ``dashboard.database`` names a PostgreSQL server."""
    return location.partition("://")[0].lower() in POSTGRES_SCHEMES and "://" in location


def listen_parts(listen: str) -> tuple[str, int]:
    """(host, port) of a ``dashboard.listen`` "HOST:PORT" (or "[::1]:8080"); ValueError when it
    is not one."""
    host, _, port = listen.rpartition(":")
    host = host.strip("[]")
    # [0-9], not isdigit(): "²".isdigit() is True and int("²") raises
    if not host or any(c.isspace() for c in host) or not re.fullmatch(r"[0-9]{1,5}", port) \
            or not 0 < int(port) < 65536:
        raise ValueError(f"not HOST:PORT: {listen!r}")
    return host, int(port)


def listen_address(v: Any) -> str | None:
    """HOST:PORT, the form of ``dashboard.listen`` (whether the host resolves is not known here)."""
    try:
        listen_parts(v)
        return None
    except (TypeError, AttributeError, ValueError):
        return 'must be HOST:PORT such as "127.0.0.1:8080"'


def cannot_listen(listen: str) -> str | None:
    """Why the dashboard could not listen on a well-formed ``listen`` (its host does not resolve),
    or None: resolved as waitress does, nothing bound. Used by `siaga dashboard` and `siaga check`."""
    host, port = listen_parts(listen)
    try:
        socket.getaddrinfo(None if host == "*" else host, port, type=socket.SOCK_STREAM,
                           flags=socket.AI_PASSIVE)
    except (OSError, ValueError) as exc:    # gaierror; UnicodeError from a name idna refuses
        return getattr(exc, "strerror", None) or str(exc)
    return None


ROOM_STATES = ("attention", "on_battery", "wrapup", "shutdown", "fault")


@section("dashboard")
@dataclass(frozen=True)
class DashboardConfig:
    """[dashboard]"""

    listen: str = key("127.0.0.1:8080", "Where the status page listens (address:port).",
                      check=listen_address, note='127.0.0.1 = only on the Pi itself; "0.0.0.0:8080" = the whole office '
                      "LAN can open http://<pi-address>:8080/.")
    database: str = key("/var/lib/siaga/dashboard.sqlite3", "The dashboard's own database: an "
                        'SQLite file, or a PostgreSQL URL ("postgresql://user@host/siaga") shared '
                        "by several dashboards.", check=database_location,
                        note="PostgreSQL: the national view, docs/fleet.md (CONTRACT §6.5).")
    sites: str | tuple[str, ...] = key("+", 'The rooms shown: "+" = every site seen on the '
                                       'broker, or a list of site ids.', check=sites_filter)
    admin_password_hash: str = key("", 'Login for the command buttons: the output of `siaga '
                                   'passwd`. "" = no login form, no buttons.',
                                   note="The buttons: silence, test banner, UPS self-test.")
    api_token_file: str = key("", 'File holding a bearer token for scripts. "" = none.',
                              note="For POST /api/sites/<site>/commands/<kind>.")
    api_token: str = derived()
    stale_after_s: float = key(90, "A site with no state for this many seconds is shown as "
                               "stale.", low=10, high=DAY_S)
    behind_proxy: bool = key(False, "true = served through an HTTPS reverse proxy: believe its "
                             "X-Forwarded-Proto/-For/-Host.",
                             note="Caddy, nginx; docs/security.md. Keep listen on 127.0.0.1 then.")
    public_url: str = key("", 'How people reach this dashboard (e.g. "http://pi.local:8080"): '
                          'alerts link to {public_url}/sites/<site>. "" = no link.', check=web_url)
    # name -> site ids or "prefix*" (CONTRACT §5.6), read-only; the overview and the report use it
    groups: Mapping[str, tuple[str, ...]] = key(
        doc='Groups of rooms for the overview and the needs report: name -> site ids or id '
        'prefixes ending in "*".', check=table, factory=lambda: MappingProxyType({}),
        note="The overview counts the rooms per state per group and filters by group; "
        "/groups/<name> is one group's overview; `siaga report --sites kominfo` reports a group. "
        "Names: lower-case letters, digits, dashes.")


@section("alerts")
@dataclass(frozen=True)
class AlertsConfig:
    """[alerts] (CONTRACT §5.5): what the dashboard tells IT, and where (Apprise URLs)."""

    urls_file: str = key("", 'File of Apprise URLs, one a line, relative to this file. "" = no '
                         "alerts.", note="tgram://BOT_TOKEN/CHAT_ID, "
                         "mailto://user:pass@mail.example.go.id, ntfy://..., json://... Lines "
                         "starting with # are skipped. Keep it readable only by the siaga user: "
                         "URLs hold tokens.")
    language: str = key("id", 'Language of the alerts: "id" (Bahasa Indonesia) or "en".',
                        choices=("id", "en"))
    min_room: str = key("on_battery", "The mildest room state that alerts.", choices=ROOM_STATES,
                        note='"on_battery" = power cuts and worse (wrap-up, shutdown, PC off, UPS '
                        'unreadable, room silent, room never reported); "attention" adds IT '
                        'chores (battery to replace); "wrapup", "shutdown" or "fault" = fewer '
                        'alerts. "Power restored" follows any outage that alerted.')
    quiet_repeat_s: float = key(3600, "An IT chore for the same room alerts at most once in this "
                                "many seconds.", note="IT chores: UPS unreadable, battery, room "
                                "silent, room never reported. An outage's alerts (lost, wrap-up, "
                                "shutdown, PC off, restored) are never held.", high=7 * DAY_S)
    # the longest wait between two tries of an unsent alert
    retry_max_s: float = key(300, "An unsent alert is retried after 1, 2, 4, ... s, at most this "
                             "long apart.", low=1, high=86400)
    inbox_url: str = key("", "A web page where the alerts can be read (a team chat's page, `siaga "
                         'demo`\'s receiver): the room page links to it. "" = no link.',
                         check=web_url)


def group_problem(name: str, members: Any) -> str | None:
    """What is wrong with one entry of dashboard.groups, or None."""
    if not ID_PATTERN.fullmatch(name):
        return "a group name must match [a-z0-9][a-z0-9-]{0,62} (lower-case letters, digits, dashes)"
    if not isinstance(members, list) or not members:
        return 'must be a non-empty list of site ids or id prefixes ending in "*"'
    bad = next((m for m in members if not isinstance(m, str) or not MEMBER_PATTERN.fullmatch(m)), None)
    if bad is not None:
        return f'{show_value(bad)} is neither a site id nor an id prefix ending in "*" ("kominfo-*")'
    return None


def read_dashboard(r: Reader, read_files: bool = True) -> DashboardConfig:
    """[dashboard] with its token read and dashboard.groups checked, one error per bad group."""
    dash = r.section(DashboardConfig)
    if read_files:
        dash = dataclasses.replace(dash, api_token=r.secret("dashboard.api_token_file",
                                                            dash.api_token_file))
    good = {}
    for name, members in dict(dash.groups).items():
        problem = group_problem(name, members)
        if problem:
            r.error(key_name("dashboard.groups", name), problem, show=False)
        else:
            good[name] = tuple(members)
    return dataclasses.replace(dash, groups=MappingProxyType(good))
