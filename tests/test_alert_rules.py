"""The alert rules (dashboard/alerts/rules.py) as tables: what IT is told for each thing heard."""

from __future__ import annotations

import pytest

from zoneinfo import ZoneInfo

from dashboard.alerts.rules import (NOTIFY_TYPES, Alert, AlertKind, Rules, SiteMemory, Stale, Tick,
                                    held, react, seed, still_off)
from dashboard.alerts.texts import render
from protocol.messages import EventKind, JournalEvent, Room
from tests.dashboard_support import snapshot

T0 = 1_764_270_000.0
SITE = "bappeda-rr1"
NAME = "Bappeda - Ruang Rapat 1"


def ev(kind: str, at: float, **detail) -> JournalEvent:
    return JournalEvent(site=SITE, seq=int(at - T0) + 1, ts=at, kind=kind, detail=detail)


def state(room: str, at: float, **kw) -> object:
    return snapshot(SITE, room, now=at, name=NAME, **kw)


def run(items: list, rules: Rules = Rules(), memory=None) -> list[tuple[str, dict]]:
    """Feed (item, now) pairs through react; the alerts as (kind, detail)."""
    memory, out = memory or {}, []
    for item, now in items:
        memory, alerts = react(memory, item, now, rules)
        out += [(a.kind.value, a.detail) for a in alerts]
    return out


OUTAGE = [(state("ready", T0), T0),
          (ev("power_lost", T0 + 1, runtime_s=1500), T0 + 1),
          (ev("notice_sent", T0 + 6, runtime_s=1490), T0 + 6),
          (ev("wrapup_sent", T0 + 900, runtime_s=300), T0 + 900),
          (ev("shutdown_sent", T0 + 1080, runtime_s=120), T0 + 1080),
          (ev("pc_off", T0 + 1120, pc="meeting-pc"), T0 + 1120),
          (ev("power_restored", T0 + 1500, duration_s=1499.0), T0 + 1500)]


@pytest.mark.parametrize("items, rules, expected", [
    pytest.param(OUTAGE, Rules(), ["power_lost", "wrapup", "shutdown", "pc_off", "power_restored"],
                 id="a whole outage, in order"),
    pytest.param(OUTAGE, Rules(min_room="shutdown"), ["shutdown", "pc_off", "power_restored"],
                 id="min_room shutdown: only the end of it, and the restore"),
    pytest.param(OUTAGE[:2] + [(ev("power_restored", T0 + 3, duration_s=2.0), T0 + 3)], Rules(), [],
                 id="a flicker (restored before the notice) is silent"),
    pytest.param([(ev("shutdown_sent", T0, runtime_s=90), T0)], Rules(), ["power_lost", "shutdown"],
                 id="low battery: power lost at once with the shutdown"),
    pytest.param([(ev("notice_sent", T0), T0), (ev("notice_sent", T0 + 1), T0 + 1),
                  (ev("wrapup_sent", T0 + 2), T0 + 2)], Rules(), ["power_lost", "wrapup"],
                 id="a stage repeated by the edge alerts once"),
    pytest.param([(ev("replace_battery", T0, ups="meeting"), T0)], Rules(), [],
                 id="battery to replace is an IT chore: not by default"),
    pytest.param([(ev("replace_battery", T0, ups="meeting"), T0)], Rules(min_room="attention"),
                 ["replace_battery"], id="attention adds IT chores"),
    pytest.param([(ev("notice_sent", T0 - 86401), T0)], Rules(), [],
                 id="a day-old event (a first start on an old journal) is history, not news"),
    pytest.param([(ev("pc_online", T0, pc="x"), T0), (ev("silenced", T0, by="button"), T0)],
                 Rules(min_room="attention"), [], id="other events say nothing"),
])
def test_rules(items, rules, expected):
    assert [kind for kind, _ in run(items, rules)] == expected


