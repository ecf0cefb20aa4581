"""The dashboard's /report page and /api/report (CONTRACT §5.6) through Flask's test client:
the same numbers as `siaga report --format json`, a range form, a print button, bad input."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import subprocess
import sys
from dataclasses import replace
from zoneinfo import ZoneInfo

import pytest

from dashboard.report.texts import battery_age
from dashboard.store.store import Store
from dashboard.web.app import create_app
from protocol.config import load_config
from protocol.messages import JournalEvent
from tests.dashboard_support import snapshot, write_config
from tests.report_support import office_events
from tests.report_support import ROOT

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
    command = subprocess.run([sys.executable, "-m", "siaga", "report", "-c", config.path,
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
    assert page.status_code == 400
    assert 'role="alert"' in text and 'name="from"' in text and 'class="page"' not in text


# The page said the command's English ("--to 2025-01-01 is before --from 2025-05-01") whatever
# its language: now its own sentence, naming its form's fields by their labels.
@pytest.mark.parametrize("query, lang, sentence", [
    ("from=2026-11-03&to=2026-11-01", "id", "“Sampai” (2026-11-01) lebih awal dari “Dari” (2026-11-03)."),
    ("from=2026-11-03&to=2026-11-01", "en", "“To” (2026-11-01) is before “From” (2026-11-03)."),
    ("from=2025-13-01", "id", "“Dari”: bukan tanggal TTTT-BB-HH: “2025-13-01”."),
    ("to=yesterday", "en", "“To”: not a date YYYY-MM-DD: “yesterday”."),
    ("from=2999-01-01", "id", "“Dari” (2999-01-01) setelah hari ini ("),
    ("sites=nosuch", "id", "“Ruang”: tidak ada ruang atau kelompok bernama “nosuch”."),
    ("sites=nosuch", "en", "“Rooms”: no room or group is called “nosuch”."),
    ("sites=,,,", "en", "“Rooms”: no room given."),
])
def test_bad_input_on_the_page_is_said_in_its_language_with_its_labels(client, query, lang, sentence):
    page = client.get(f"/report?{query}&lang={lang}")
    alert = re.search(r'role="alert"[^>]*>(.*?)</', page.get_data(as_text=True), re.S)
    assert page.status_code == 400 and alert is not None
    said = html.unescape(alert[1]).strip()
    assert said.startswith(sentence) and "--" not in said


@pytest.mark.parametrize("lang, value, sentence", [
    ("id", "1 Mar 2022", "tanggal baterai UPS dipasang, dan umurnya hari ini."),
    ("en", "1 Mar 2022", "the date the UPS battery was fitted, and its age today."),
])
def test_per_room_pdf_keeps_the_battery_date_off_its_sentence(config, tmp_path, lang, value, sentence):
    """`siaga report --format pdf --rooms` of a room whose UPS says its battery is of 1 March
    2022: in the PDF (pdftotext's word boxes) no word of the date and its age touches a word of
    the sentence beside it."""
    store = Store(config.dashboard.database)
    state = snapshot("rr1", name="Bappeda - Ruang Rapat 1", load=35.0)
    store.put_state(replace(state, ups=[replace(state.ups[0], battery_date="2022-03-01")]))
    for seq, e in enumerate(office_events()["rr1"], 1):
        store.put_event(JournalEvent(site="rr1", seq=seq, ts=e.ts, kind=e.kind, detail=e.detail))
    store.close()
    out = tmp_path / f"rooms-{lang}.pdf"
    done = subprocess.run([sys.executable, "-m", "siaga", "report", "-c", config.path, "--from",
                           "2026-11-01", "--to", "2026-11-03", "--rooms", "--format", "pdf",
                           "--lang", lang, "-o", str(out)], cwd=ROOT, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    subprocess.run(["pdftoppm", "-png", "-r", "80", str(out), str(tmp_path / f"rooms-{lang}")], check=True)
    words = _words(out)
    date = _phrase(words, value.split())                       # the date; its age is beside it
    age = [w for w in words if w[0] == date[0][0] and abs(w[2] - date[0][2]) < 40 and
           w[5] in battery_age("2022-03-01", lang, _site_today(config)).split() and w not in date]
    meaning = _phrase(words, sentence.split())
    overlaps = [(a[5], b[5]) for a in date + age for b in meaning if _touch(a, b)]
    assert not overlaps, overlaps


def _site_today(config) -> dt.date:
    """The day in the site's zone, which the report counts a battery's age to."""
    return dt.datetime.now(ZoneInfo(config.site.timezone)).date()


WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*)</word>')


def _words(pdf) -> list[tuple[int, float, float, float, float, str]]:
    """(page, xMin, yMin, xMax, yMax, text) of every word, in pdftotext's reading order."""
    xhtml = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True,
                           check=True).stdout
    words, page = [], 0
    for line in xhtml.splitlines():
        page += "<page " in line
        found = WORD.search(line)
        if found:
            words.append((page, *map(float, found.groups()[:4]), html.unescape(found.group(5))))
    return words


def _phrase(words: list, texts: list[str]) -> list:
    """The words of the first place ``texts`` occur on one page, each within 40 pt of the first
    (so words a broken layout put elsewhere in the reading order are still found)."""
    for i, first in enumerate(words):
        if first[5] != texts[0]:
            continue
        near = [w for w in words[i:] if w[0] == first[0] and abs(w[2] - first[2]) < 40]
        found, rest = [], iter(near)             # in reading order, other words between allowed
        for t in texts:
            found.append(next((w for w in rest if w[5] == t), None))
        if all(found):
            return found
    raise AssertionError(f"{' '.join(texts)!r} is not in the PDF")


def _touch(a: tuple, b: tuple) -> bool:
    """True when two word boxes on one page intersect."""
    return a[0] == b[0] and a[1] < b[3] and b[1] < a[3] and a[2] < b[4] and b[2] < a[4]
