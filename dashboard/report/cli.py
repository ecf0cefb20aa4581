"""`siaga report` (CONTRACT §5.8): the needs report from the dashboard's database or one journal.

Bad input (an unknown site, an empty range, --to before --from, a file that is not Siaga's) is
one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from dashboard.report import data, render
from dashboard.report.build import Policy, build
from dashboard.report.data import ReportError
from dashboard.report.facts import window
from protocol.config import Config, load_config
from protocol.config.dashboard import is_postgres

DEFAULT_DAYS = 90


def parse_range(first: str | None, last: str | None, today: dt.date) -> tuple[dt.date, dt.date]:
    """The days of --from/--to; the last 90 days by default."""
    end = _date("--to", last) if last else today
    # The 90 days up to --to; all days there are when --to is in the calendar's first 90.
    start = _date("--from", first) if first else \
        dt.date.fromordinal(max(1, end.toordinal() - (DEFAULT_DAYS - 1)))
    if start > today:   # before the --to check: without --to, "--to <today>" was never typed
        raise ReportError(f"empty range: --from {start} is after today ({today})",
                          "from_after_today", first=str(start), today=str(today))
    if end < start:
        raise ReportError(f"--to {end} is before --from {start}", "to_before_from",
                          first=str(start), last=str(end))
    return start, end


def _date(option: str, value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ReportError(f"{option}: not a date YYYY-MM-DD: {value!r}", "not_a_date",
                          field=option.removeprefix("--"), value=value) from None


def make_report(config: Config, path: str, first: str | None, last: str | None,
                sites: str | None, now: float | None = None) -> tuple[dict[str, Any], ZoneInfo]:
    """Read ``path`` (database or journal) and build the report; ReportError on bad input."""
    zone = ZoneInfo(config.site.timezone)   # checked when the config was loaded
    now = time.time() if now is None else now
    start, end = parse_range(first, last, dt.datetime.fromtimestamp(now, zone).date())
    win = window(start, end, zone, now)
    if is_postgres(path):
        return _from_postgres(config, path, sites, win, zone), zone
    conn = data.open_readonly(path)
    try:
        chosen = data.choose_sites(data.site_ids(conn), sites, getattr(config.dashboard, "groups", None))
        policy = Policy(config.policy.wrapup_at_runtime_s, config.policy.disk_low_gb)
        return build(data.site_inputs(conn, chosen, win), win, zone, policy), zone
    except sqlite3.Error as exc:
        raise ReportError(f"{path}: cannot read: {exc}") from None
    finally:
        conn.close()


def _from_postgres(config: Config, url: str, sites: str | None, win: Any, zone: ZoneInfo) -> dict[str, Any]:
    """The report from the dashboards' PostgreSQL (dashboard/report/pgdata.py)."""
    import psycopg

    from dashboard.report import pgdata
    from dashboard.store.engine import reason, shown
    conn = pgdata.open_readonly(url)
    try:
        chosen = data.choose_sites(pgdata.site_ids(conn), sites, getattr(config.dashboard, "groups", None))
        policy = Policy(config.policy.wrapup_at_runtime_s, config.policy.disk_low_gb)
        inputs, office = pgdata.report_inputs(conn, chosen, win)
        return build(inputs, win, zone, policy, office)
    except psycopg.Error as exc:
        raise ReportError(f"{shown(url)}: cannot read: {reason(exc, url)}") from None
    finally:
        conn.close()


def render_as(report: dict[str, Any], fmt: str, lang: str, zone: ZoneInfo, config: Config,
              per_room: bool) -> bytes:
    """The report in ``fmt`` as bytes."""
    if fmt == "json":
        return (json.dumps(report, ensure_ascii=False, indent=1) + "\n").encode()
    if fmt == "csv":
        return render.csv_text(report).encode()
    document = render.html(report, lang, zone=str(zone), per_room=per_room,
                           wrapup_s=config.policy.wrapup_at_runtime_s)
    return render.pdf(document) if fmt == "pdf" else document.encode()


def run(args: argparse.Namespace) -> int:
    """`siaga report`: exit 0 with the report written, 2 with one line on bad input."""
    # Checked whole (a typo is still an error), but the password and key files it names are not
    # opened: the report uses none of them, and a planner's copy of the config lacks them.
    config = load_config(args.config, read_files=False)
    try:
        report, zone = make_report(config, args.journal or config.dashboard.database,
                                   args.first, args.last, args.sites)
        body = render_as(report, args.format, args.lang or config.site.language, zone, config,
                         args.rooms)
    except ReportError as exc:
        print(f"siaga report: {exc}", file=sys.stderr)
        return 2
    if args.output:
        try:
            Path(args.output).write_bytes(body)
        except OSError as exc:
            print(f"siaga report: cannot write {args.output}: {exc.strerror}", file=sys.stderr)
            return 2
    else:
        sys.stdout.buffer.write(body)
        sys.stdout.flush()
    return 0