@pytest.mark.parametrize("items, expected", [
    pytest.param([(ev("ups_unreachable", T0, ups="meeting"), T0), (Tick(), T0 + 59)], [],
                 id="59 s unreadable: not yet"),
    pytest.param([(ev("ups_unreachable", T0, ups="meeting"), T0), (Tick(), T0 + 60),
                  (Tick(), T0 + 61), (Tick(), T0 + 300)], [("ups_unreachable", {"ups": "meeting"})],
                 id="60 s unreadable: once"),
    pytest.param([(ev("ups_unreachable", T0, ups="meeting"), T0),
                  (ev("ups_reachable", T0 + 30, ups="meeting"), T0 + 30), (Tick(), T0 + 90)], [],
                 id="readable again within the minute: silent"),
    pytest.param([(state("fault", T0, reasons=["ups_unreachable:meeting"]), T0), (Tick(), T0 + 61)],
                 [("ups_unreachable", {"ups": "meeting"})], id="a lost event: the state's reasons"),
    pytest.param([(Stale(SITE, False), T0), (Stale(SITE, True), T0 + 100), (Tick(), T0 + 159)], [],
                 id="a site stale for 59 s: not yet"),
    pytest.param([(Stale(SITE, False), T0), (Stale(SITE, True), T0 + 100), (Tick(), T0 + 160),
                  (Tick(), T0 + 161), (Tick(), T0 + 900)], [("site_stale", {})],
                 id="a site stale for 60 s: once"),
    pytest.param([(Stale(SITE, False), T0), (Stale(SITE, True), T0 + 100), (Tick(), T0 + 101),
                  (Stale(SITE, False), T0 + 102), (Tick(), T0 + 103), (Tick(), T0 + 900)], [],
                 id="an edge restarted cleanly (offline, back in 2 s): silent"),
    pytest.param([(Stale(SITE, True), T0), (Tick(), T0 + 900)], [],
                 id="stale on first sight (after a restart): silent"),
    pytest.param([(Stale(SITE, False), T0), (ev("pi_poweroff", T0 + 10), T0 + 10),
                  (Stale(SITE, True), T0 + 100), (Tick(), T0 + 900)], [],
                 id="a Pi that powered off at the end of an outage is silent as planned"),
    pytest.param([(Stale(SITE, False), T0), (ev("pi_poweroff", T0 + 10), T0 + 10),
                  (ev("edge_started", T0 + 50), T0 + 50), (Stale(SITE, True), T0 + 100),
                  (Tick(), T0 + 900)],
                 [("site_stale", {})], id="...but once it has started again, silence is news"),
])
def test_timers_and_stale(items, expected):
    assert run(items) == expected


def test_the_room_silent_alert_says_when_the_room_fell_silent():
    memory, _ = react({}, Stale(SITE, False), T0, Rules())
    memory, _ = react(memory, Stale(SITE, True), T0 + 100, Rules())
    _, [alert] = react(memory, Tick(), T0 + 160, Rules())
    assert (alert.kind, alert.at, alert.late) == (AlertKind.SITE_STALE, T0 + 100, False)


@pytest.mark.parametrize("last, now, quiet, kind, expected", [
    (None, T0, 3600, "replace_battery", False),
    (T0 - 10, T0, 3600, "replace_battery", True),
    (T0 - 3599, T0, 3600, "ups_unreachable", True),
    (T0 - 3599, T0, 3600, "site_stale", True),
    (T0 - 3600, T0, 3600, "replace_battery", False),
    (T0 - 10, T0, 0, "replace_battery", False),
    (T0 - 10, T0, 3600, "test", False),
    # CONTRACT §5.5 v1.2: an outage's alerts are never held back by quiet_repeat_s
    *[(T0 - 10, T0, 3600, kind, False)
      for kind in ("power_lost", "wrapup", "shutdown", "pc_off", "power_restored")],
])
def test_quiet_repeat_hold(last, now, quiet, kind, expected):
    assert held(last, now, quiet, kind) is expected


def outbox(items: list, quiet_s: float = 3600.0, rules: Rules = Rules()) -> list[Alert]:
    """What reaches IT: the rules, then the outbox's repeat guard as dashboard/alerts/outbox.py applies it
    (the newest alert of the same site and kind)."""
    memory, last, out = {}, {}, []
    for item, now in items:
        memory, alerts = react(memory, item, now, rules)
        for alert in alerts:
            if not held(last.get((alert.site, alert.kind.value)), now, quiet_s, alert.kind.value):
                last[(alert.site, alert.kind.value)] = now
                out.append(alert)
    return out


