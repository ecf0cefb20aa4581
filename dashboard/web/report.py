"""The needs report on the dashboard (CONTRACT §5.6): ``/report`` (a printable A4 page with a
date range form and a print button) and ``/api/report`` (the JSON of `siaga report --format json`).

Both read the dashboard's database read-only through dashboard/report/data.py, exactly as the
command does, so the page, the API and `siaga report` show the same numbers. The report is made
by dashboard/web/report_jobs.py, never in the thread serving the request: the page shows it when
it is made within ``PAGE_WAIT_S``, else that it is being made, and fetches it when done
(report.js, or the page's reload link without scripts); the API waits for it. Never more than
report_jobs.THREADS_WAITING of the page threads wait for reports.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import Blueprint, Response, abort, g, jsonify, request, url_for

from dashboard.report import render
from dashboard.report.cli import make_report
from dashboard.report.data import ReportError
from dashboard.report.texts import text
from dashboard.texts import i18n
from dashboard.web.report_jobs import Busy, Job
from dashboard.web.resources import get_config, get_reports, get_store, get_zone
from protocol.durations import Span, duration

logger = logging.getLogger(__name__)

bp = Blueprint("report", __name__)

PAGE_WAIT_S = 5.0    # the page shows a report made within this; else that it is being made
RETRY_S = 60         # Retry-After when too many reports wait


def _database() -> str:
    """The file the dashboard writes (the store's, which tests may point elsewhere)."""
    return getattr(getattr(get_store(), "db", None), "path", None) or get_config().dashboard.database


def _job() -> Job:
    """The job making the report for ``?from=&to=&sites=`` (the one being made, if any)."""
    args, config, database = request.args, get_config(), _database()
    first, last, sites = args.get("from") or None, args.get("to") or None, args.get("sites") or None
    key = (database, first, last, sites)
    job_id = args.get("job")
    if job_id:   # the page coming back for its report: while it is kept, never made again
        job = get_reports().find(job_id)
        if job is not None and job.key == key:
            return job
    return get_reports().ask(key, lambda: make_report(config, database, first, last, sites)[0])


def _result(job: Job, lang: str = "") -> tuple[dict[str, Any] | None, str]:
    """(the report ``job`` made, "") or (None, what is wrong with the request: in ``lang`` for
    the page, the command's English line without); 500 on a failure that is not the request's.
    (The exception is not raised again here: several requests may share it, each in its own
    thread.)"""
    if isinstance(job.error, ReportError):
        return None, _said(job.error, lang) if lang else str(job.error)
    if job.error is not None:
        logger.error("making the report failed", exc_info=job.error)
        abort(500)
    return job.result, ""


# ReportError.problem -> (the page's sentence, the form field its {label} names)
FORM_PROBLEMS = {"not_a_date": ("report_not_a_date", ""),   # the field the error names
                 "to_before_from": ("report_to_before_from", ""),
                 "from_after_today": ("report_from_after_today", "from"),
                 "unknown_site": ("report_unknown_site", "sites"),
                 "no_site": ("report_no_site", "sites")}


def _said(error: ReportError, lang: str) -> str:
    """The page's sentence for ``error``: a form field by the form's label ("Dari", "Rooms"),
    not by the command's option (--from)."""
    labels = {"from": text(lang, "from"), "to": text(lang, "to"),
              "sites": text(lang, "sites").split(" (")[0]}   # "Ruang (kosong = semua)": "Ruang"
    if error.problem not in FORM_PROBLEMS:   # the server's trouble (a database), not the form's
        return i18n.translate(lang, "report_cannot", reason=str(error))
    key, field = FORM_PROBLEMS[error.problem]
    values = dict(error.values)
    field = values.pop("field", field)
    return i18n.translate(lang, key, label=labels.get(field, ""), to=labels["to"],
                          from_=labels["from"], **values)


@bp.get("/api/report")
def api_report() -> Response | tuple[Response, int]:
    """The report as JSON; 400 with {"error"} on bad input, 503 when too many reports wait."""
    try:
        job = _job()
    except Busy:
        return _busy()
    if get_reports().wait(job, None) is None:    # enough threads wait already: keep the rest free
        return _busy()
    report, error = _result(job)
    return (jsonify({"error": error}), 400) if error else jsonify(report)


def _busy() -> tuple[Response, int]:
    response = jsonify({"error": text("en", "busy")})
    response.headers["Retry-After"] = str(RETRY_S)
    return response, 503


@bp.get("/report/job/<job_id>")
def job_state(job_id: str) -> tuple[Response, int]:
    """Whether the report the page waits for is made (report.js asks every few seconds)."""
    job = get_reports().find(job_id)
    if job is None:    # expired, or asked of another dashboard: the page asks for the report again
        return jsonify({"error": "no such report being made", "done": True}), 404
    return jsonify({"done": job.done.is_set(), "ahead": get_reports().ahead(job)}), 200


@bp.get("/report")
def page() -> tuple[str, int] | tuple[str, int, dict[str, str]]:
    """The report as a printable page, with the range form; the form and the error on bad input;
    the form and a note while the report is being made."""
    config = get_config()
    lang = g.get("lang", config.site.language)
    report, error, wait, status = None, "", None, 200
    try:
        job = _job()
    except Busy:
        error, status = text(lang, "busy"), 503
    else:
        if get_reports().wait(job, PAGE_WAIT_S):   # None (no thread to spare): not waited for
            report, error = _result(job, lang)
            status = 400 if error else 200
        else:
            wait, status = _waiting(job, lang), 202
    web = _form(report, lang, error, wait)
    body = render.html(report, lang, zone=str(get_zone()), web=web,
                       per_room=bool(request.args.get("rooms")),
                       wrapup_s=config.policy.wrapup_at_runtime_s)
    if status == 503:
        return body, status, {"Retry-After": str(RETRY_S)}
    return body, status


def _waiting(job: Job, lang: str) -> dict[str, Any]:
    """What the page says while ``job`` is being made, and where it fetches the report from."""
    now = time.time()
    ahead = get_reports().ahead(job)
    lines = [text(lang, "making", since=i18n.when(job.asked, get_zone(), now),
                  elapsed=duration(now - job.asked, lang, Span.ELAPSED))]
    if ahead:
        lines.append(text(lang, "ahead", n=ahead))
    args: dict[str, Any] = {k: v for k, v in request.args.items() if k != "job"}
    return {"lines": lines, "status_url": url_for("report.job_state", job_id=job.id),
            "done_url": url_for("report.page", **args, job=job.id)}


def _form(report: dict[str, Any] | None, lang: str, error: str,
          wait: dict[str, Any] | None = None) -> dict[str, Any]:
    args: dict[str, Any] = {k: v for k, v in request.args.items() if k in ("from", "to", "sites", "rooms")}
    other = "en" if lang == "id" else "id"
    job: dict[str, Any] = {"job": request.args["job"]} if request.args.get("job") else {}
    return {"css_url": url_for("static", filename="report.css"),
            "js_url": url_for("static", filename="report.js"),
            "action": url_for("report.page"), "home": url_for("pages.overview"),
            "from": report["from"] if report else args.get("from", ""),
            "to": report["to"] if report else args.get("to", ""),
            "sites": args.get("sites", ""), "rooms": bool(args.get("rooms")), "error": error,
            "wait": wait,
            "json_url": url_for("report.api_report", **{k: v for k, v in args.items() if k != "rooms"}),
            "other_lang_url": url_for("report.page", **args, **job, lang=other),
            "other_lang_name": "English" if other == "en" else "Bahasa Indonesia"}
