"""The Windows capture path with recorded answers, through the same rule as Linux (no Windows here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.captures_windows import (AudioSession, ConsentEntry, consent_binary,
                                         owner_name, windows_reading)
from agent.meetings import detect
from protocol.config import AgentSection

FIXTURES = Path(__file__).parent / "fixtures" / "windows"
SECTION = AgentSection(pc_id="pc1")
SESSIONS = json.loads((FIXTURES / "meet_chrome_zoom_idle_teams_call.json").read_text())["cases"]
CONSENT = json.loads((FIXTURES / "consent_store.json").read_text())["cases"]


def meeting(reading, running=()):
    found = detect(reading, set(running), SECTION.meeting_apps, SECTION.browsers)
    return None if found is None else {"app": found.app, "by": found.by}


def broken():
    raise OSError("COM: class not registered")


def must_not_be_read():
    raise AssertionError("the privacy store is read although Core Audio answered")


@pytest.mark.parametrize("name", sorted(SESSIONS))
def test_core_audio_sessions(name):
    case = SESSIONS[name]
    names = {int(pid): n.lower().removesuffix(".exe") for pid, n in case["names"].items()}
    reading = windows_reading(lambda: [AudioSession(*s) for s in case["sessions"]],
                              must_not_be_read, names, lambda: case["titles"])
    assert reading.visible and not reading.why
    assert meeting(reading, names.values()) == case["meeting"]


@pytest.mark.parametrize("name", sorted(CONSENT))
def test_privacy_store_is_the_fallback(name):
    case = CONSENT[name]
    running = [r.lower().removesuffix(".exe") for r in case["running"]]
    names = dict(enumerate(running, start=100))
    reading = windows_reading(broken, lambda: [ConsentEntry(*e) for e in case["entries"]], names,
                              lambda: {})
    assert reading.visible and "Core Audio cannot be read" in reading.why
    assert meeting(reading, running) == case["meeting"]


def test_nothing_readable_falls_back_to_process_names():
    reading = windows_reading(broken, broken, {5120: "zoom"}, lambda: {})
    assert not reading.visible and "privacy store unreadable" in reading.why
    assert meeting(reading, ["zoom", "chrome"]) == {"app": "zoom", "by": "process"}
    assert meeting(reading, ["chrome"]) is None   # a browser is open all day: not a meeting


@pytest.mark.parametrize("chain, owner", [
    (["msedgewebview2", "ms-teams", "explorer"], "ms-teams"),   # new Teams' WebView2 helper
    (["chrome", "chrome", "explorer"], "chrome"),
    (["msedgewebview2", "widgets", "svchost"], "msedgewebview2"),  # no meeting app above it
    ([], ""),
])
def test_a_helper_process_capture_belongs_to_its_app(chain, owner):
    assert owner_name(chain, {"ms-teams", "chrome", "zoom"}) == owner


@pytest.mark.parametrize("key, binary", [
    ("C:#Program Files#Google#Chrome#Application#chrome.exe", "chrome"),
    ("C:#Users#staf#AppData#Roaming#Zoom#bin#Zoom.exe", "zoom"),
    ("MSTeams_8wekyb3d8bbwe", "ms-teams"),
    ("Microsoft.WindowsCamera_8wekyb3d8bbwe", "microsoft.windowscamera"),
])
def test_privacy_store_names(key, binary):
    assert consent_binary(key) == binary