def shifted(items: list, by: float, seq_from: int = 0) -> list:
    """The same items ``by`` seconds later (journal events get new seqs)."""
    moved = []
    for item, now in items:
        if isinstance(item, JournalEvent):
            item = JournalEvent(site=item.site, seq=item.seq + seq_from, ts=item.ts + by,
                                kind=item.kind, detail=item.detail)
        moved.append((item, now + by))
    return moved


FULL = ["power_lost", "wrapup", "shutdown", "pc_off", "power_restored"]


def test_a_second_cut_within_the_hour_alerts_in_full():
    second = shifted(OUTAGE[1:], 1800, seq_from=5000)       # 30 min after the first began
    sent = outbox(OUTAGE + second)
    assert [a.kind.value for a in sent] == FULL + FULL
    assert [a.at for a in sent[5:]] == [T0 + 1806, T0 + 2700, T0 + 2880, T0 + 2920, T0 + 3300]
    assert not any(a.late for a in sent)


def test_events_heard_late_are_marked_late_with_their_own_time_and_silence_nothing():
    start = T0 + 2000     # the dashboard starts 2000 s after the first cut began: all of it is old
    replay = [(item, start) for item, _ in OUTAGE]
    real = shifted(OUTAGE[1:], 2100, seq_from=5000)      # the real cut, minutes after the start
    sent = outbox(replay + real)
    assert [a.kind.value for a in sent] == FULL + FULL
    assert [(a.late, a.at) for a in sent[:5]] == [(True, T0 + 6), (True, T0 + 900), (True, T0 + 1080),
                                                  (True, T0 + 1120), (True, T0 + 1500)]
    assert not any(a.late for a in sent[5:])


@pytest.mark.parametrize("age, late", [(0, False), (180, False), (181, True), (3600, True)])
def test_lateness_is_the_age_of_the_event_when_heard(age, late):
    [alert] = outbox([(ev("shutdown_sent", T0, runtime_s=60), T0 + age)])[1:]
    assert (alert.kind, alert.late, alert.at) == (AlertKind.SHUTDOWN, late, T0)


def test_chore_alerts_are_still_held_by_quiet_repeat():
    items = [(ev("replace_battery", T0 + t, ups="meeting"), T0 + t) for t in (0, 600, 3599, 3600)]
    sent = outbox(items, rules=Rules(min_room="attention"))
    assert [a.at for a in sent] == [T0, T0 + 3600]


@pytest.mark.parametrize("between, still_off", [
    pytest.param([], ["meeting-pc"], id="pc_off and no pc_online since: the restore says so"),
    pytest.param([(ev("pc_online", T0 + 1130, pc="meeting-pc"), T0 + 1130)], [],
                 id="the PC came back: nothing to say"),
])
def test_the_restore_says_when_the_pc_is_still_off(between, still_off):
    sent = outbox(OUTAGE[:-1] + between + OUTAGE[-1:])
    restored = sent[-1]
    assert restored.kind is AlertKind.POWER_RESTORED
    assert restored.detail["pcs_off"] == still_off
    title, body = render(restored, "id")
    assert ("PC rapat meeting-pc masih mati." in body) is bool(still_off)
    assert ("Nyalakan lagi PC rapat" in body) is bool(still_off)
    assert NOTIFY_TYPES[restored.kind] == "info"


def seq(n: int, kind: str, at: float, **detail) -> tuple[JournalEvent, float]:
    """Journal event number ``n``, heard at ``at`` (a second after it happened)."""
    return JournalEvent(site=SITE, seq=n, ts=at - 1, kind=kind, detail=detail), at


FLICKER = [seq(4, "power_lost", T0 + 7200), seq(5, "power_restored", T0 + 7203, duration_s=3.0)]


