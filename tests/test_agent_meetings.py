"""The meeting rule (pure) and the Linux readers' parsing: captures in, the status's `meeting` out."""

from __future__ import annotations

import os

import pytest

from agent.captures import (CAMERA, MICROPHONE, Capture, CaptureReading, camera_pids,
                                 capture_from_properties, parse_source_outputs_json,
                                 parse_source_outputs_text)
from agent.meetings import Detected, MeetingTracker, detect
from protocol.config import AgentSection
from protocol.messages import MeetingNow

SECTION = AgentSection(pc_id="pc1")
MIC, CAM = MICROPHONE, CAMERA


def seen(*captures):
    return CaptureReading(True, tuple(captures))


@pytest.mark.parametrize("reading, running, expected", [
    # a client left open all day holds no capture: no meeting
    (seen(), {"zoom", "ms-teams", "chrome"}, None),
    (seen(Capture("zoom", kind=MIC)), {"zoom"}, ("zoom", MIC)),
    (seen(Capture("ms-teams", "Microsoft Teams", MIC)), {"ms-teams"}, ("teams", MIC)),
    (seen(Capture("chrome", "Google Chrome", MIC, "Meet - abc-defg-hij")), {"chrome"},
     ("meet-browser", MIC)),
    (seen(Capture("firefox", "Firefox", MIC, "https://meet.google.com/abc-defg-hij")), set(),
     ("meet-browser", MIC)),
    (seen(Capture("msedge", "", MIC, "Zoom Meeting - Microsoft Edge")), set(), ("browser", MIC)),
    (seen(Capture("chrome", kind=CAM)), set(), ("browser", CAM)),
    # the microphone decides `by` when both are held; a meeting app outranks a browser tab
    (seen(Capture("zoom", kind=CAM), Capture("zoom", kind=MIC)), set(), ("zoom", MIC)),
    (seen(Capture("chrome", kind=MIC), Capture("zoom", kind=CAM)), set(), ("zoom", CAM)),
    # a recorder or a dictation app holding the microphone is not a meeting
    (seen(Capture("obs", kind=MIC), Capture("pacat", kind=MIC)), {"obs"}, None),
    # captures cannot be seen: a running meeting app counts, a running browser does not
    (CaptureReading(False, why="no audio server"), {"zoom", "chrome"}, ("zoom", "process")),
    (CaptureReading(False, why="no audio server"), {"chrome"}, None),
    # ... but a camera that can still be seen (Linux: /proc) is a meeting, before that rule
    (CaptureReading(False, (Capture("chrome", kind=CAM),), "no audio server"), {"chrome"},
     ("browser", CAM)),
    (CaptureReading(False, (Capture("zoom", kind=CAM),), "no audio server"), {"zoom"},
     ("zoom", CAM)),
])
def test_what_is_a_meeting(reading, running, expected):
    found = detect(reading, running, SECTION.meeting_apps, SECTION.browsers)
    assert found == (None if expected is None else Detected(*expected))


def test_a_configured_app_is_reported_by_its_name():
    found = detect(seen(Capture("jitsi-meet", kind=MIC)), set(), ["Jitsi-Meet.exe"], [])
    assert found == Detected("jitsi-meet", MIC)


def test_since_holds_while_the_meeting_goes_on_and_resets_after():
    tracker = MeetingTracker()
    assert tracker.update(Detected("browser", MIC), 100.0) == MeetingNow("browser", 100.0, MIC)
    # the tab's title changes to Meet within the same call: same meeting, same start
    assert tracker.update(Detected("meet-browser", MIC), 105.0) == MeetingNow("meet-browser", 100.0, MIC)
    assert tracker.update(None, 110.0, closed=True) is None
    assert tracker.update(Detected("zoom", MIC), 115.0).since == 115.0


