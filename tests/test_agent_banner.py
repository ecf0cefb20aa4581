"""The banner on a real X display (Xvfb): it appears, reads from afar, copies the chat text, changes on cancel.

What a person sees is checked with the tools a person's eyes stand in for: a screenshot
(ImageMagick ``import``), OCR (``tesseract``) of the window at full size and at a quarter of it
(the presenter's seat is a few metres away), a real mouse click (``xdotool``) and the X
clipboard read back with ``xclip``. Set SIAGA_DOCS_SCREENSHOTS=1 to refresh docs/agent-banner.png.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.agent_helpers import refused_shutdown, wait_until
from tests.xvfb import visible_window, x

DOCS = Path(__file__).parent.parent / "docs"
CHAT = "Mohon maaf, listrik padam. Rapat tetap berjalan — rekaman disimpan otomatis."


def read_screen(window: str, shot: Path, scale: int = 100) -> str:
    """Screenshot ``window`` into ``shot`` and OCR it (grey, optionally shrunk to ``scale`` %)."""
    x("import", "-window", window, str(shot))
    grey = shot.with_name(f"{shot.stem}-{scale}.png")
    x("convert", str(shot), "-colorspace", "Gray", "-resize", f"{scale}%", str(grey))
    return " ".join(x("tesseract", str(grey), "-", "--psm", "6").split())


def test_notice_banner_reads_from_afar_copies_the_chat_text_and_turns_into_restored(
        display, start_agent, pc_client, tmp_path):
    agent = start_agent(banner=True, restored_close_s=2)
    cmd, _ = pc_client.send("notice", title="Listrik padam", runtime_s=1500, chat_text=CHAT,
                            text="Ruang Rapat 1 memakai baterai UPS. Simpan pekerjaan Anda.")
    assert pc_client.wait_for("ack", lambda a: a["id"] == cmd["id"])[2]["detail"] == "banner"
    shown = agent.banner.wait_event("shown", timeout=20)
    assert shown is not None, agent.banner.events()
    window = wait_until(lambda: visible_window("Listrik padam"))

    x("import", "-window", "root", str(tmp_path / "screen-notice.png"))
    text = read_screen(window, tmp_path / "banner-notice.png")
    assert "Listrik padam" in text and "Sisa daya UPS: 25 mnt" in text
    assert "Simpan pekerjaan Anda" in text and "Salin pesan untuk chat rapat" in text
    far = read_screen(window, tmp_path / "banner-notice.png", scale=25)
    assert "Listrik padam" in far and "Sisa daya UPS: 25 mnt" in far
    if os.environ.get("SIAGA_DOCS_SCREENSHOTS"):
        shutil.copy(tmp_path / "banner-notice.png", DOCS / "agent-banner.png")

    # The host clicks the button: the chat text is on the clipboard, the button says so.
    left, top, width, height = shown["copy_button"]
    seen = len(agent.banner.events())
    x("xdotool", "mousemove", str(left + width // 2), str(top + height // 2), "click", "1")
    assert agent.banner.wait_event("copied", timeout=5, after=seen) is not None
    assert x("xclip", "-o", "-selection", "clipboard") == CHAT
    assert "Tersalin" in read_screen(window, tmp_path / "banner-copied.png")

    # Power is back: the same window says so, then closes itself; the clipboard stays.
    seen = len(agent.banner.events())
    pc_client.send("cancel")
    assert agent.banner.wait_event("shown", timeout=5, after=seen)["kind"] == "cancel"
    restored = wait_until(lambda: visible_window("Listrik kembali normal"))
    text = read_screen(restored, tmp_path / "banner-restored.png")
    assert "Listrik kembali normal" in text and "menit" not in text and "Salin" not in text
    wait_until(lambda: not visible_window("Siaga"), timeout=6)
    assert x("xclip", "-o", "-selection", "clipboard") == CHAT


def test_shutdown_banner_counts_down_in_english(display, start_agent, pc_client, tmp_path):
    agent = start_agent(banner=True, language="en", shutdown_grace_s=4)
    pc_client.send("shutdown", runtime_s=100, grace_s=30, title="", text="")
    assert agent.banner.wait_event("shown", timeout=20) is not None
    window = wait_until(lambda: visible_window("This PC will shut down"))
    text = read_screen(window, tmp_path / "banner-shutdown.png", scale=25)
    assert "This PC will shut down" in text and "UPS battery left: 1 min" in text
    assert "This PC shuts down in" in text and "seconds" in text
    wait_until((tmp_path / "shutdown.marker").exists, timeout=10)


@pytest.mark.parametrize("lang, title, words", [
    ("id", "Komputer tidak dapat mati sendiri",
     ["matikan komputer ini secara manual sekarang", "sebelum baterai UPS habis"]),
    ("en", "This PC could not shut itself down",
     ["shut this PC down by hand now", "before the UPS battery runs out"]),
])
def test_a_shutdown_that_fails_turns_the_countdown_into_shut_it_down_by_hand(
        display, start_agent, pc_client, tmp_path, lang, title, words):
    """polkit refused ``systemctl poweroff``: the PC stayed up and its banner went on saying
    "Komputer sedang dimatikan..." while the battery ran flat under the meeting. The people in
    the room must now be told to save their work and switch it off themselves."""
    agent = start_agent(banner=True, language=lang, shutdown_grace_s=2,
                        shutdown_command=refused_shutdown(tmp_path / "tries"))
    cmd, _ = pc_client.send("shutdown", runtime_s=100, grace_s=30, title="", text="")
    wait_until(lambda: len(pc_client.acks(cmd["id"])) == 2, timeout=15,
               what="the second ack of the shutdown")
    shown = lambda: [e.get("kind") for e in agent.banner.events() if e.get("event") == "shown"]
    wait_until(lambda: shown()[-1:] == ["not_off"], timeout=10, what="the banner changed",
               context=lambda: str(agent.banner.events()))
    assert shown() == ["shutdown", "not_off"]
    window = wait_until(lambda: visible_window(title))
    shot = tmp_path / f"banner-not-off-{lang}.png"
    text = read_screen(window, shot)
    assert title in text and all(w in text for w in words), text
    assert "dimatikan dalam" not in text and "shuts down in" not in text    # no countdown left
    assert "Komputer sedang dimatikan" not in text and "Shutting down" not in text
    far = read_screen(window, shot, scale=25)          # from the back of the room
    assert title in far, far
    if os.environ.get("SIAGA_SHUTFAIL_SHOTS"):
        shutil.copy(shot, Path(os.environ["SIAGA_SHUTFAIL_SHOTS"]) / shot.name)


def test_the_host_can_close_the_banner(display, start_agent, pc_client):
    agent = start_agent(banner=True)
    pc_client.send("test", title="Uji coba Siaga", chat_text="uji")
    assert agent.banner.wait_event("shown", timeout=20) is not None
    window = wait_until(lambda: visible_window("Uji coba Siaga"))
    geometry = x("xdotool", "getwindowgeometry", "--shell", window)
    pos = dict(line.split("=") for line in geometry.splitlines())
    # "Tutup" sits at the right end of the button row, at the bottom of the window.
    right, bottom = int(pos["X"]) + int(pos["WIDTH"]), int(pos["Y"]) + int(pos["HEIGHT"])
    seen = len(agent.banner.events())
    x("xdotool", "mousemove", str(right - 60), str(bottom - 50), "click", "1")
    closed = agent.banner.wait_event("closed", timeout=5, after=seen)
    assert closed is not None and closed["by"] == "host"
    wait_until(lambda: not visible_window("Siaga"))


def test_without_a_display_the_banner_is_only_logged(monkeypatch, start_agent, pc_client, caplog):
    caplog.set_level("INFO")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    agent = start_agent(banner=True)
    cmd, _ = pc_client.send("notice", title="Listrik padam", runtime_s=600)
    assert pc_client.wait_for("ack", lambda a: a["id"] == cmd["id"])[2]["detail"] == \
        "no display: logged only"
    wait_until(lambda: "no banner: no display" in caplog.text)
    assert "banner: Listrik padam" in caplog.text and "Sisa daya UPS: 10 mnt" in caplog.text
    assert agent.banner._proc is None


def test_a_killed_banner_window_does_not_take_the_agent_down(display, start_agent, pc_client):
    agent = start_agent(banner=True)
    pc_client.send("test")
    assert agent.banner.wait_event("shown", timeout=20) is not None
    agent.banner._proc.kill()
    agent.banner._proc.wait()
    cmd, _ = pc_client.send("notice")
    assert pc_client.wait_for("ack", lambda a: a["id"] == cmd["id"])[2]["ok"] is True
    seen = len(pc_client.messages)
    pc_client.wait_for("status", after=seen)           # telemetry goes on


def test_without_tkinter_here_the_banner_runs_on_debians_python(display, monkeypatch):
    from agent import banner as banner_module
    from agent.texts import banner_view
    from protocol.messages import PcCommand

    real_find_spec = banner_module.importlib.util.find_spec
    monkeypatch.setattr(banner_module.importlib.util, "find_spec",
                        lambda name: None if name == "_tkinter" else real_find_spec(name))
    assert banner_module.tk_python() == "/usr/bin/python3"        # python3-tk (make test)
    banner = banner_module.Banner(True)
    try:
        cmd = PcCommand(id="c", ts=0, expires=1, kind="test", title="Uji coba Siaga")
        assert banner.show(banner_view(cmd, "id"))
        assert banner.wait_event("shown", timeout=20) is not None, banner.events()
        assert banner._proc.args[0] == "/usr/bin/python3"
        wait_until(lambda: visible_window("Uji coba Siaga"))
    finally:
        banner.stop()


def test_the_countdown_says_one_second_not_one_seconds(display):
    """The last second of a shutdown countdown, as the banner's label reads it (English inflects)."""
    import tkinter as tk

    from agent.banner_ui import BannerWindow
    from protocol.messages import PcCommand, PcCommandKind
    from protocol.texts import banner_view

    root = tk.Tk()
    try:
        window = BannerWindow(root)
        command = PcCommand(id="c1", ts=0.0, expires=60.0, kind=PcCommandKind.SHUTDOWN,
                            runtime_s=100, grace_s=2)
        said = {}
        for lang in ("en", "id"):
            for seconds in (2, 1):
                window.show(banner_view(command, lang, countdown_s=seconds))
                said[lang, seconds] = window.countdown.cget("text")
        assert said == {("en", 2): "This PC shuts down in 2 seconds",
                        ("en", 1): "This PC shuts down in 1 second",
                        ("id", 2): "Komputer dimatikan dalam 2 detik",
                        ("id", 1): "Komputer dimatikan dalam 1 detik"}
    finally:
        root.destroy()
