"""The JSON API, CSV export, health check and metrics of CONTRACT §4, plus /api/changes.

Read-only endpoints need no login; commands need a login session with its CSRF token or a bearer
token (dashboard/web/auth.py).
"""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any, Iterator, TypeVar

from flask import Blueprint, Response, abort, flash, g, redirect, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from dashboard.store.history import RANGES
from dashboard.texts.events import command_outcome as command_result
from dashboard.texts.i18n import iso_time, translate
from dashboard.web.auth import command_actor
from dashboard.web.metrics import CONTENT_TYPE
from dashboard.web.overview import members
from dashboard.web.resources import (get_cache, get_feed, get_groups, get_metrics, get_store,
                                     get_zone, mqtt_connected)
from protocol.config import ID_PATTERN
from protocol.messages import USER_COMMAND_KINDS, to_dict

bp = Blueprint("api", __name__)

MAX_EVENTS = 500
Default = TypeVar("Default", bound=int | None)   # _int_arg's answer when the argument is absent
OUTCOME_EVENTS = 200        # a command's outcome is looked for among the room's newest events
COMMAND_ID = re.compile(r"[0-9a-f]{1,64}")
REFUSALS = {
    401: "log in, or send Authorization: Bearer with the token of dashboard.api_token_file",
    403: "the CSRF token is missing or wrong: reload the page",
    429: "too many failed attempts: try again later",
}


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """Compact JSON; faster than jsonify for the big /api/sites answer (no key sorting)."""
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return Response(body, status, headers, mimetype="application/json")


def _known_site(site: str) -> str:
    if not ID_PATTERN.fullmatch(site) or not get_store().has_site(site):
        abort(404, description="unknown site")
    return site


def _int_arg(name: str, default: Default, low: int, high: int) -> int | Default:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    digits = raw.removeprefix("-")
    value = int(raw) if digits.isascii() and digits.isdigit() and len(digits) <= 20 else None
    if value is None or not low <= value <= high:
        abort(400, description=f"{name} must be a whole number from {low} to {high}")
    return value


@bp.get("/healthz")
def healthz() -> Response:
    """200 while the broker is connected, else 503."""
    up = mqtt_connected()
    return _json({"ok": up, "mqtt": "connected" if up else "disconnected"}, 200 if up else 503)


@bp.get("/api/sites")
def sites() -> Response:
    """Every site's latest state, each with ``stale``; ``?group=`` only one group's sites."""
    group = request.args.get("group", "")
    if group and group not in get_groups():
        abort(404, description="unknown group")
    return Response(_sites_body(group), mimetype="application/json")


def _sites_body(group: str) -> bytes:
    """The body of /api/sites (of one group), made again only after a state, event or stale
    flag came in."""
    cache, store = get_cache(), get_store()
    store.sweep()
    key = (store.freshness, group)   # read before the entries: a change meanwhile is made again
    cached = cache.sites_body
    if cached is not None and cached[0] == key:
        return cached[1]
    if group:   # the group's members, found again only when a site came or went
        entries = members(store, cache, get_groups(), group)
    else:
        entries = store.entries()
    body = b'{"sites":[' + b",".join(entry.api_bytes() for entry in entries) + b"]}"
    cache.sites_body = (key, body)
    return body


@bp.get("/api/sites/<site>")
def site(site: str) -> Response:
    """One site's state and its newest events."""
    entry = get_store().entry(site) if ID_PATTERN.fullmatch(site) else None
    if entry is None:
        abort(404, description="unknown site")
    events = [to_dict(e) for e in get_store().events(site, 50)]
    return _json({"state": entry.api(), "events": events})


@bp.get("/api/sites/<site>/events")
def events(site: str) -> Response:
    """Events, newest first: ``?limit=N`` (1-500, default 50) ``&before=SEQ``."""
    _known_site(site)
    limit = _int_arg("limit", 50, 1, MAX_EVENTS)
    before = _int_arg("before", None, 0, 2**63 - 1)
    return _json({"events": [to_dict(e) for e in get_store().events(site, limit, before)]})


@bp.get("/api/sites/<site>/history")
def history(site: str) -> Response:
    """Min, max and last per bucket of charge, runtime, load and voltage: ``?range=6h|24h|7d|30d``."""
    _known_site(site)
    range_name = request.args.get("range", "24h")
    if range_name not in RANGES:
        abort(400, description=f"range must be one of {', '.join(RANGES)}")
    return _json(get_store().history(site, range_name))


@bp.get("/api/sites/<site>/events.csv")
def events_csv(site: str) -> Response:
    """Every stored event as CSV: seq,ts,iso_time,kind,detail."""
    _known_site(site)
    store, zone = get_store(), get_zone()

    def rows() -> Iterator[str]:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["seq", "ts", "iso_time", "kind", "detail"])
        for n, e in enumerate(store.iter_events(site), 1):
            detail = json.dumps(e.detail, ensure_ascii=False, separators=(",", ":"))
            writer.writerow([e.seq, e.ts, iso_time(e.ts, zone), _cell(e.kind), detail])
            if n % 200 == 0:
                yield out.getvalue()
                out.seek(0)
                out.truncate()
        yield out.getvalue()

    headers = {"Content-Disposition": f'attachment; filename="siaga-{site}-events.csv"'}
    return Response(rows(), mimetype="text/csv", headers=headers)


def _cell(text: str) -> str:
    """A text cell a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.get("/api/changes")
def changes() -> Response:
    """What changed after version ``since``: the pages poll this to update themselves."""
    since = _int_arg("since", 0, 0, 2**63 - 1)
    only = request.args.get("site")
    version, changed, reload = get_store().changes(since, only)
    return _json({"version": version, "sites": changed, "reload": reload,
                  "mqtt": "connected" if mqtt_connected() else "disconnected"})


@bp.post("/api/sites/<site>/commands/<kind>")
def command(site: str, kind: str) -> BaseResponse:
    """Send an edge command: 202 {"id": ...}; 401 without a login or token."""
    actor, refusal = command_actor()
    if actor is None:
        headers = {"WWW-Authenticate": 'Bearer realm="siaga"'} if refusal == 401 else {}
        return _json({"error": REFUSALS[refusal]}, refusal, headers)
    if kind not in USER_COMMAND_KINDS:
        abort(404, description=f"unknown command; use one of {', '.join(USER_COMMAND_KINDS)}")
    _known_site(site)
    feed = get_feed()
    command_id = feed.send_command(site, kind, actor) if feed is not None else None
    if request.form.get("from_page"):  # a plain form post (no JavaScript): back to the page
        flash(translate(g.lang, "sent" if command_id else "send_failed"))
        return redirect(url_for("pages.site", site=site), 303)
    if command_id is None:
        return _json({"error": "the MQTT broker is not reachable; the command was not sent"}, 503)
    return _json({"id": command_id}, 202)


@bp.get("/api/sites/<site>/commands/<kind>/<command_id>")
def command_outcome(site: str, kind: str, command_id: str) -> Response:
    """What became of a command sent from the page: ``{"id", "state": "sent" | "received" |
    "done" | "failed", "text"}``, the text in the page's language (``?lang=``)."""
    _known_site(site)
    if kind not in USER_COMMAND_KINDS or not COMMAND_ID.fullmatch(command_id):
        abort(404, description="unknown command")
    state, text = command_result(kind, command_id, get_store().events(site, OUTCOME_EVENTS), g.lang)
    return _json({"id": command_id, "state": state, "text": text})


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus text format."""
    return Response(get_metrics().render(), content_type=CONTENT_TYPE)
