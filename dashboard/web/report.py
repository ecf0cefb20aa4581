"""The needs report on the dashboard (CONTRACT §5.6): ``/report`` (a printable A4 page with a
date range form and a print button) and ``/api/report`` (the JSON of `siaga report --format json`).

Both read the dashboard's database read-only through dashboard/report/data.py, exactly as the
command does, so the page, the API and `siaga report` show the same numbers.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, g, jsonify, request, url_for

from dashboard.report import render
from dashboard.report.cli import make_report
from dashboard.report.data import ReportError
from dashboard.web.resources import get_config, get_store, get_zone

logger = logging.getLogger(__name__)

bp = Blueprint("report", __name__)


def _database() -> str:
    """The file the dashboard writes (the store's, which tests may point elsewhere)."""
    return getattr(getattr(get_store(), "db", None), "path", None) or get_config().dashboard.database


def _report() -> dict[str, Any]:
    """The report for ``?from=&to=&sites=``; ReportError on bad input."""
    args = request.args
    config = get_config()
    report, _ = make_report(config, _database(), args.get("from") or None, args.get("to") or None,
                            args.get("sites") or None)
    return report


@bp.get("/api/report")
def api_report() -> Response | tuple[Response, int]:
    """The report as JSON; 400 with {"error"} on bad input."""
    try:
        return jsonify(_report())
    except ReportError as exc:
        return jsonify({"error": str(exc)}), 400


@bp.get("/report")
def page() -> tuple[str, int]:
    """The report as a printable page, with the range form; the form and the error on bad input."""
    config = get_config()
    lang = g.get("lang", config.site.language)
    try:
        report, error = _report(), ""
    except ReportError as exc:
        report, error = None, str(exc)
    web = _form(report, lang, error)
    body = render.html(report, lang, zone=str(get_zone()), web=web,
                       per_room=bool(request.args.get("rooms")),
                       wrapup_s=config.policy.wrapup_at_runtime_s)
    return body, 400 if error else 200


def _form(report: dict[str, Any] | None, lang: str, error: str) -> dict[str, Any]:
    args: dict[str, Any] = {k: v for k, v in request.args.items() if k in ("from", "to", "sites", "rooms")}
    other = "en" if lang == "id" else "id"
    return {"css_url": url_for("static", filename="report.css"),
            "js_url": url_for("static", filename="report.js"),
            "action": url_for("report.page"), "home": url_for("pages.overview"),
            "from": report["from"] if report else args.get("from", ""),
            "to": report["to"] if report else args.get("to", ""),
            "sites": args.get("sites", ""), "rooms": bool(args.get("rooms")), "error": error,
            "json_url": url_for("report.api_report", **{k: v for k, v in args.items() if k != "rooms"}),
            "other_lang_url": url_for("report.page", **args, lang=other),
            "other_lang_name": "English" if other == "en" else "Bahasa Indonesia"}
