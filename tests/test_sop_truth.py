"""The SOP says only what is true of this room: who alerts IT (the [alerts] of its file, or the
central dashboard of a bridged Pi), the indicator the room really has (one LED tells the state
by rhythm, no buzzer means no buzzer column), and a minimum runtime that the page's own words for
a runtime too short never meet.

Read back as staff read it: the printed PDF (WeasyPrint, as `siaga sop` and /sop make it)
through pdftotext and pdfinfo; the page images are left in tmp_path.
"""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import pytest

from dashboard.report import sop
from dashboard.report.render import pdf
from dashboard.texts.i18n import minutes_long
from dashboard.web.present import reason_text
from edge.readiness import RoomFacts, problems
from protocol.config import load_config
from tests.sop_support import tool, write

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456789:AAFsecretTOKEN"


def printed(tmp_path: Path, config_path: Path, lang: str) -> str:
    """The SOP of ``config_path`` printed to PDF: its text, one line; it is one A4 page."""
    config = load_config(config_path)
    out = tmp_path / f"sop-{lang}.pdf"
    out.write_bytes(pdf(sop.document(config, lang, time.time())))
    info = subprocess.run([tool("pdfinfo"), str(out)], capture_output=True, text=True).stdout
    assert re.search(r"^Pages:\s+1$", info, re.M) and "(A4)" in info, info
    subprocess.run([tool("pdftoppm"), "-png", "-r", "60", str(out), str(tmp_path / f"sop-{lang}")],
                   check=True)
    text = subprocess.run([tool("pdftotext"), str(out), "-"], capture_output=True, text=True).stdout
    return " ".join(text.split())


@pytest.fixture
def no_bridge(tmp_path, monkeypatch):
    """This machine's broker bridges to no central one."""
    monkeypatch.setattr(sop, "BRIDGE_FILE", tmp_path / "no-bridge.conf", raising=False)


def with_lines(path: Path, section: str, *lines: str) -> Path:
    """``path`` with ``lines`` added to its ``[section]`` (made at the end when missing)."""
    text = path.read_text()
    if f"[{section}]\n" in text:
        text = text.replace(f"[{section}]\n", f"[{section}]\n" + "".join(f"{x}\n" for x in lines))
    else:
        text += f"[{section}]\n" + "".join(f"{x}\n" for x in lines)
    path.write_text(text)
    return path


# ---- 1. who alerts IT ------------------------------------------------------------------------

PROMISE = {"id": "TI diberi tahu", "en": "IT is alerted"}
NONE = {"id": "Tidak ada tujuan peringatan ([alerts] urls_file): Siaga tidak memberi tahu TI. "
              "Bila ada masalah, hubungi TI sendiri.",
        "en": "No alert target is set ([alerts] urls_file): Siaga alerts nobody. When something "
              "is wrong, call IT yourself."}


@pytest.mark.parametrize("lang", ["id", "en"])
def test_without_an_alert_target_the_sop_says_nobody_is_alerted(tmp_path, lang, no_bridge):
    """It said "IT is alerted by Siaga at a power cut ..." for a room whose siaga.toml has no
    [alerts]: nobody is paged, and staff waited for IT."""
    text = printed(tmp_path, write(tmp_path), lang)
    assert NONE[lang] in text, text
    assert PROMISE[lang] not in text and "Siaga alerts IT" not in text and "memberi tahu TI melalui" not in text


@pytest.mark.parametrize("lang", ["id", "en"])
def test_an_empty_alert_file_is_no_alert_target(tmp_path, lang, no_bridge):
    """A URL file without a URL sends nowhere (the dashboard warns so)."""
    (tmp_path / "alerts.urls").write_text("# none yet\n\n")
    config = with_lines(write(tmp_path), "alerts", 'urls_file = "alerts.urls"')
    assert NONE[lang] in printed(tmp_path, config, lang)


@pytest.mark.parametrize("lang, words", [
    ("id", "Pi ruangan ini tidak mengirim peringatan; peringatan untuk TI datang dari dasbor pusat, "
           "bila diatur di sana. Bila ada masalah, hubungi TI sendiri."),
    ("en", "This room's Pi sends no alerts; alerts to IT come from the central dashboard, if "
           "configured there. When something is wrong, call IT yourself.")])
