"""The pages people read: the overview of every room (or of one group), and one page per room.

Each page also has a partial (the part that changes), which the page's script fetches when
/api/changes says something changed: live updates without a reload and without a framework.
"""

from __future__ import annotations

import datetime as dt
import functools
import time
from typing import Any

from flask import Blueprint, Response, abort, g, render_template, request, url_for
from markupsafe import Markup

from dashboard.store.entry import SiteEntry
from dashboard.store.history import RANGES
from dashboard.web import charts, overview as ov, present
from dashboard.web.resources import get_cache, get_config, get_groups, get_store, get_zone
from protocol.config import ID_PATTERN

bp = Blueprint("pages", __name__)

RECENT_EVENTS = 20
MAX_IDS = 1000


@bp.get("/")
def overview() -> str:
    """Every site, problems first; ``?q=&state=&group=&view=`` narrow it (work without JS)."""
    return _overview_page(ov.read_filters(request.args))


@bp.get("/groups/<group>")
def group(group: str) -> str:
    """The overview of one group of ``dashboard.groups``; 404 for an unknown group."""
    if group not in get_groups():
        abort(404)
    return _overview_page(ov.read_filters(request.args, group), fixed_group=True)


@bp.get("/partials/overview")
def overview_partial() -> str:
    """The counts and the rooms passing the filters; of the sites in ``?ids=a,b`` only (all
    without it): what live.js swaps in."""
    filters = ov.read_filters(request.args)
    context = _overview_context(filters, ids=request.args.get("ids"))
    return render_template("_overview_live.html", **context)


def _overview_page(filters: ov.Filters, fixed_group: bool = False) -> str:
    if filters.group and filters.group not in get_groups():
        abort(404)
    version = get_store().version  # read first: a change during rendering is fetched again
    return render_template("overview.html", **_overview_context(filters), version=version,
                           fixed_group=fixed_group)


def fleet_led() -> tuple[str, str]:
    """(colour, pattern) of the room that needs IT most, of every room: the header's dot. Each
    room's state is kept between requests and looked at again only when the room changed
    (store.changes), not every room of the country on every page of one group."""
    if "fleet_led" in g:        # the header and the live part of one page ask both
        return g.fleet_led
    store, fleet = get_store(), get_cache().fleet
    with fleet.lock:
        version, changed, reload = store.changes(fleet.version)
        if reload:
            fleet.clear()
            entries = store.entries()
        else:
            entries = store.entries_of(changed)
            for site in set(changed) - {e.site for e in entries}:   # gone
                fleet.drop(site)
        for entry in entries:
            fleet.put(entry.site, present.status(entry))
        fleet.version = version
        never = [present.NEVER_SEEN] if ov.unseen(store, get_cache(), get_groups(), "") else []
        g.fleet_led = present.worst_of([*fleet.counts, *never])
        return g.fleet_led


def _overview_context(filters: ov.Filters, ids: str | None = None) -> dict[str, Any]:
    groups, store = get_groups(), get_store()
    scope = ov.members(store, get_cache(), groups, filters.group) if filters.group else store.entries()
    unseen = ov.unseen(store, get_cache(), groups, filters.group)
    if unseen:      # rooms the config names that never reported: shown and counted too
        scope = [*scope, *unseen]
    chosen = ov.select(scope, filters)
    shown = chosen.shown
    if ids is not None:
        wanted = set(ids.split(",")[:MAX_IDS])
        shown = [e for e in shown if e.site in wanted]
    return {"items": _items(shown, filters.view), "shown": len(chosen.shown),
            "matching": chosen.matching, "scope": len(chosen.scope), "scope_entries": chosen.scope,
            "limit": ov.PAGE_ROOMS, "any_sites": bool(scope) or store.site_count > 0,
            "fleet_led": fleet_led(), "filters": filters,
            "count_rows": ov.count_rows(scope, groups, filters.group),
            "group_names": groups.names,
            "states": ov.STATES if groups.expected else ov.STATES_SEEN,
            "filter_url": lambda **change: _filter_url(filters, **change)}


