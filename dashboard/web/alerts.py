"""HTTP side of the alerts: ``GET /api/alerts`` lists the outbox, ``POST /alerts/test`` sends a
test alert, ``GET /api/alerts/<id>`` says what became of one (the page's test button polls it).
All need what commands need (dashboard/web/auth.py): a login, or the bearer token."""

from __future__ import annotations

from flask import Blueprint, Response, flash, g, redirect, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from dashboard.alerts.outbox import Alerter
from dashboard.alerts.texts import clock_time
from dashboard.texts.i18n import translate
from dashboard.web.api import REFUSALS, _int_arg, _json
from dashboard.web.auth import command_actor, logged_in
from dashboard.web.resources import get_alerter

bp = Blueprint("alerts", __name__)


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


@bp.get("/api/alerts/<int:alert_id>")
def alert_outcome(alert_id: int) -> Response:
    """What became of one alert: ``{"id", "kind", "state": "pending" | "retrying" | "done",
    "text", "sent", "tries", "last_error"}``, the text in the page's language (``?lang=``)."""
    refusal = _refused()
    if refusal is not None:
        return refusal
    alerter = get_alerter()
    row = alerter.db.alert_row(alert_id) if alerter is not None else None
    if alerter is None or row is None:
        text = translate(g.lang, "alert_unknown")
        return _json({"error": text, "id": alert_id, "state": "failed", "text": text}, 404)
    state, text = _outcome(row, alerter)
    return _json({"id": row[0], "kind": row[2], "state": state, "text": text, "sent": row[6],
                  "tries": row[7], "last_error": row[8]})


def _outcome(row: tuple, alerter: Alerter) -> tuple[str, str]:
    """(state, sentence) of an outbox row: delivered everywhere, still failing, or not tried."""
    if row[6] is not None:
        return "done", translate(g.lang, "alert_sent", time=clock_time(row[6], alerter.zone))
    if row[8]:
        return "retrying", translate(g.lang, "alert_retrying", error=row[8].rstrip("."))
    return "pending", translate(g.lang, "alert_pending")


@bp.post("/alerts/test")
def send_test() -> BaseResponse:
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
