"""HTTP side of the alerts: ``GET /api/alerts`` lists the outbox, ``POST /alerts/test`` sends a
test alert. Both need what commands need (dashboard/auth.py): a login, or the bearer token."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, flash, g, redirect, request, url_for

from dashboard.alerts import Alerter
from dashboard.api import REFUSALS, _int_arg, _json
from dashboard.auth import command_actor, logged_in
from dashboard.i18n import translate

bp = Blueprint("alerts", __name__)


def get_alerter() -> Alerter | None:
    """The app's alerter; None when ``alerts.urls_file`` is empty (alerts off)."""
    return current_app.extensions["siaga"].alerter


def _refusal(status: int) -> Response:
    headers = {"WWW-Authenticate": 'Bearer realm="siaga"'} if status == 401 else {}
    return _json({"error": REFUSALS[status]}, status, headers)


def _refused() -> Response | None:
    """None for an admin session or a good token (a GET needs no CSRF token), else the 401."""
    if not request.headers.get("Authorization") and logged_in():
        return None
    actor, refusal = command_actor()
    return None if actor is not None else _refusal(refusal)


@bp.get("/api/alerts")
def alerts() -> Response:
    """The outbox, newest first: ``?limit=N`` (1-1000, default 100)."""
    refusal = _refused()
    if refusal is not None:
        return refusal
    alerter = get_alerter()
    limit = _int_arg("limit", 100, 1, 1000)
    rows = alerter.db.alert_list(limit) if alerter is not None else []
    return _json({"alerts": [{"id": r[0], "site": r[1], "kind": r[2], "created": r[3],
                              "sent": r[6], "tries": r[7], "last_error": r[8]} for r in rows],
                  "enabled": alerter is not None})


@bp.post("/alerts/test")
def send_test() -> Response:
    """Queue a test alert: 202 {"id": ...}; from the page's form, back to the overview."""
    actor, refusal = command_actor()
    if actor is None:
        return _refusal(refusal)
    alerter = get_alerter()
    alert_id = alerter.queue_test(actor) if alerter is not None else None
    if request.form.get("from_page"):
        flash(translate(g.lang, "alert_test_queued" if alert_id else "alerts_off"))
        return redirect(url_for("pages.overview"), 303)
    if alert_id is None:
        return _json({"error": "alerts are off: set alerts.urls_file"}, 409)
    return _json({"id": alert_id}, 202)