@pytest.mark.parametrize("items, expected", [
    pytest.param([seq(1, "power_lost", T0), seq(3, "power_restored", T0 + 40, duration_s=40.0),
                  seq(2, "notice_sent", T0 + 80, runtime_s=1490)] + FLICKER, [],
                 id="a notice replayed after its outage's silent restore: no power cut, no restore"),
    pytest.param([seq(1, "power_lost", T0), seq(2, "notice_sent", T0 + 6, runtime_s=1490),
                  seq(4, "power_restored", T0 + 200, duration_s=199.0),
                  seq(3, "wrapup_sent", T0 + 260, runtime_s=300)] + FLICKER,
                 ["power_lost", "power_restored"],
                 id="a wrap-up replayed after its outage's restore: nothing more"),
    pytest.param([seq(1, "power_lost", T0), seq(3, "power_restored", T0 + 900, duration_s=899.0),
                  seq(2, "pc_off", T0 + 960, pc="meeting-pc")] + FLICKER, ["pc_off"],
                 id="a PC off replayed after the restore is still news, but opens no outage"),
    pytest.param([seq(2, "notice_sent", T0 + 6, runtime_s=1490), seq(1, "power_lost", T0 + 40),
                  seq(3, "wrapup_sent", T0 + 900, runtime_s=300),
                  seq(4, "power_restored", T0 + 1000, duration_s=999.0)],
                 ["power_lost", "wrapup", "power_restored"],
                 id="the outage's power_lost replayed after its notice starts no new outage"),
    pytest.param([seq(1, "power_lost", T0), seq(2, "notice_sent", T0 + 6, runtime_s=1490)] + FLICKER,
                 ["power_lost"],
                 id="a restore never heard: the next cut's power_lost closes that outage"),
])
def test_an_event_of_an_outage_already_over_pages_no_power_cut(items, expected):
    """An event lost live comes by replay, and after GAP_WAIT_S the rules went on without it: a
    notice heard after its outage's restore paged a current "power cut" while the power was back,
    no restore followed, and the outage stayed open, so a later 3 s flicker paged "Mains power is
    back after 3 s"."""
    assert [kind for kind, _ in run(items)] == expected


JAKARTA = ZoneInfo("Asia/Jakarta")
AT = 1_764_214_320.0     # 2025-11-27 03:32 UTC = 10:32 WIB


@pytest.mark.parametrize("pcs, lang, line", [
    (["pc-a"], "en", "Meeting PC pc-a is still off."),
    (["pc-a", "pc-b"], "en", "Meeting PCs pc-a, pc-b are still off."),
    (["pc-a", "pc-b"], "id", "PC rapat pc-a, pc-b masih mati."),
])
def test_the_pcs_still_off_are_named_in_a_sentence_that_fits_their_number(pcs, lang, line):
    alert = Alert(SITE, AlertKind.POWER_RESTORED, NAME, None, {"duration_s": 70.0, "pcs_off": pcs},
                  at=AT)
    title, body = render(alert, lang, JAKARTA, "http://pi.local:8080/", now=AT + 5)
    assert line in body.splitlines()


@pytest.mark.parametrize("lang, late, lines", [
    ("id", False, ["Waktu: 10:32 WIB.", "Yang perlu dilakukan TI: Periksa listrik gedung",
                   "Halaman ruangan: http://pi.local:8080/sites/bappeda-rr1"]),
    ("en", False, ["When: 10:32 WIB.", "What IT should do: Check the building's power",
                   "Room page: http://pi.local:8080/sites/bappeda-rr1"]),
    ("id", True, ["Kabar terlambat: kejadiannya pukul 10:32 WIB"]),
    ("en", True, ["Late news: this happened at 10:32 WIB"]),
])
def test_an_alert_says_when_in_local_time_what_it_does_and_links_the_room(lang, late, lines):
    alert = Alert(SITE, AlertKind.POWER_LOST, NAME, 1500.0, {}, at=AT, late=late)
    title, body = render(alert, lang, JAKARTA, "http://pi.local:8080/", now=AT + (600 if late else 5))
    for line in lines:
        assert line in body.splitlines() or any(l.startswith(line) for l in body.splitlines())
    assert title.startswith("[Terlambat] " if lang == "id" else "[Late] ") is late


def test_a_late_alert_of_another_day_gives_the_date():
    alert = Alert(SITE, AlertKind.SHUTDOWN, NAME, 60.0, {}, at=AT, late=True)
    _, body = render(alert, "en", JAKARTA, now=AT + 86400)
    assert "Late news: this happened at 27/11/2025 10:32 WIB" in body