def test_a_restart_of_the_audio_server_neither_ends_the_meeting_nor_starts_another():
    clock = [0.0]
    tracker = MeetingTracker(clock=lambda: clock[0])
    meet = MeetingNow("meet-browser", 100.0, MIC)
    assert tracker.update(Detected("meet-browser", MIC), 100.0) == meet
    clock[0] = 5.0   # the server is gone: captures cannot be seen; a browser is no fallback
    assert tracker.update(None, 105.0, visible=False) == meet
    clock[0] = 6.0   # back, and Chrome has not reopened the microphone yet
    assert tracker.update(None, 106.0) == meet
    clock[0] = 8.0   # it has
    assert tracker.update(Detected("meet-browser", MIC), 108.0) == meet
    clock[0] = 9.0   # the call ends for real: told REOPEN_S after the stream was last seen
    assert tracker.update(None, 109.0) == meet
    clock[0] = 18.5
    assert tracker.update(None, 118.5) is None


def test_a_restart_between_two_readings_is_no_end_but_a_closed_browser_is():
    clock = [0.0]
    tracker = MeetingTracker(clock=lambda: clock[0])
    meet = MeetingNow("meet-browser", 100.0, MIC)
    tracker.update(Detected("meet-browser", MIC), 100.0)
    clock[0] = 5.0   # the server restarted between two readings: only the stream is gone
    assert tracker.update(None, 105.0) == meet
    clock[0] = 7.0
    assert tracker.update(Detected("meet-browser", MIC), 107.0) == meet
    clock[0] = 8.0   # Chrome closed: no browser runs, the meeting is over now
    assert tracker.update(None, 108.0, closed=True) is None


def test_a_meeting_not_reopened_after_the_restart_ends_and_zoom_keeps_its_capture_meeting():
    clock = [0.0]
    tracker = MeetingTracker(clock=lambda: clock[0])
    tracker.update(Detected("zoom", MIC), 100.0)
    clock[0] = 2.0   # blind: the process rule says zoom; the meeting stays the one by microphone
    assert tracker.update(Detected("zoom", "process"), 102.0, visible=False) == MeetingNow("zoom", 100.0, MIC)
    clock[0] = 3.0
    assert tracker.update(None, 103.0) == MeetingNow("zoom", 100.0, MIC)   # reopening
    clock[0] = 3.0 + 10.5   # REOPEN_S later no capture came back: the meeting had ended
    assert tracker.update(None, 113.5) is None
    clock[0] = 20.0
    tracker.update(Detected("zoom", MIC), 120.0)
    clock[0] = 20.0 + 121   # blind for longer than BLIND_HOLD_S: no longer trusted
    assert tracker.update(None, 241.0, visible=False) is None


PACTL_TEXT = '''Source Output #3
\tDriver: protocol-native.c
\tSource: 0
\tProperties:
\t\tapplication.name = "Google Chrome"
\t\tmedia.name = "Meet - abc-defg-hij"
\t\tapplication.process.id = "2162"
\t\tapplication.process.binary = "chrome"
Source Output #4
\tProperties:
\t\tapplication.name = "ZOOM VoiceEngine"
\t\tapplication.process.binary = "zoom"
'''
PACTL_JSON = ('[{"index":3,"properties":{"application.name":"Google Chrome","media.name":'
              '"Meet - abc-defg-hij","application.process.binary":"chrome"}},'
              '{"index":4,"properties":{"application.name":"ZOOM VoiceEngine",'
              '"application.process.binary":"zoom"}}]')


@pytest.mark.parametrize("streams", [parse_source_outputs_text(PACTL_TEXT),
                                     parse_source_outputs_json(PACTL_JSON)])
def test_pactl_streams(streams):
    assert [capture_from_properties(s) for s in streams] == [
        Capture("chrome", "Google Chrome", MIC, "Meet - abc-defg-hij"),
        Capture("zoom", "ZOOM VoiceEngine", MIC, "")]


def test_camera_users_from_their_open_files(tmp_path):
    for pid, target in ((10, "/dev/video0"), (11, "/dev/snd/pcmC0D0c"), (12, "/dev/video2")):
        (tmp_path / str(pid) / "fd").mkdir(parents=True)
        os.symlink(target, tmp_path / str(pid) / "fd" / "7")
    assert camera_pids({10: "chrome", 11: "zoom", 12: "zoom", 13: "gone"}, tmp_path) == {10, 12}
