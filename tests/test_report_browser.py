"""The /report page in a real browser (Debian's Chromium via Playwright) on the real
`siaga dashboard`: printed, a one-room office's report is one A4 page; the form stays off paper.

Screenshots go to the test's temp dir, and to docs/ with SIAGA_DOCS_SCREENSHOTS=1.
"""

from __future__ import annotations

import subprocess
import time

import pytest

from siaga.servers import stop_process
from tests.browser_support import DOCS, PHONE, _screenshot
from tests.report_support import one_room_dashboard


@pytest.fixture
def report_url(tmp_path, broker):
    """A running dashboard whose database holds one room (rr1 of the known-answer office)."""
    proc, url = one_room_dashboard(tmp_path, broker.port)
    yield f"{url}/report?from=2026-11-01&to=2026-11-03"
    stop_process(proc)


def test_one_room_report_prints_on_one_a4_page(chromium, report_url, tmp_path):
    page = chromium.new_context(viewport={"width": 1000, "height": 1300}).new_page()
    page.goto(report_url)
    assert page.locator("h1").inner_text().startswith("Laporan kebutuhan")
    assert page.locator("#print").is_visible()
    assert "45 mnt" in page.locator(".buy").inner_text()        # rr1 needs 2700 s + nothing else
    _screenshot(page, tmp_path / "report.png", DOCS / "report.png", full_page=True)

    page.emulate_media(media="print")
    assert not page.locator("form.report-form").is_visible()    # the form is not printed
    pdf = tmp_path / "report-chromium.pdf"
    started = time.monotonic()
    pdf.write_bytes(page.pdf(format="A4", print_background=True))
    print(f"printed in {time.monotonic() - started:.2f} s")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "Pages:           1\n" in info, info
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Bappeda - Ruang Rapat 1" in text and "45 mnt" in text


@pytest.mark.parametrize("lang", ["id", "en"])
def test_report_fits_a_phone(chromium, report_url, tmp_path, lang):
    """At 390 px the report (office and room pages) is no wider than the phone, and its
    sentences keep two words a line or more (a number column squeezed to one word per line is
    unreadable); at 1280 px it is the A4 page it always was."""
    page = chromium.new_context(viewport=PHONE).new_page()
    page.goto(f"{report_url}&rooms=1&lang={lang}")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    cells = page.evaluate(WORDS_AND_LINES)
    squeezed = [cell for cell in cells if cell[1] > 1 and cell[0] / cell[1] < 2]
    assert cells and not squeezed, squeezed
    _screenshot(page, tmp_path / f"report-phone-{lang}.png", None, full_page=True)
    wide = chromium.new_context(viewport={"width": 1280, "height": 900}).new_page()
    wide.goto(f"{report_url}&rooms=1&lang={lang}")
    assert wide.evaluate("document.documentElement.scrollWidth") <= 1280
    _screenshot(wide, tmp_path / f"report-wide-{lang}.png", None, full_page=True)


# Per meaning cell of the number tables: its words, the lines it takes, its text.
WORDS_AND_LINES = """() => [...document.querySelectorAll('.report .numbers td:nth-child(2)')].map(td => {
  const lines = Math.round(td.getBoundingClientRect().height / parseFloat(getComputedStyle(td).lineHeight));
  return [td.innerText.trim().split(/\\s+/).length, lines, td.innerText.trim()];
})"""
