"""Journal events as sentences: every kind in both languages, agents' answers in words, failures
marked, plural forms, one rounding of minutes, and what became of a command sent from the page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dashboard.texts import events, i18n
from dashboard.web import present
from protocol.messages import EventKind, JournalEvent
from tests.dashboard_support import SAMPLE_DETAIL as SAMPLE

T0 = 1764270000.0
FIELDS = {f for kind in EventKind for f in kind.fields}


def event(what: str, seq: int = 1, **detail) -> JournalEvent:
    return JournalEvent(site="rr1", seq=seq, ts=T0 + seq, kind=what, detail=detail)


def full(kind: EventKind, seq: int = 1) -> JournalEvent:
    return event(kind.value, seq, **{f: SAMPLE[f] for f in kind.fields})


def dumps_a_key(text: str) -> str | None:
    """The first detail key name the text shows ("charge_pct: 92" or a bare "runtime_s")."""
    for field in FIELDS:
        # "UPS meeting:" names the sample UPS, not the key "meeting" (of not_ready, booking)
        if re.search(rf"(?<![\w-])(?<!UPS ){field}\s*[:=]", text) or ("_" in field and field in text):
            return field
    return None


@pytest.mark.parametrize("kind", list(EventKind), ids=lambda k: k.value)
def test_every_event_kind_is_a_sentence_in_both_languages(kind):
    english, indonesian = (events.sentence(full(kind), lang) for lang in ("en", "id"))
    assert english != indonesian
    for text in (english, indonesian):
        assert not re.search(r"\b[a-z]+_[a-z_]+\b", text) and "{" not in text, text   # no snake_case name
        assert dumps_a_key(text) is None, text
        assert text[0].isupper() or text[0].isdigit() or text.startswith("meeting-pc"), text


def test_the_values_are_in_the_sentence():
    lost = event("power_lost", runtime_s=540, charge_pct=92.0, load_pct=38.0, ups=["meeting"])
    assert events.sentence(lost, "id") == "Listrik PLN padam. Sisa daya UPS 9 mnt, muatan 92 %, beban 38 %."
    assert events.sentence(lost, "en") == "Mains power lost. UPS runtime 9 min, charge 92 %, load 38 %."
    assert events.sentence(event("power_lost", runtime_s=60, load_pct=None), "en") == \
        "Mains power lost. UPS runtime 1 min."
    assert events.sentence(event("shutdown_sent", pcs=["a", "b"], why="low_battery"), "id") == \
        "Perintah matikan PC dikirim ke a, b: UPS melaporkan baterai lemah."
    assert events.sentence(event("power_restored", duration_s=4000), "en") == \
        "Mains power back after 1 h 6 min."


@pytest.mark.parametrize("discharges, lang, said", [
    (1, "en", "(learned from 1 cut)."), (3, "en", "(learned from 3 cuts)."),
    (1, "id", "(dipelajari dari 1 pemadaman)."), ("many", "en", "(learned from many cuts)."),
])
def test_a_measured_runtime_says_how_many_cuts_it_learned_from(discharges, lang, said):
    """The first measurement of a UPS is learned from one cut, not "1 cuts"."""
    learned = event("runtime_learned", ups="meeting", rate_pct_per_min=8.2, load_pct=35.0,
                    discharges=discharges)
    assert events.sentence(learned, lang).endswith(said)


@pytest.mark.parametrize("detail, lang, text", [
    ("nothing to cancel", "id", "tidak ada yang dibatalkan"),
    ("banner off: logged only", "en", "the banner is turned off on that PC; noted in its log"),
    ("shutdown in 30 s", "id", "mati dalam 30 dtk"),
    ("saved D:/x.mkv, 1.2 GB", "id", "rekaman tersimpan sebagai D:/x.mkv (1,2 GB)"),
    ("saved D:/Rekaman/2026-11-30 10-00-00.mkv, 1.2 GB", "en",
     "recording saved as D:/Rekaman/2026-11-30 10-00-00.mkv (1.2 GB)"),
    ("rejected: sig: missing", "en", "refused: sig: missing"),
    ("OBS is not running", "en", "\u201cOBS is not running\u201d"),
    ("", "id", "tanpa rincian"),
])
def test_agent_answers_are_words(detail, lang, text):
    assert events.ack_text(detail, lang) == text


@pytest.mark.parametrize("ack, lang, text", [
    ({"detail": "saved D:/x.mkv, 1.2 GB", "code": "saved",
      "args": {"file": "D:/x.mkv", "size_bytes": 1_234_000_000}}, "id",
     "rekaman tersimpan sebagai D:/x.mkv (1,2 GB)"),
    ({"detail": "saved D:/x.mkv", "code": "saved", "args": {"file": "D:/x.mkv", "size_bytes": None}},
     "en", "recording saved as D:/x.mkv"),
    # An Indonesian PC's OBS failure on an English page: the page's language, not the PC's.
    ({"detail": "OBS tidak berjalan: tidak ada jawaban di 127.0.0.1:4455; rekaman tidak dihentikan",
      "code": "obs_unreachable", "args": {"where": "127.0.0.1:4455"}}, "en",
     "no answer from OBS on 127.0.0.1:4455: OBS is not running or its WebSocket server is off; "
     "if OBS records, the recording was not stopped"),
    ({"detail": "shutdown in 2.5 s", "code": "shutdown_in", "args": {"seconds": 2.5}}, "id",
     "mati dalam 2,5 dtk"),
    ({"detail": "banner off: logged only", "code": "banner_off_logged", "args": {}}, "id",
     "banner dimatikan di PC itu; hanya dicatat di log"),
    # A code this dashboard does not know, or arguments that do not fill it: the agent's sentence.
    ({"detail": "something new", "code": "from_the_future", "args": {}}, "en", "\u201csomething new\u201d"),
    ({"detail": "OBS refused it", "code": "obs_refused", "args": {}}, "en", "\u201cOBS refused it\u201d"),
])
def test_an_ack_with_a_code_is_written_in_the_pages_language(ack, lang, text):
    assert events.answer(ack, lang) == text
    row = events.sentence(event("pc_ack", pc="pc1", kind="wrapup", ok=True, **ack), lang)
    assert text in row


def test_a_failure_is_marked_as_one():
    refused = event("ups_selftest", ups="meeting", ok=False, detail="ERR CMD-NOT-SUPPORTED")
    assert events.sentence(refused, "en") == "UPS meeting refused the self-test: \u201cERR CMD-NOT-SUPPORTED\u201d."
    ack = event("pc_ack", 2, pc="meeting-pc", kind="shutdown", ok=False, detail="expired")
    assert events.sentence(ack, "id") == \
        "meeting-pc tidak dapat menjalankan perintah matikan PC: perintah terlambat diterima (kedaluwarsa)."
    rows = events.rows([ack, refused, event("power_lost", 3)][::-1], "en")
    assert [r.failed for r in rows] == [False, True, True]


@pytest.mark.parametrize("code, args, lang, text", [
    ("shutdown_failed", {"command": "systemctl poweroff", "status": 1,
                         "output": "Call to PowerOff failed: Access denied"}, "id",
     "PC meeting-pc tidak mati: systemctl poweroff gagal dengan kode keluar 1: \u201cCall to "
     "PowerOff failed: Access denied\u201d. Matikan PC itu secara manual sebelum baterai UPS habis."),
    ("shutdown_failed", {"command": "shutdown /s /t 0", "status": 1190, "output": ""}, "en",
     "PC meeting-pc did not shut down: shutdown /s /t 0 failed with exit status 1190. Shut it "
     "down by hand before the UPS battery runs out."),
    ("shutdown_timeout", {"command": "shutdown /s /t 0", "seconds": 120.0, "output": ""}, "id",
     "PC meeting-pc tidak mati: shutdown /s /t 0 tidak selesai dalam 2 mnt. Matikan PC itu "
     "secara manual sebelum baterai UPS habis."),
    ("shutdown_not_run", {"command": "matikan-ruang", "error": "No such file or directory"}, "en",
     "PC meeting-pc did not shut down: matikan-ruang cannot run: No such file or directory. Shut "
     "it down by hand before the UPS battery runs out."),
])
def test_a_shutdown_that_left_the_pc_up_says_the_pc_is_not_off(code, args, lang, text):
    """The agent's second answer to a shutdown: its command ran and the PC is still up."""
    ack = event("pc_ack", 5, pc="meeting-pc", id="x", kind="shutdown", ok=False,
                detail="did not shut down", code=code, args=args)
    assert events.sentence(ack, lang) == text
    assert events.rows([ack], lang)[0].failed


