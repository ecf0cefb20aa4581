"""The dashboard's /report page and /api/report (CONTRACT §5.6) through Flask's test client:
the same numbers as `siaga report --format json`, a range form, a print button, bad input."""

from __future__ import annotations

import html
import json
import subprocess
import sys

import pytest

from dashboard import create_app
from dashboard.store import Store
from edge.config import load_config
from edge.messages import JournalEvent
from tests.dashboard_support import write_config
from tests.test_report import office_events
from tests.test_report_cli import ROOT

RANGE = "from=2026-11-01&to=2026-11-03"


@pytest.fixture
def config(tmp_path):
    return load_config(write_config(tmp_path))


@pytest.fixture
def client(config):
    store = Store(config.dashboard.database)
    for site, events in office_events().items():
        for seq, e in enumerate(events, 1):
            store.put_event(JournalEvent(site=site, seq=seq, ts=e.ts, kind=e.kind, detail=e.detail))
    yield create_app(config, store).test_client()
    store.close()


def test_api_report_is_the_json_of_the_command(client, config):
    answer = client.get(f"/api/report?{RANGE}")
    assert answer.status_code == 200
    command = subprocess.run([sys.executable, "-m", "edge.cli", "report", "-c", config.path,
                              "--from", "2026-11-01", "--to", "2026-11-03", "--format", "json"],
                             cwd=ROOT, capture_output=True, check=True, timeout=60)
    assert answer.get_json() == json.loads(command.stdout)
    assert answer.get_json()["outages"]["p90_s"] == 3600.0


def test_report_page_has_the_numbers_a_range_form_and_a_print_button(client):
    page = client.get(f"/report?{RANGE}&sites=rr1,aula").get_data(as_text=True)
    assert 'name="from" value="2026-11-01"' in page and 'name="to" value="2026-11-03"' in page
    assert 'name="sites" value="rr1,aula"' in page
    assert 'id="print"' in page and "report.js" in page and "report.css" in page
    assert "<style>" not in page and "onclick" not in page          # the page's CSP allows neither
    assert "Ruang: rr1, aula" in page
    assert "2 lisensi host rapat" in page           # rr1's A and aula's D overlap at 10:45-11:00
    assert "Persentil ke-90" in page and 'data-chart="by-hour"' in page
    english = client.get(f"/report?{RANGE}&lang=en").get_data(as_text=True)
    assert "Needs report" in english and "3 meeting host licences" in english


def test_per_room_pages_when_asked(client):
    page = client.get(f"/report?{RANGE}&rooms=1").get_data(as_text=True)
    assert page.count('class="page"') == 4


@pytest.mark.parametrize("query, says", [
    ("from=2026-11-03&to=2026-11-01", "is before --from"),
    ("from=yesterday", "not a date"),
    ("sites=nope", 'unknown site'),
])
def test_bad_input_is_a_400_with_one_sentence(client, query, says):
    api = client.get(f"/api/report?{query}")
    assert api.status_code == 400 and says in api.get_json()["error"]
    page = client.get(f"/report?{query}")
    text = page.get_data(as_text=True)
    assert page.status_code == 400 and says in html.unescape(text)
    assert 'role="alert"' in text and 'name="from"' in text and 'class="page"' not in text