@pytest.mark.parametrize("kind, notify_type", [
    ("power_lost", "warning"), ("wrapup", "failure"), ("shutdown", "failure"),
    ("pc_off", "failure"), ("power_restored", "info"), ("ups_unreachable", "warning"),
    ("replace_battery", "warning"), ("site_stale", "warning"), ("test", "info"),
])
def test_each_stage_has_its_apprise_type(kind, notify_type):
    import apprise
    assert apprise.NotifyType(NOTIFY_TYPES[AlertKind(kind)]) is apprise.NotifyType(notify_type)


def test_restored_after_a_restart_when_the_outbox_shows_the_outage_paged_it():
    memory = seed([(SITE, "power_restored", T0 - 7200), (SITE, "power_lost", T0 - 60)])
    assert memory[SITE] == SiteMemory(outage_alerted=True, stages=frozenset({"power_lost"}))
    assert run([(ev("wrapup_sent", T0, runtime_s=200), T0),
                (ev("power_restored", T0 + 5, duration_s=70.0), T0 + 5)], memory=memory) \
        == [("wrapup", {}), ("power_restored", {"duration_s": 70.0, "pcs_off": []})]
    assert seed([(SITE, "power_lost", T0 - 60), (SITE, "power_restored", T0)]) == {}


@pytest.mark.parametrize("newest_first, off", [
    pytest.param([ev("pc_off", T0 + 20, pc="pc-a"), ev("shutdown_sent", T0 + 10),
                  ev("power_lost", T0)], {"pc-a"}, id="switched off in the open outage"),
    pytest.param([ev("pc_online", T0 + 30, pc="pc-a"), ev("pc_off", T0 + 20, pc="pc-a"),
                  ev("power_lost", T0)], set(), id="and back online since"),
    pytest.param([ev("pc_off", T0 + 30, pc="pc-b"), ev("power_lost", T0 + 20),
                  ev("pc_off", T0 + 10, pc="pc-a")], {"pc-b"}, id="only the open outage's"),
])
def test_after_a_restart_the_open_outage_remembers_the_pcs_it_switched_off(newest_first, off):
    """The outbox does not say which PC went off: the outage's events do (dashboard/alerts/outbox.py
    reads them back for an outage ``seed`` finds open), so its restore still asks IT to switch it on."""
    [(_, memory)] = seed([(SITE, "pc_off", T0 + 25)]).items()
    memory = still_off(memory, newest_first)
    assert memory.pcs_off == off
    assert run([(ev("power_restored", T0 + 60, duration_s=60.0), T0 + 60)],
               memory={SITE: memory}) == [("power_restored", {"duration_s": 60.0,
                                                              "pcs_off": sorted(off)})]


def test_every_room_of_min_room_and_every_kind_have_texts_in_both_languages():
    assert {k.room for k in AlertKind} <= {r.value for r in Room}
    for kind in AlertKind:
        alert = Alert(SITE, kind, NAME, 1500.0, {"pc": "meeting-pc", "ups": "meeting",
                                                 "duration_s": 1499.0})
        for lang in ("id", "en"):
            title, body = render(alert, lang)
            assert NAME in title and NAME in body and "{" not in body


@pytest.mark.parametrize("lang, words", [
    ("id", ["Bappeda - Ruang Rapat 1: Listrik padam: UPS menanggung PC rapat.",
            "Sisa waktu UPS: 25 mnt.", "Yang perlu dilakukan TI: Periksa listrik gedung"]),
    ("en", ["Bappeda - Ruang Rapat 1: Power cut: the UPS carries the meeting PC.",
            "UPS time left: 25 min.", "What IT should do: Check the building's power"]),
])
def test_power_lost_names_room_what_minutes_and_action(lang, words):
    [alert] = react({SITE: SiteMemory(name=NAME)}, ev(EventKind.NOTICE_SENT.value, T0,
                                                     runtime_s=1500), T0, Rules())[1]
    _, body = render(alert, lang)
    for text in words:
        assert text in body


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_wrapup_alert_speaks_of_minutes_left_not_an_empty_battery(lang):
    """The wrap-up comes at a runtime mark, often with half the charge left (issue 16 item 10)."""
    alert = Alert(SITE, AlertKind.WRAPUP, NAME, 300.0, {}, T0)
    title, body = render(alert, lang)
    assert not any(w in (title + body).lower() for w in ("hampir habis", "nearly empty", "empty"))
    assert ("5 mnt" if lang == "id" else "5 min") in body


