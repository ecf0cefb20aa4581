"""The next booked meeting on the room page and its card, in a real Chromium, in both languages,
on a phone (390 px) and a desktop (1280 px): what it is, when (the room's time), ready or what is
wrong and what to do. Screenshots stay in the test's temp dir (SIAGA_SHOTS=DIR keeps a copy)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from protocol.messages import NextMeeting
from siaga.servers import free_port, stop_process
from tests.dashboard_support import Client, snapshot, start_dashboard, write_config

JAKARTA = ZoneInfo("Asia/Jakarta")
# 09:00 in Jakarta two days from now: shown with its date (not today's), at any hour and TZ.
_DAY = dt.datetime.now(JAKARTA).date() + dt.timedelta(days=2)
START = dt.datetime(_DAY.year, _DAY.month, _DAY.day, 9, tzinfo=JAKARTA).timestamp()
DAY = _DAY.strftime("%d/%m")


@pytest.fixture
def dashboard(tmp_path, broker):
    port = free_port()
    config = write_config(tmp_path, mqtt_port=broker.port, listen=f"127.0.0.1:{port}")
    url = f"http://127.0.0.1:{port}"
    proc = start_dashboard(config, url, tmp_path / "dashboard.log")
    edge = Client(broker.port)
    unready = dataclasses.replace(
        snapshot("rr1", "attention", name="Ruang Rapat 1", charge=62.0,
                 reasons=["battery_low:meeting:62", "converting:meeting-pc"]),
        next_meeting=NextMeeting("Rapat koordinasi anggaran", START, START + 5400, False,
                                 ["battery_low:meeting:62", "converting:meeting-pc"]))
    ready = dataclasses.replace(snapshot("rr2", "ready", name="Ruang Rapat 2"),
                                next_meeting=NextMeeting("Rapat mingguan", START, START + 3600))
    for state in (unready, ready):
        edge.publish(f"siaga/{state.site}/edge/state", state, retain=True)
    yield url
    edge.close()
    stop_process(proc)


WORDS = {"id": ["Rapat berikutnya", "Rapat koordinasi anggaran", f"{DAY} 09:00–10:30 WIB",
                "Belum siap untuk rapat:", "baru terisi 62 %", "Tunggu konversi selesai"],
         "en": ["Next meeting", f"{DAY} 09:00–10:30 WIB", "Not ready for the meeting:",
                "charged to 62 % only", "Let the conversion finish"]}


@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize("width", [390, 1280])
def test_next_meeting_on_page_and_card(chromium, dashboard, tmp_path, lang, width) -> None:
    page = chromium.new_context(viewport={"width": width, "height": 900}).new_page()
    page.goto(f"{dashboard}/sites/rr1?lang={lang}")
    panel = page.locator("section.meeting")
    panel.wait_for()
    text = panel.inner_text()
    for word in WORDS[lang]:
        assert word in text, (word, text)
    assert "battery_low" not in text
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    _shot(page, tmp_path / f"site-{lang}-{width}.png")
    page.goto(f"{dashboard}/?lang={lang}")
    card = page.locator("#card-rr1 .card-meeting")
    card.wait_for()
    assert "Rapat koordinasi anggaran" in card.inner_text()
    assert ("Belum siap (2 masalah)" if lang == "id" else "Not ready (2 problems)") in card.inner_text()
    ready = page.locator("#card-rr2 .card-meeting").inner_text()
    assert ("Siap untuk rapat" if lang == "id" else "Ready for the meeting") in ready
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    _shot(page, tmp_path / f"overview-{lang}-{width}.png")


def _shot(page, path: Path) -> None:
    page.screenshot(path=str(path), full_page=True, animations="disabled")
    keep = os.environ.get("SIAGA_SHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, Path(keep) / path.name)


def test_the_meeting_panel_and_card_pass_axe_wcag_2_aa(chromium, dashboard) -> None:
    """axe-core (npm, `make axe`) on the page and the overview with a meeting shown."""
    from tests.browser_support import axe_violations
    page = chromium.new_context(viewport={"width": 390, "height": 900}, bypass_csp=True).new_page()
    found = {}
    for path in ("/sites/rr1", "/sites/rr2?lang=en", "/"):
        page.goto(dashboard + path)
        page.locator("main").wait_for()
        found.update({f"{path}: {rule}": where for rule, where in axe_violations(page).items()})
    assert found == {}
