"""`GET /openapi.json`: the OpenAPI 3 description of the dashboard's HTTP API (CONTRACT §4, §5.5,
§5.6), written by hand from the contract.

tests/test_openapi.py checks that every API route of the app is described here (so a new route
cannot go undocumented) and fuzzes the real app against it with Schemathesis.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response

from dashboard.web.overview import PAGE_ROOMS, PROBLEMS, STATES, VIEWS
from protocol.messages import USER_COMMAND_KINDS, ROOM_STATES

bp = Blueprint("openapi", __name__)

SITE_ID = r"^[a-z0-9][a-z0-9-]{0,62}$"
DAY = r"^\d{4}-\d{2}-\d{2}$"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _html(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description}


def _path(name: str, description: str, pattern: str = SITE_ID,
          example: str = "bappeda-rr1") -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": {"type": "string", "pattern": pattern}, "example": example}


SITE = _path("site", "the site id (`site.id` of its Pi)")
LANG = _query("lang", {"type": "string", "enum": ["id", "en"]}, "page language")
ERROR = _json(_ref("Error"), "what is wrong, in one sentence")
NOT_FOUND = {"404": _json(_ref("Error"), "unknown site")}
NEEDS_AUTH: list[dict[str, list[str]]] = [{"bearer": []}, {"session": [], "csrf": []}]
REFUSED = {
    "401": _json(_ref("Error"), "no login session and no (valid) bearer token"),
    "403": _json(_ref("Error"), "a login session without its CSRF token"),
    "429": _json(_ref("Error"), "too many failed attempts from this client"),
}
RANGE = {"type": "string", "enum": ["6h", "24h", "7d", "30d"]}
REPORT_QUERY = [
    _query("from", {"type": "string", "pattern": DAY}, "first day, YYYY-MM-DD (default: 90 days ago)"),
    _query("to", {"type": "string", "pattern": DAY}, "last day, YYYY-MM-DD (default: today)"),
    _query("sites", {"type": "string"}, "site ids, `prefix-*` or group names (`dashboard.groups`) "
                                       "separated by commas (default: every site)"),
]
OVERVIEW_QUERY = [
    _query("q", {"type": "string"}, "search: part of a room's name or id, any case"),
    _query("state", {"type": "string", "enum": [PROBLEMS, *STATES]},
           "only rooms in this state (`problems` = every room not ready)"),
    _query("view", {"type": "string", "enum": list(VIEWS)}, "cards (default) or one table row per room"),
    _query("all", {"type": "string", "enum": ["1"]}, f"every matching room, not only the first {PAGE_ROOMS}"),
]
NUMBER_OR_NULL = {"type": "number", "nullable": True}
METRIC = {"type": "object", "nullable": True, "properties": {
    "min": {"type": "number"}, "max": {"type": "number"}, "last": {"type": "number"}}}

SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
    "State": {
        "type": "object", "description": "the state snapshot of CONTRACT §3 (retained on P/edge/state)",
        "required": ["v", "site", "ts", "room", "since"],
        "properties": {
            "v": {"type": "integer", "enum": [1]}, "site": {"type": "string"},
            "name": {"type": "string"}, "ts": {"type": "number"}, "since": {"type": "number"},
            "room": {"type": "string", "enum": list(ROOM_STATES)},
            "reasons": {"type": "array", "items": {"type": "string"}},
            "power": {"type": "object"}, "ups": {"type": "array", "items": {"type": "object"}},
            "pcs": {"type": "array", "items": {"type": "object"}}, "indicator": {"type": "object"},
            "outage": {"type": "object", "nullable": True},
            "seq": {"type": "integer", "nullable": True,
                    "description": "the journal's last seq when the snapshot was made (§5.2)"},
            "stale": {"type": "boolean", "description": "no news from the Pi for too long"},
            "next_meeting": {
                "type": "object", "nullable": True,
                "description": "the room's running or next booked meeting (CONTRACT §6.3)",
                "properties": {"title": {"type": "string"}, "start": {"type": "number"},
                               "end": {"type": "number"}, "ready": {"type": "boolean"},
                               "problems": {"type": "array", "items": {"type": "string"}}}},
        },
    },
    "Event": {
        "type": "object", "description": "one journal event (CONTRACT §3, kinds in §3 and §5.1)",
        "required": ["v", "site", "seq", "ts", "kind", "detail"],
        "properties": {"v": {"type": "integer"}, "site": {"type": "string"},
                       "seq": {"type": "integer"}, "ts": {"type": "number"},
                       "kind": {"type": "string"}, "detail": {"type": "object"}},
    },
    "Events": {"type": "object", "required": ["events"],
               "properties": {"events": {"type": "array", "items": _ref("Event")}}},
}

PATHS: dict[str, Any] = {
    "/healthz": {"get": {"summary": "is the dashboard connected to the MQTT broker", "responses": {
        "200": _json({"type": "object", "properties": {"ok": {"type": "boolean"},
                                                        "mqtt": {"type": "string"}}}, "connected"),
        "503": _json({"type": "object"}, "the broker is unreachable")}}},
    "/": {"get": {"summary": "overview page: one card (or table row) per site, problems first; "
                             f"at most {PAGE_ROOMS} rooms unless `all=1`",
                  "parameters": [*OVERVIEW_QUERY, _query("group", {"type": "string"},
                                                          "only this group's sites"), LANG],
                  "responses": {"200": _html("the overview"), "404": _html("unknown group")}}},
    "/sites/{site}": {"get": {
        "summary": "one site: UPS values, PCs, history charts, recent events",
        "parameters": [SITE, LANG, _query("range", RANGE, "chart range")],
        "responses": {"200": _html("the site's page"), "404": _html("unknown site")}}},
    "/groups/{group}": {"get": {
        "summary": "the overview of one group of sites (`dashboard.groups`)",
        "parameters": [_path("group", "a group name", r"^[^/]{1,100}$", "bappeda"),
                       *OVERVIEW_QUERY, LANG],
        "responses": {"200": _html("the group's overview"), "404": _html("unknown group")}}},
    "/report": {"get": {"summary": "the needs report as a printable page (A4); a report not made "
                                   "within a few seconds is fetched by the page when done",
                        "parameters": [*REPORT_QUERY, LANG, _query(
                            "job", {"type": "string"}, "the report being made that this page "
                            "waits for (set by the page itself)")],
                        "responses": {"200": _html("the report"), "400": _html("bad dates"),
                                      "202": _html("the form, and that the report is being made"),
                                      "503": _html("too many reports are waiting to be made")}}},
    "/report/job/{job_id}": {"get": {
        "summary": "whether the report a /report page waits for is made (the page asks)",
        "parameters": [_path("job_id", "the report's job id, from the page", r"^[A-Za-z0-9_-]{1,64}$",
                             "q3Zk1x9VbA2m")],
        "responses": {"200": _json({"type": "object", "required": ["done", "ahead"], "properties": {
            "done": {"type": "boolean"}, "ahead": {"type": "integer"}}}, "made, or how many first"),
            "404": _json(_ref("Error"), "no such report being made (expired, or another dashboard's)")}}},
    "/sop": {"get": {
        "summary": "this room's procedure on one A4 page (`siaga sop`), from the dashboard's own "
                   "siaga.toml (CONTRACT §6.3)",
        "parameters": [_query("format", {"type": "string", "enum": ["html", "pdf"]},
                              "pdf for the printed page (default: html)"), LANG],
        "responses": {"200": {"description": "the procedure", "content": {
            "text/html": {"schema": {"type": "string"}},
            "application/pdf": {"schema": {"type": "string", "format": "binary"}}}},
            "503": {"description": "the PDF could not be made (WeasyPrint missing or crashed): "
                                   "one line saying why", "content": {
                "text/plain": {"schema": {"type": "string"}}}}}}},
    "/api/sites": {"get": {
        "summary": "every site's latest state, or one group's (`?group=`)",
        "parameters": [_query("group", {"type": "string"},
                              "only the sites of this group (`dashboard.groups`)")],
        "responses": {"200": _json(
            {"type": "object", "required": ["sites"],
             "properties": {"sites": {"type": "array", "items": _ref("State")}}}, "the sites"),
            "404": _json(_ref("Error"), "unknown group")}}},
    "/api/sites/{site}": {"get": {
        "summary": "one site's state and its newest events (up to 50)", "parameters": [SITE],
        "responses": {"200": _json({"type": "object", "required": ["state", "events"], "properties": {
            "state": _ref("State"), "events": {"type": "array", "items": _ref("Event")}}},
            "state and events"), **NOT_FOUND}}},
    "/api/sites/{site}/events": {"get": {
        "summary": "events, newest first",
        "parameters": [SITE, _query("limit", {"type": "integer", "minimum": 1, "maximum": 500},
                                    "at most this many (default 50)"),
                       _query("before", {"type": "integer", "minimum": 0},
                              "only events with a smaller seq")],
        "responses": {"200": _json(_ref("Events"), "the events"), "400": ERROR, **NOT_FOUND}}},
    "/api/sites/{site}/events.csv": {"get": {
        "summary": "every stored event as CSV: seq,ts,iso_time,kind,detail", "parameters": [SITE],
        "responses": {"200": {"description": "CSV", "content": {"text/csv": {"schema": {"type": "string"}}}},
                      **NOT_FOUND}}},
    "/api/sites/{site}/history": {"get": {
        "summary": "bucketed history of a site's power (CONTRACT §5.6)",
        "parameters": [SITE, _query("range", RANGE, "the time range (default 24h)")],
        "responses": {"200": _json({"type": "object", "required": ["range", "bucket_s", "buckets"], "properties": {
            "range": {"type": "string"}, "bucket_s": {"type": "number"},
            "buckets": {"type": "array", "items": {"type": "object", "properties": {
                "start": {"type": "number"}, "on_battery": {"type": "boolean"},
                **{m: METRIC for m in ("charge_pct", "runtime_s", "load_pct", "input_voltage")}}}}}},
            "the buckets"), "400": ERROR, **NOT_FOUND}}},
    "/api/sites/{site}/commands/{kind}": {"post": {
        "summary": "send an edge command to the site's Pi", "security": NEEDS_AUTH,
        "parameters": [SITE, {"name": "kind", "in": "path", "required": True,
                              "schema": {"type": "string", "enum": list(USER_COMMAND_KINDS)}}],
        "requestBody": {"required": False, "content": {"application/x-www-form-urlencoded": {
            "schema": {"type": "object", "properties": {
                "csrf_token": {"type": "string"},
                "from_page": {"type": "string", "description": "set by the page's form: answer "
                                                               "with a redirect to the page"}}}}}},
        "responses": {"202": _json({"type": "object", "required": ["id"],
                                    "properties": {"id": {"type": "string"}}}, "sent"),
                      "303": {"description": "sent from the page's form: back to the page"},
                      **REFUSED, **NOT_FOUND,
                      "503": _json(_ref("Error"), "the MQTT broker is not reachable")}}},
    "/api/sites/{site}/commands/{kind}/{command_id}": {"get": {
        "summary": "what became of a command sent from the page (the button shows it)",
        "parameters": [SITE, {"name": "kind", "in": "path", "required": True,
                              "schema": {"type": "string", "enum": list(USER_COMMAND_KINDS)}},
                       _path("command_id", "the id the POST answered with", r"^[0-9a-f]{1,64}$",
                             "6f1c0a"), LANG],
        "responses": {"200": _json({"type": "object", "required": ["id", "state", "text"], "properties": {
            "id": {"type": "string"},
            "state": {"type": "string", "enum": ["sent", "received", "done", "failed"]},
            "text": {"type": "string", "description": "the outcome, in the page's language"}}},
            "the command's outcome"), "404": _json(_ref("Error"), "unknown site or command")}}},
    "/api/changes": {"get": {
        "summary": "what changed after a version (the pages poll this)",
        "parameters": [_query("since", {"type": "integer", "minimum": 0}, "the version seen last"),
                       _query("site", {"type": "string"}, "only this site")],
        "responses": {"200": _json({"type": "object", "properties": {
            "version": {"type": "integer"}, "sites": {"type": "array"}, "reload": {"type": "boolean"},
            "mqtt": {"type": "string"}}}, "the changes"), "400": ERROR}}},
    "/api/alerts": {"get": {
        "summary": "the alert outbox (CONTRACT §5.5)", "security": NEEDS_AUTH,
        "responses": {"200": _json({"type": "object", "properties": {"alerts": {"type": "array", "items": {
            "type": "object", "properties": {
                "id": {"type": "integer"}, "site": {"type": "string"}, "kind": {"type": "string"},
                "created": {"type": "number"}, "sent": NUMBER_OR_NULL, "tries": {"type": "integer"},
                "last_error": {"type": "string", "nullable": True}}}}}}, "the outbox"), **REFUSED}}},
    "/api/alerts/{alert_id}": {"get": {
        "summary": "what became of one alert (the page's test button shows it)",
        "security": NEEDS_AUTH,
        "parameters": [{"name": "alert_id", "in": "path", "required": True,
                        "schema": {"type": "integer", "minimum": 1},
                        "description": "the id POST /alerts/test answered with"}, LANG],
        "responses": {"200": _json({"type": "object", "required": ["id", "state", "text"], "properties": {
            "id": {"type": "integer"}, "kind": {"type": "string"},
            "state": {"type": "string", "enum": ["pending", "retrying", "done"]},
            "text": {"type": "string", "description": "the outcome, in the page's language"},
            "sent": NUMBER_OR_NULL, "tries": {"type": "integer"},
            "last_error": {"type": "string", "nullable": True}}}, "the alert's outcome"),
                      **REFUSED, "404": _json(_ref("Error"), "no such alert in the outbox")}}},
    "/alerts/test": {"post": {
        "summary": "queue a test alert to every alert URL (CONTRACT §5.5)", "security": NEEDS_AUTH,
        "requestBody": {"required": False, "content": {"application/x-www-form-urlencoded": {
            "schema": {"type": "object", "properties": {
                "csrf_token": {"type": "string"},
                "from_page": {"type": "string", "description": "set by the page's form: answer "
                                                               "with a redirect to the overview"}}}}}},
        "responses": {"202": _json({"type": "object", "required": ["id"],
                                    "properties": {"id": {"type": "integer"}}}, "queued"),
                      "303": {"description": "sent from the page's form: back to the overview"},
                      **REFUSED, "409": _json(_ref("Error"), "alerts are off (alerts.urls_file)")}}},
    "/api/report": {"get": {
        "summary": "the needs report as JSON (`siaga report --format json`, CONTRACT §5.8)",
        "parameters": REPORT_QUERY,
        "responses": {"200": _json({"type": "object"}, "the report"), "400": ERROR,
                      "503": _json(_ref("Error"), "too many reports are waiting to be made")}}},
    "/metrics": {"get": {"summary": "Prometheus text format (`siaga_` metrics, label `site`)",
                         "responses": {"200": {"description": "metrics", "content": {
                             "text/plain": {"schema": {"type": "string"}}}}}}},
    "/openapi.json": {"get": {"summary": "this description",
                              "responses": {"200": _json({"type": "object"}, "OpenAPI 3")}}},
}

SPEC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Siaga dashboard", "version": "1.1",
             "description": "Status of the meeting rooms' power, PCs and journals (CONTRACT.md §4)."},
    "paths": PATHS,
    "components": {
        "schemas": SCHEMAS,
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer",
                       "description": "the token of `dashboard.api_token_file`"},
            "session": {"type": "apiKey", "in": "cookie", "name": "siaga_session",
                        "description": "an admin login (POST /login)"},
            "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRF-Token",
                     "description": "the login session's CSRF token"},
        },
    },
}


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3 description of this API."""
    return Response(json.dumps(SPEC), mimetype="application/json")