def test_a_cancel_to_a_pc_that_was_already_off_says_so():
    journal = [event("power_lost", 1), event("shutdown_sent", 2, pcs=["meeting-pc"]),
               event("pc_off", 3, pc="meeting-pc"), event("power_restored", 4, duration_s=300),
               event("cancel_sent", 5, pcs=["meeting-pc"]), event("pc_online", 6, pc="meeting-pc"),
               event("power_lost", 7), event("power_restored", 8, duration_s=10),
               event("cancel_sent", 9, pcs=["meeting-pc"])]
    rows = {r.seq: r.text for r in events.rows(journal[::-1], "en")}
    assert rows[5] == "Power back: meeting-pc had already shut down, nothing to cancel."
    assert rows[9] == "Power back: the shutdown was cancelled on meeting-pc."


def test_an_unknown_kind_is_named_not_dumped():
    assert events.sentence(event("future_kind", x_y=1), "id") == "Kejadian \u201cfuture_kind\u201d"


@pytest.mark.parametrize("n, lang, text", [(1, "en", "1 room"), (2, "en", "2 rooms"),
                                           (1, "id", "1 ruangan"), (2, "id", "2 ruangan")])
def test_plural_forms(n, lang, text):
    assert i18n.plural(lang, "summary_all", n) == text