def _filter_url(filters: ov.Filters, **change: str) -> str:
    """The overview with ``filters`` changed; a group's overview lives at /groups/<group>."""
    query: dict[str, Any] = filters.query(**change)   # url_for's values
    group = query.pop("group", "")
    if group:
        return url_for("pages.group", group=group, **query)
    return url_for("pages.overview", **query)


def _items(entries: list[SiteEntry], view: str) -> list[Markup]:
    """The cards' (or table rows') HTML; one is rendered again only when its site changed (or
    the day did, or its booked meeting began: "next meeting" becomes "meeting now"). At 500
    sites this turns the overview from ~80 ms of template work into string joining."""
    cards = get_cache().cards
    now = time.time()
    today = dt.datetime.fromtimestamp(now, get_zone()).date()
    template = "_row.html" if view == "table" else "_card.html"
    items = []
    for entry in entries:
        key = (entry.site, g.lang, view)
        stamp = (entry.version, entry.stale, today, _meeting_began(entry, now))
        hit = cards.get(key)
        if hit is None or hit[0] != stamp:
            hit = cards[key] = (stamp, Markup(render_template(template, entry=entry)))
        items.append(hit[1])
    return items


def _meeting_began(entry: SiteEntry, now: float) -> bool:
    """True once the room's booked meeting has started (the card's words follow the clock, the
    same test as the template's ``nm.start <= now``)."""
    meeting = entry.data.get("next_meeting")
    start = meeting.get("start") if isinstance(meeting, dict) else None
    return isinstance(start, (int, float)) and start <= now


@bp.get("/sites/<site>")
def site(site: str) -> str:
    """One room: the UPS, the PCs, the current outage, charts and events."""
    version = get_store().version
    return render_template("site.html", **_site_context(_entry(site)), version=version)


@functools.lru_cache(maxsize=4)
def _sop_pdf(html: str) -> bytes:
    """The procedure's PDF, made once per text (a language, a day): each one is a WeasyPrint
    process of a second or more, and a phone asks twice when the print button is tapped twice.
    A renderer that failed raises, which is not cached."""
    from dashboard.report.render import pdf
    return pdf(html)


@bp.get("/sop")
def sop() -> Response:
    """This room's procedure (`siaga sop`) from the dashboard's own siaga.toml: on a room's Pi,
    the room's file. ``?format=pdf`` for the printed page."""
    import time

    from dashboard.report import sop as sop_doc
    config = get_config()
    html = sop_doc.document(config, g.lang, time.time())
    if request.args.get("format") != "pdf":
        return Response(html, mimetype="text/html")
    from dashboard.report.data import ReportError
    try:
        body = _sop_pdf(html)
    except ReportError as exc:     # the renderer is missing or crashed: one line, the page lives on
        return Response(f"{exc}\n", status=503, mimetype="text/plain")
    return Response(body, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="sop-{config.site.id}.pdf"'})


@bp.get("/partials/sites/<site>")
def site_partial(site: str) -> str:
    """The changing part of a room's page."""
    return render_template("_site_live.html", **_site_context(_entry(site)))


def _entry(site: str) -> SiteEntry:
    entry = get_store().entry(site) if ID_PATTERN.fullmatch(site) else None
    if entry is None:
        abort(404)
    return entry


def _site_context(entry: SiteEntry) -> dict[str, Any]:
    zone = get_zone()
    range_name = request.args.get("range", "24h")
    if range_name not in RANGES:
        range_name = "24h"
    data = get_store().history(entry.site, range_name)
    return {
        "entry": entry,
        "state": entry.state,
        "range_name": range_name,
        "ranges": tuple(RANGES),
        "charts": [charts.build(m, data, zone, g.lang) for m in charts.METRICS],
        "events": get_store().events(entry.site, RECENT_EVENTS),
        "fleet_led": fleet_led(),
        "alerts_inbox": get_config().alerts.inbox_url,
    }