@pytest.mark.parametrize("lang, title, lines", [
    ("id", "Siaga Bappeda - Ruang Rapat 1: Kalender ruangan tidak terbaca sejak 09:32 WIB; "
           "jadwal yang tampil mungkin usang",
     ["Waktu: 10:32 WIB.", "Yang perlu dilakukan TI: Periksa server atau berkas kalender ruangan "
                           "ini (site.calendar);"]),
    ("en", "Siaga Bappeda - Ruang Rapat 1: The room's calendar has not been readable since "
           "09:32 WIB; the schedule shown may be out of date",
     ["When: 10:32 WIB.", "What IT should do: Check this room's calendar server or file "
                          "(site.calendar);"]),
])
def test_a_calendar_unreadable_for_an_hour_pages_it_once_as_a_chore(lang, title, lines):
    """The edge journals calendar_unreadable once a spell (edge.room): one alert with since
    when, no UPS minutes (on mains, about no power); readable again says nothing."""
    unreadable = ev("calendar_unreadable", AT, since=AT - 3600, problem="timed out")
    items = [(unreadable, AT), (Tick(), AT + 60), (ev("calendar_readable", AT + 600), AT + 600)]
    assert run(items, Rules()) == []                                  # a chore: not by default
    assert run(items, Rules(min_room="attention")) == [("calendar_unreadable", {"since": AT - 3600})]
    alert = Alert(SITE, AlertKind.CALENDAR_UNREADABLE, NAME, 1500.0, {"since": AT - 3600}, at=AT)
    got, body = render(alert, lang, JAKARTA, now=AT + 5)
    assert got == title and body.splitlines()[0] == title.removeprefix("Siaga ") + "."
    assert all(any(l.startswith(line) for l in body.splitlines()) for line in lines), body
    assert "UPS" not in body and held(AT, AT + 60, 3600, AlertKind.CALENDAR_UNREADABLE.value)
    assert NOTIFY_TYPES[AlertKind.CALENDAR_UNREADABLE] == "warning"


def refused(at: float, pc: str = "meeting-pc", n: int | None = None, **more) -> tuple:
    """The edge's journal of a shutdown's second ack: polkit refused ``systemctl poweroff``."""
    detail = {"pc": pc, "id": f"rr1-1-shutdown-{pc}", "kind": "shutdown", "ok": False,
              "detail": "did not shut down: exit status 1: Call to PowerOff failed: Access denied",
              "code": "shutdown_failed", "args": {"command": "systemctl poweroff", "status": 1,
                                                  "output": "Call to PowerOff failed: Access denied"},
              **more}
    if n is None:   # (``ev`` takes ``kind`` for the event's)
        return JournalEvent(site=SITE, seq=int(at - T0) + 1, ts=at, kind="pc_ack", detail=detail), at
    return JournalEvent(site=SITE, seq=n, ts=at - 1, kind="pc_ack", detail=detail), at


CUT = OUTAGE[:5]                        # power lost ... shutdown sent, at T0 + 1080
RESTORE = (ev("power_restored", T0 + 1500, duration_s=1499.0), T0 + 1500)
SHUT_OK = refused(T0 + 1081, ok=True, code="shutdown_in", args={"seconds": 30}, detail="")


