"""The alert rules (dashboard/alert_rules.py) as tables: what IT is told for each thing heard."""

from __future__ import annotations

import pytest

from dashboard.alert_rules import (AlertKind, Rules, SiteMemory, Stale, Tick, held, react, seed)
from dashboard.alert_texts import render
from dashboard.alert_rules import Alert
from edge.messages import EventKind, JournalEvent, Room
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
    pytest.param([(ev("notice_sent", T0 - 3600), T0)], Rules(), [],
                 id="an hour-old event (replayed) is history, not news"),
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
    pytest.param([(Stale(SITE, False), T0), (Stale(SITE, True), T0 + 100)], [("site_stale", {})],
                 id="a site going stale"),
    pytest.param([(Stale(SITE, True), T0)], [], id="stale on first sight (after a restart): silent"),
])
def test_timers_and_stale(items, expected):
    assert run(items) == expected


@pytest.mark.parametrize("last, now, quiet, kind, expected", [
    (None, T0, 3600, "power_lost", False),
    (T0 - 10, T0, 3600, "power_lost", True),
    (T0 - 3599, T0, 3600, "power_lost", True),
    (T0 - 3600, T0, 3600, "power_lost", False),
    (T0 - 10, T0, 0, "power_lost", False),
    (T0 - 10, T0, 3600, "test", False),
])
def test_quiet_repeat_hold(last, now, quiet, kind, expected):
    assert held(last, now, quiet, kind) is expected


def test_restored_after_a_restart_when_the_outbox_shows_the_outage_paged_it():
    memory = seed([(SITE, "power_restored", T0 - 7200), (SITE, "power_lost", T0 - 60)])
    assert memory[SITE] == SiteMemory(outage_alerted=True, stages=frozenset({"power_lost"}))
    assert run([(ev("wrapup_sent", T0, runtime_s=200), T0),
                (ev("power_restored", T0 + 5, duration_s=70.0), T0 + 5)], memory=memory) \
        == [("wrapup", {}), ("power_restored", {"duration_s": 70.0})]
    assert seed([(SITE, "power_lost", T0 - 60), (SITE, "power_restored", T0)]) == {}


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
            "Sisa waktu UPS: 25 mnt.", "Yang perlu dilakukan: Rapat boleh berlanjut"]),
    ("en", ["Bappeda - Ruang Rapat 1: Power cut: the UPS carries the meeting PC.",
            "UPS time left: 25 min.", "What to do: The meeting may go on"]),
])
def test_power_lost_names_room_what_minutes_and_action(lang, words):
    [alert] = react({SITE: SiteMemory(name=NAME)}, ev(EventKind.NOTICE_SENT.value, T0,
                                                     runtime_s=1500), T0, Rules())[1]
    _, body = render(alert, lang)
    for text in words:
        assert text in body