@pytest.mark.parametrize("seconds, words", [(29, "< 1 mnt"), (30, "< 1 mnt"), (89, "1 mnt"),
                                            (119, "1 mnt"), (510, "8 mnt"), (1260, "21 mnt")])
def test_minutes_are_rounded_the_same_way_everywhere(seconds, words):
    # A runtime left is rounded down: never promise battery that is not there.
    assert i18n.minutes(seconds, "id") == words
    assert i18n.minutes_long(seconds, "id") == words
    lost = event("power_lost", runtime_s=seconds)
    assert f"Sisa daya UPS {words}" in events.sentence(lost, "id")


def test_what_became_of_a_command():
    sent = [event("power_lost", 1)]
    assert events.command_outcome("ups_selftest", "c1", sent[::-1], "en")[0] == "sent"
    received = sent + [event("command", 2, kind="ups_selftest", id="c1", by="admin")]
    assert events.command_outcome("ups_selftest", "c1", received[::-1], "en")[0] == "received"
    refused = received + [event("ups_selftest", 3, ups="meeting", ok=False, detail="not supported")]
    state, text = events.command_outcome("ups_selftest", "c1", refused[::-1], "id")
    assert state == "failed" and text == "UPS meeting menolak uji mandiri: \u201cnot supported\u201d."
    notice = [event("command", 4, kind="test_notice", id="c2", by="admin"),
              event("pc_ack", 5, pc="meeting-pc", kind="test", ok=True, detail="banner")]
    assert events.command_outcome("test_notice", "c2", notice[::-1], "en") == \
        ("done", "meeting-pc answered the test notice: banner shown on the screen.")
    silence = [event("command", 6, kind="silence", id="c3", by="admin"),
               event("silenced", 7, by="admin", room="on_battery")]
    assert events.command_outcome("silence", "c3", silence[::-1], "id") == \
        ("done", "Buzzer dibisukan dari halaman status.")


