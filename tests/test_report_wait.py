"""A report that takes long (every room of a region or the country, a year) on the real `siaga
dashboard` over real PostgreSQL: the pages IT watches keep answering while reports are made,
the report page says it is being made and shows it by itself when done, and a queue that is
full says so. A report is made slow the way a busy database makes it slow: the test holds a lock
on the events table, so the report's queries wait in PostgreSQL until it lets go.

Screenshots of the waiting page (390 and 1280 px, both languages) go to the test's temp dir."""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from typing import Iterator

import psycopg
import pytest

from dashboard.web import report_jobs
from siaga.servers import stop_process
from tests.browser_support import PHONE, _screenshot, axe_violations
from tests.report_support import one_room_dashboard
from tests.waiting import wait_until

DESK = {"width": 1280, "height": 900}
RANGE = "from=2026-11-01&to=2026-11-03"


@pytest.fixture
def dashboard(tmp_path, broker, pg_url):
    """A running dashboard on PostgreSQL holding one room (rr1 of the known-answer office)."""
    proc, url = one_room_dashboard(tmp_path, broker.port, pg_url)
    yield url, pg_url
    stop_process(proc)


@contextmanager
def events_locked(pg_url: str) -> Iterator[None]:
    """Every read of the events table waits until the block ends."""
    with psycopg.connect(pg_url) as conn:
        conn.execute("LOCK TABLE events IN ACCESS EXCLUSIVE MODE")
        yield
        conn.rollback()


def get(url: str, timeout: float = 30) -> tuple[int, str, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return answer.status, answer.read().decode(), dict(answer.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), dict(exc.headers)


def job_of(page: str) -> str:
    found = re.search(r'data-done-url="[^"]*job=([A-Za-z0-9_-]+)"', page)
    assert found, page[:2000]
    return found.group(1)


def test_reports_being_made_leave_the_pages_answering_and_arrive_when_done(dashboard):
    url, pg_url = dashboard
    # More different reports than the dashboard has page threads (8), each waiting on the database.
    queue = report_jobs.WORKERS + report_jobs.MAX_WAITING    # being made, and waiting their turn
    days = [f"from=2026-11-01&to=2026-11-{d:02d}" for d in range(3, 3 + queue + 2)]
    answers: dict[str, tuple[int, str, dict[str, str]]] = {}
    with events_locked(pg_url):
        askers = [threading.Thread(target=lambda q=q: answers.__setitem__(q, get(f"{url}/report?{q}")))
                  for q in days]
        for asker in askers:
            asker.start()
            time.sleep(0.05)    # in order: the first two are being made, the next eight wait
        # While all of them are being asked for, the room list and the overview answer.
        status, body, _ = get(f"{url}/api/sites", timeout=10)
        assert status == 200 and json.loads(body)["sites"][0]["site"] == "rr1"
        assert get(f"{url}/", timeout=10)[0] == 200
        for asker in askers:
            asker.join(60)
        statuses = [answers[q][0] for q in days]
        assert statuses == [202] * queue + [503] * 2
        assert all(answers[q][2].get("Retry-After") for q in days[-2:])
        assert "Terlalu banyak laporan" in answers[days[-1]][1]
        # The same report asked again while it is made is the same job, not one more.
        first = job_of(answers[days[0]][1])
        assert job_of(get(f"{url}/report?{days[0]}")[1]) == first
        state = json.loads(get(f"{url}/report/job/{first}")[1])
        assert state == {"done": False, "ahead": 0}
        assert json.loads(get(f"{url}/report/job/{job_of(answers[days[2]][1])}")[1])["ahead"] == 2
    # The database lets go: every waiting report is made, and its page shows it.
    for q in days[:queue]:
        job = job_of(answers[q][1])
        wait_until(lambda: json.loads(get(f"{url}/report/job/{job}")[1])["done"], 60, step=0.2,
                   what=f"the report {q} made")
        status, page, _ = get(f"{url}/report?{q}&job={job}")
        assert status == 200 and 'class="report-wait' not in page and "<article class=\"page\">" in page
    # The one shown is the one the API gives (the same numbers, asked anew).
    status, body, _ = get(f"{url}/api/report?{days[0]}")
    report = json.loads(body)
    status_page, page, _ = get(f"{url}/report?{days[0]}&job={first}")
    assert status == 200 and status_page == 200
    assert f"{report['events']} " in page and report["to"] == "2026-11-03"
    # A job nobody knows (expired, another dashboard's) is said so: the page asks for the report again.
    status, body, _ = get(f"{url}/report/job/no-such-job")
    assert status == 404 and json.loads(body)["done"] is True


def test_the_waiting_page_passes_axe_and_shows_the_report_by_itself(chromium, dashboard, tmp_path):
    url, pg_url = dashboard
    found, widths = {}, {}
    with events_locked(pg_url):
        for name, viewport in (("phone", PHONE), ("desk", DESK)):
            page = chromium.new_context(viewport=viewport, bypass_csp=True).new_page()
            for lang in ("id", "en"):
                answer = page.goto(f"{url}/report?{RANGE}&lang={lang}")
                assert answer is not None and answer.status == 202
                assert page.locator("#report-wait[role=status]").is_visible()
                widths[f"{name}-{lang}"] = page.evaluate("document.documentElement.scrollWidth")
                _screenshot(page, tmp_path / f"report-wait-{name}-{lang}.png", full_page=True)
                found.update({f"{name}-{lang}: {rule}": where for rule, where in axe_violations(page).items()})
        assert page.locator("#report-wait").inner_text().startswith("The report is being made")
    assert found == {}
    assert {k: w for k, w in widths.items() if w > (PHONE if "phone" in k else DESK)["width"]} == {}
    # The lock is gone: the last page (desk, English) fetches the report without a click.
    page.locator("article.page").wait_for(timeout=30_000)
    assert page.locator("#report-wait").count() == 0
    assert "job=" in page.url
    _screenshot(page, tmp_path / "report-done-desk-en.png")