@pytest.mark.parametrize("items, rules, expected", [
    pytest.param(CUT + [SHUT_OK, refused(T0 + 1112), RESTORE], Rules(),
                 ["power_lost", "wrapup", "shutdown", "pc_not_off", "power_restored"],
                 id="the shutdown failed: IT hears of it at the default min_room"),
    pytest.param(CUT + [refused(T0 + 1112), RESTORE], Rules(min_room="shutdown"),
                 ["shutdown", "pc_not_off", "power_restored"], id="as loud as the shutdown"),
    pytest.param(CUT + [refused(T0 + 1112), refused(T0 + 1113), refused(T0 + 1114, pc="pc-b")],
                 Rules(), ["power_lost", "wrapup", "shutdown", "pc_not_off", "pc_not_off"],
                 id="once per PC (a repeat is not news), every PC"),
    pytest.param(CUT + [refused(T0 + 1112), RESTORE, (ev("power_lost", T0 + 1600), T0 + 1600),
                        (ev("shutdown_sent", T0 + 1700, runtime_s=100), T0 + 1700),
                        refused(T0 + 1750)], Rules(),
                 ["power_lost", "wrapup", "shutdown", "pc_not_off", "power_restored",
                  "power_lost", "shutdown", "pc_not_off"], id="the next cut's failure is news again"),
    pytest.param([refused(T0 + 1112, code="shutdown_in", ok=True)], Rules(), [],
                 id="the first ack, ok: nothing"),
    pytest.param([refused(T0 + 1112, code="expired", args={})], Rules(), [],
                 id="an expired command is not a failed shutdown command"),
    pytest.param([refused(T0 + 1112, kind="wrapup", code="shutdown_failed")], Rules(), [],
                 id="not a shutdown's ack"),
])
def test_a_shutdown_that_left_the_pc_up_pages_it(items, rules, expected):
    """The agent's second ack (commit 3a60d93) was on the events page only: during the cut IT got
    "PC rapat sedang dimatikan dengan aman" and nothing after it, while the PC stayed up."""
    assert [kind for kind, _ in run(items, rules)] == expected


def test_a_failed_shutdown_replayed_after_its_outages_restore_pages_nobody():
    """The power is back: nobody need run to switch that PC off."""
    items = [seq(1, "power_lost", T0), seq(2, "shutdown_sent", T0 + 900, runtime_s=100),
             seq(4, "power_restored", T0 + 1000, duration_s=999.0),
             refused(T0 + 1100, n=3)] + FLICKER
    assert [kind for kind, _ in run(items)] == ["power_lost", "shutdown", "power_restored"]


def test_after_a_restart_an_open_outage_that_paged_a_failed_shutdown_still_pages_its_restore():
    memory = seed([(SITE, "pc_not_off", T0 - 60), (SITE, "power_restored", T0 - 7200)])
    assert memory[SITE] == SiteMemory(outage_alerted=True)     # per PC: no stage to remember
    assert [k for k, _ in run([RESTORE], memory=memory)] == ["power_restored"]


@pytest.mark.parametrize("lang, runtime, lines", [
    ("id", 250.0, ["Bappeda - Ruang Rapat 1: PC rapat meeting-pc gagal mematikan dirinya dan "
                   "masih menyala.",
                   "Sebabnya: systemctl poweroff gagal dengan kode keluar 1: \u201cCall to PowerOff "
                   "failed: Access denied\u201d.",
                   "Sisa waktu UPS: 4 mnt.",
                   "Yang perlu dilakukan TI: Matikan PC meeting-pc secara manual sekarang, sebelum "
                   "baterai UPS habis dalam 4 mnt: minta peserta menyimpan pekerjaannya, lalu "
                   "matikan dari menu PC itu atau dengan tombol dayanya."]),
    ("en", 250.0, ["Bappeda - Ruang Rapat 1: Meeting PC meeting-pc could not shut itself down and "
                   "is still on.",
                   "Why: systemctl poweroff failed with exit status 1: \u201cCall to PowerOff "
                   "failed: Access denied\u201d.",
                   "UPS time left: 4 min.",
                   "What IT should do: Shut PC meeting-pc down by hand now, before the UPS "
                   "battery runs out in 4 min: ask the people in the room to save their work, "
                   "then shut it down from its menu or with its power button."]),
    ("en", None, ["UPS time left: unknown.",
                  "What IT should do: Shut PC meeting-pc down by hand now, before the UPS battery "
                  "runs out: ask the people in the room to save their work, then shut it down "
                  "from its menu or with its power button."]),
])
def test_the_failed_shutdown_alert_says_which_pc_why_and_to_switch_it_off_by_hand(lang, runtime,
                                                                                   lines):
    memory = {SITE: SiteMemory(name=NAME, runtime_s=runtime)}
    event, now = refused(AT + 1, n=1)
    [alert] = react(memory, event, now, Rules())[1]
    title, body = render(alert, lang, JAKARTA, now=AT + 5)
    assert title == "Siaga " + body.splitlines()[0].removesuffix(".")
    for line in lines:
        assert line in body.splitlines(), body
    assert NOTIFY_TYPES[alert.kind] == "failure" and alert.kind.room == Room.SHUTDOWN.value