@pytest.mark.parametrize("lang, said", [
    ("en", "The room ignored the command \u201csilence the buzzer\u201d from the status page: it "
           "arrived 6 h after it was sent (was the room cut off?). Send it again if still needed."),
    ("id", "Ruangan mengabaikan perintah \u201cbisukan buzzer\u201d dari halaman status: perintah "
           "itu baru tiba 6 jam setelah dikirim (sambungan ruangan terputus?). Kirim lagi bila "
           "masih perlu.")])
def test_a_silence_the_room_refused_as_too_old_is_not_reported_done(lang, said):
    # A silence queued while the room was cut off reached it hours later: the edge refused it
    # (no `silenced` follows); the button's answer and the events table say so, marked failed.
    refused = [event("command", 8, kind="silence", id="c4", by="admin", ok=False, age_s=21600)]
    assert events.command_outcome("silence", "c4", refused, lang) == ("failed", said)
    (row,) = events.rows(refused, lang)
    assert row.failed and row.text == said


README = Path(__file__).resolve().parent.parent / "README.md"
LEGEND_ROWS = {"hijau, tetap": "ready", "kuning, tetap": "attention", "kuning, berkedip": "on_battery",
               "merah, berkedip": "wrapup", "merah, berkedip cepat": "shutdown", "merah, tetap": "fault",
               "mati": "stale"}


def test_what_to_do_uses_the_words_of_the_led_legend():
    """The page's advice per room state says what README's "Panduan singkat" table says."""
    legend = {}
    for line in README.read_text().split("## Panduan singkat")[1].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0] in LEGEND_ROWS:
            legend[LEGEND_ROWS[cells[0]]] = cells[2]
    assert set(legend) == set(LEGEND_ROWS.values())
    for room, advice in legend.items():
        assert advice.lower() in i18n.translate("id", f"do_{room}").lower(), room


def test_an_edge_started_before_its_clock_was_set_says_the_times_may_be_off():
    synced, unsynced = event("edge_started", clock_synced=True), event("edge_started", clock_synced=False)
    assert events.sentence(synced, "id") == "Siaga di Pi mulai berjalan."
    assert "jamnya disetel" in events.sentence(unsynced, "id")
    assert "clock was set" in events.sentence(unsynced, "en")


@pytest.mark.parametrize("code", ["ups_unreachable", "on_battery", "low_battery", "fsd_on_mains",
                                  "replace_battery", "overload", "self_test", "low_charge",
                                  "pc_offline", "disk_low"])
@pytest.mark.parametrize("lang", ["id", "en"])
def test_every_reason_the_core_gives_is_a_sentence(code, lang):
    text = present.reason_text(f"{code}:meeting", lang)
    assert not re.search(rf"\b{code}\b", text) and "meeting" in text, text


@pytest.mark.parametrize("why", ["runtime", "runtime_estimated", "low_battery", "fsd", "charge",
                                 "ups_unreadable"])
def test_every_why_of_a_stage_reads_as_words(why):
    for lang in ("id", "en"):
        bare = events.sentence(event("shutdown_sent", pcs=["meeting-pc"]), lang)
        text = events.sentence(event("shutdown_sent", pcs=["meeting-pc"], why=why), lang)
        assert text != bare and not re.search(r"\b[a-z]+_[a-z_]+\b", text), text


def test_a_wrapup_by_runtime_does_not_call_a_half_full_battery_empty():
    sent = event("wrapup_sent", pcs=["meeting-pc"], why="runtime", runtime_s=290, charge_pct=50.0)
    for lang in ("id", "en"):
        text = events.sentence(sent, lang).lower()
        assert "hampir habis" not in text and "nearly empty" not in text, text
    assert "4 mnt" in events.sentence(sent, "id") and "50 %" in events.sentence(sent, "id")
    assert "habis" not in i18n.translate("id", "room_wrapup")
    assert "low" not in i18n.translate("en", "room_wrapup").lower()
