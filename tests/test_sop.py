"""`siaga sop`: this room's procedure on one A4 page, from its own siaga.toml, in both languages.

Read back as a user would: the PDF through pdftotext (this room's minutes and contact, the
chat text the host pastes), pdfinfo (one page), pdftoppm (the printed look; PNGs in tmp_path).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from dashboard.web.app import create_app
from dashboard.store.store import Store
from protocol.config import load_config
from tests.dashboard_support import snapshot
from tests.sop_support import CONTACT, tool, write

ROOT = Path(__file__).resolve().parent.parent
EXPECTED = {
    "id": ["Prosedur: Bappeda - Ruang Rapat 1", "Setelah 10 dtk memakai baterai",
           "Saat sisa daya UPS 7 mnt", "Saat sisa daya UPS 2 mnt 30 dtk", "20 mnt sebelum setiap rapat",
           "paling sedikit 85 % dan dayanya cukup untuk paling sedikit 17 mnt",
           "listrik di Bappeda - Ruang Rapat 1 sedang padam", CONTACT],
    "en": ["Procedure: Bappeda - Ruang Rapat 1", "After 10 s on battery", "When the UPS has 7 min left",
           "When the UPS has 2 min 30 s left", "20 min before each meeting",
           "at least 85 % with at least 17 min of runtime",
           "mains power at Bappeda - Ruang Rapat 1 is out", CONTACT],
}


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_pdf_is_one_page_with_this_rooms_minutes_and_contact(tmp_path, lang) -> None:
    config = write(tmp_path)
    out = tmp_path / f"sop-{lang}.pdf"
    done = subprocess.run([sys.executable, "-m", "edge.cli", "sop", "-c", str(config), "--lang", lang,
                           "-o", str(out)], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    info = subprocess.run([tool("pdfinfo"), str(out)], capture_output=True, text=True).stdout
    assert re.search(r"^Pages:\s+1$", info, re.M) and "(A4)" in info
    text = " ".join(subprocess.run([tool("pdftotext"), str(out), "-"], capture_output=True,
                                   text=True).stdout.split())
    for words in EXPECTED[lang]:
        assert words in text, (words, text)
    assert f"from {config}" in text or f"dari {config}" in text
    subprocess.run([tool("pdftoppm"), "-png", "-r", "60", str(out), str(tmp_path / f"sop-{lang}")],
                   check=True)
    assert (tmp_path / f"sop-{lang}-1.png").stat().st_size > 10_000


def test_the_room_page_links_its_sop_and_the_link_prints(tmp_path) -> None:
    config = load_config(write(tmp_path))
    store = Store(config.dashboard.database)
    store.put_state(snapshot("bappeda-rr1", name="Bappeda - Ruang Rapat 1"))
    store.put_state(snapshot("kominfo-utama"))
    client = create_app(config, store).test_client()
    page = client.get("/sites/bappeda-rr1?lang=en").get_data(as_text=True)
    link = re.search(r'<a href="([^"]+)">Procedure for this room \(SOP, printable\)</a>', page)
    assert link, "the room page has no SOP link"
    assert "SOP" not in client.get("/sites/kominfo-utama").get_data(as_text=True)  # not its file
    answer = client.get(link.group(1).replace("&amp;", "&"))
    assert answer.status_code == 200 and answer.data.startswith(b"%PDF")
    store.close()


def test_a_crashing_pdf_renderer_is_one_line_and_the_dashboard_serves_on(tmp_path, monkeypatch) -> None:
    """WeasyPrint's C libraries once died with signal 11 in CI: that must end its own process,
    not the dashboard IT is watching."""
    from dashboard.report import render
    segfault = [sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"]
    monkeypatch.setattr(render, "PDF_CHILD", segfault)
    config = load_config(write(tmp_path))
    store = Store(config.dashboard.database)
    store.put_state(snapshot("bappeda-rr1", name="Bappeda - Ruang Rapat 1"))
    client = create_app(config, store).test_client()
    answer = client.get("/sop?format=pdf&lang=en")
    assert answer.status_code == 503
    said = answer.get_data(as_text=True)
    assert said.count("\n") == 1 and "crashed 2 times (signal 11)" in said, said
    assert client.get("/sites/bappeda-rr1").status_code == 200
    store.close()


@pytest.mark.parametrize("lang, words", [
    ("id", "Kalender ruangan belum diatur (site.calendar), jadi Siaga tidak memeriksa apa pun"),
    ("en", "No room calendar is set (site.calendar), so Siaga checks nothing before meetings")])
def test_without_a_calendar_the_sop_promises_no_check_before_meetings(tmp_path, lang, words):
    """The SOP said "20 mnt before each meeting booked in the room's calendar Siaga checks ..."
    for a room with no calendar, where Siaga checks nothing (no booking, no check)."""
    config = write(tmp_path)
    config.write_text(config.read_text().replace('calendar = "https://kalender.example.go.id/ruang-rapat-1.ics"\n', ""))
    done = subprocess.run([sys.executable, "-m", "edge.cli", "sop", "-c", str(config), "--lang", lang,
                           "--format", "html"], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    text = " ".join(re.sub(r"<[^>]+>", " ", done.stdout).split())
    assert words in text and "sebelum setiap rapat" not in text and "before each meeting booked" not in text


@pytest.mark.parametrize("lang", ["id", "en"])
def test_a_long_room_name_and_contact_still_print_on_one_page(tmp_path, lang) -> None:
    """A 45-character name already spilled the Indonesian SOP onto a second page."""
    config = write(tmp_path)
    long_name = "Badan Perencanaan Pembangunan Daerah Provinsi Jawa Barat - Aula Utama Lantai 3"
    long_contact = ("TI Bappeda: Pak Budi Santoso, 0812-3456-7890, atau Ibu Sri Wahyuni, "
                    "0813-9876-5432 (helpdesk)")
    config.write_text(config.read_text().replace("Bappeda - Ruang Rapat 1", long_name)
                      .replace(CONTACT, long_contact))
    out = tmp_path / f"sop-{lang}.pdf"
    done = subprocess.run([sys.executable, "-m", "edge.cli", "sop", "-c", str(config), "--lang", lang,
                           "-o", str(out)], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    info = subprocess.run([tool("pdfinfo"), str(out)], capture_output=True, text=True).stdout
    assert re.search(r"^Pages:\s+1$", info, re.M), info