def test_a_bridged_pi_without_alerts_promises_nothing_it_cannot_see(tmp_path, monkeypatch, lang, words):
    """A Pi bridged to a central dashboard (its [alerts] not in this file) neither promises an
    alert nor says nobody is paged: it says what is true from here."""
    from siaga.bridgecheck import BRIDGE_FILE
    bridge = tmp_path / "siaga-bridge.conf"
    bridge.write_text((ROOT / "firmware_config/mosquitto/siaga-bridge.conf").read_text())
    monkeypatch.setattr(sop, "BRIDGE_FILE", bridge, raising=False)
    text = printed(tmp_path, write(tmp_path), lang)
    assert words in text, text
    assert PROMISE[lang] not in text and NONE[lang] not in text
    monkeypatch.undo()
    assert sop.BRIDGE_FILE == BRIDGE_FILE      # the file `siaga check` reads the bridge from


ROUTE = {
    ("id", "on_battery"): "Siaga memberi tahu TI melalui Telegram dan E-Mail saat listrik padam, "
                          "penutupan, pematian PC, ruangan belum siap untuk rapat terjadwal dan UPS "
                          "tidak terbaca atau Pi ruangan tidak memberi kabar.",
    ("en", "on_battery"): "Siaga alerts IT through Telegram and E-Mail on a power cut, the wrap-up, "
                          "the shutdown, a room not ready for a booked meeting and a UPS that "
                          "cannot be read or a silent room Pi.",
    ("id", "wrapup"): "Siaga memberi tahu TI melalui Telegram dan E-Mail saat penutupan, pematian "
                      "PC dan UPS tidak terbaca atau Pi ruangan tidak memberi kabar.",
    ("en", "wrapup"): "Siaga alerts IT through Telegram and E-Mail on the wrap-up, the shutdown and "
                      "a UPS that cannot be read or a silent room Pi.",
}


@pytest.mark.parametrize("lang, min_room", list(ROUTE))
def test_the_sop_names_the_alert_route_and_only_what_is_alerted(tmp_path, lang, min_room, no_bridge):
    """With alert targets the SOP names the services (never a URL: it holds the token) and only
    the events alerts.min_room lets out: min_room "wrapup" pages no power cut."""
    (tmp_path / "alerts.urls").write_text(f"# IT\ntgram://{TOKEN}/-100123\n"
                                          "mailto://it:pw@mail.example.go.id\n"
                                          f"tgram://{TOKEN}/-100456\n")
    config = with_lines(write(tmp_path), "alerts", 'urls_file = "alerts.urls"',
                        f'min_room = "{min_room}"')
    text = printed(tmp_path, config, lang)
    assert ROUTE[lang, min_room] in text, text
    assert "AAFsecret" not in text and "-100123" not in text and "pw@" not in text


# ---- 2. the room's real indicator ------------------------------------------------------------

SINGLE = {"id": ["menyala tetap Siap", "berkedip singkat tiap 2 dtk Perlu dicek",
                 "berkedip 1 kali per detik Listrik padam: pakai baterai",
                 "berkedip 2 kali per detik Sisa daya UPS", "berkedip 5 kali per detik PC sedang dimatikan",
                 "menyala, padam sesaat tiap 2 dtk UPS tidak terbaca",
                 "Lampu (LED); ruangan ini tanpa buzzer", "lampu kembali menyala tetap",
                 "Bila tidak, lampu berkedip singkat tiap 2 dtk", "Lampu menyala tetap. Bila tidak"],
          "en": ["steady on Ready", "a short flash every 2 s Needs attention",
                 "blinking once a second Power cut: on battery",
                 "blinking 2 times a second UPS has minutes left",
                 "blinking 5 times a second Shutting the PC down",
                 "on, dark for a moment every 2 s UPS cannot be read",
                 "The light (LED); this room has no buzzer", "the light is steady on again",
                 "If not, the light shows a short flash every 2 s", "The light is steady on. If not"]}
COLOURS = {"id": r"\b(hijau|kuning|merah)\b", "en": r"\b(green|amber|red)\b"}
BUZZER = {"id": ["alarm pemadaman", "bunyi tiap 10 dtk", "bunyi cepat", "diam", "Tombol bisu"],
          "en": ["outage alarm", "a beep every 10 s", "fast beeps", "quiet", "silence button"]}


