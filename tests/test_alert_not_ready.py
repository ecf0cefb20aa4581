"""IT hears once per meeting that the room is not ready for it, in words, in both languages."""

from __future__ import annotations

import pytest

from dashboard.alerts.rules import AlertKind, Rules, react
from dashboard.alerts.texts import render
from protocol.messages import JournalEvent

NOW = 1_800_000_000.0   # 15:00 in Jakarta
EVENT = JournalEvent("rr1", 7, NOW, "not_ready", {
    "meeting": "Rapat anggaran", "start": NOW + 900,
    "problems": ["battery_low:meeting:55", "converting:meeting-pc"]})


def test_once_per_meeting_even_when_the_edge_says_it_twice() -> None:
    memory, first = react({}, EVENT, NOW + 1, Rules())
    memory, second = react(memory, JournalEvent("rr1", 9, NOW + 60, "not_ready", EVENT.detail),
                           NOW + 61, Rules())
    assert [a.kind for a in first] == [AlertKind.NOT_READY] and second == []
    nxt = JournalEvent("rr1", 11, NOW + 7200, "not_ready", {**EVENT.detail, "start": NOW + 8000})
    assert [a.kind for a in react(memory, nxt, NOW + 7201, Rules())[1]] == [AlertKind.NOT_READY]


@pytest.mark.parametrize("lang, title, words", [
    ("id", 'Siaga rr1: Belum siap untuk rapat "Rapat anggaran" pukul 15:15 WIB',
     ["baru terisi 55 %", "masih mengonversi rekaman", "Tunggu konversi selesai"]),
    ("en", 'Siaga rr1: Not ready for the meeting "Rapat anggaran" at 15:15 WIB',
     ["charged to 55 % only", "still converting the last recording", "Let the conversion finish"]),
])
def test_the_alert_says_what_is_wrong_and_what_to_do(lang, title, words) -> None:
    alert = react({}, EVENT, NOW + 1, Rules())[1][0]
    got_title, body = render(alert, lang, now=NOW + 1)
    assert got_title == title
    for w in words:
        assert w in body
    assert "battery_low" not in body and "UPS time left" not in body