@pytest.mark.parametrize("lang", ["id", "en"])
def test_a_one_led_room_without_a_buzzer_gets_its_rhythms_and_no_buzzer(tmp_path, lang):
    """With led_kind "single" and buzzer_pin 0 the SOP listed green/amber/red and a buzzer
    column (outage alarm, beeps) the room does not have. The rhythms are the ones the Pi drives."""
    config = with_lines(write(tmp_path), "gpio", 'led_kind = "single"', "led_pins = [17]",
                        "buzzer_pin = 0", "button_pin = 0")
    text = printed(tmp_path, config, lang)
    for words in SINGLE[lang]:
        assert words in text, (words, text)
    assert not re.search(COLOURS[lang], text), re.search(COLOURS[lang], text)
    for words in BUZZER[lang]:
        assert not re.search(rf"\b{words}\b", text), words
    from edge import indicator
    from protocol import looks
    assert indicator.SINGLE_TIMES is looks.SINGLE_TIMES    # the SOP's words are the Pi's timings


@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize("button_pin", [24, 0])
def test_the_silence_button_is_mentioned_only_where_there_is_one(tmp_path, lang, button_pin):
    config = with_lines(write(tmp_path), "gpio", "buzzer_pin = 23", f"button_pin = {button_pin}")
    text = printed(tmp_path, config, lang)
    assert BUZZER[lang][0] in text          # the buzzer column: the outage alarm
    assert (BUZZER[lang][-1] in text) == bool(button_pin)
    assert re.search(COLOURS[lang], text)   # three colours on rgb


# ---- 3. a minimum runtime of an hour or more --------------------------------------------------

@pytest.mark.parametrize("lang, words", [("id", "dayanya cukup untuk paling sedikit 1 jam 1 mnt"),
                                         ("en", "with at least 1 h 1 min of runtime")])
def test_a_minimum_runtime_over_an_hour_is_never_shorter_than_the_check(tmp_path, lang, words):
    """wrap-up at 50 min 30 s + 10 min: the check wants 1 h 0 min 30 s. The SOP said "at least
    1 h" while the page said "UPS runtime 1 h only: too short" for a room at 1 h 0 min 20 s."""
    config = write(tmp_path)
    config.write_text(config.read_text().replace("wrapup_at_runtime_s = 420", "wrapup_at_runtime_s = 3030"))
    text = printed(tmp_path, config, lang)
    assert words in text, text
    short = problems(RoomFacts((), (("meeting", 100.0),), 3620.0, frozenset()), 85, 3030)
    said = reason_text(short[0], lang)          # the page, for the same room
    assert said.startswith("Daya UPS hanya 1 jam:" if lang == "id" else "UPS runtime 1 h only:"), said


MINIMUM = {"id": r"dayanya cukup untuk paling sedikit (.+?), PC menyala",
           "en": r"with at least (.+?) of runtime"}


@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize("need", [1050, 3599, 3600, 3601, 3630, 3659, 5430, 7230])
def test_no_runtime_the_page_calls_too_short_reads_as_enough_on_the_sop(tmp_path, lang, need):
    """For every runtime the check finds short, the page's words for it differ from the SOP's
    minimum; a runtime that meets the check is not called short."""
    wrapup = need - 600
    config = write(tmp_path)
    config.write_text(config.read_text().replace("wrapup_at_runtime_s = 420",
                                                 f"wrapup_at_runtime_s = {wrapup}"))
    html = sop.document(load_config(config), lang, time.time())
    printed_min = re.search(MINIMUM[lang], html)[1]
    for runtime in (need - 1, need - 0.5, need - 59, need - 61):
        found = problems(RoomFacts((), (), float(runtime), frozenset()), 0, wrapup)
        assert found, runtime
        page_min = minutes_long(float(found[0].partition(":")[2]), lang)
        assert page_min in reason_text(found[0], lang)
        assert page_min != printed_min, (runtime, page_min)
    assert not problems(RoomFacts((), (), float(need), frozenset()), 0, wrapup)
