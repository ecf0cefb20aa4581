"""A private Xvfb on a free display number (Xvfb picks it and tells us through -displayfd)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from siaga.servers import ServerMissing, find_program, stop_process


def start_xvfb(log: Path, screen: str = "1920x1080x24") -> tuple[subprocess.Popen, str]:
    """(the Xvfb process, its DISPLAY); ServerMissing when Xvfb is not installed."""
    program = find_program("Xvfb", "xvfb")
    read_end, write_end = os.pipe()
    with open(log, "ab") as out:
        proc = subprocess.Popen([program, "-displayfd", str(write_end), "-screen", "0", screen,
                                 "-nolisten", "tcp"], pass_fds=(write_end,), stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    os.close(write_end)
    with os.fdopen(read_end) as r:
        number = r.readline().strip()
    if not number:
        proc.kill()
        proc.wait()
        raise RuntimeError(f"Xvfb did not start; see {log}")
    return proc, f":{number}"


@pytest.fixture
def display(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A private Xvfb (1920x1080, like the meeting room's all-in-one) on a free display number."""
    programs = [("import", "imagemagick"), ("xdotool", "xdotool"), ("xclip", "xclip"),
                ("tesseract", "tesseract-ocr")]
    try:
        for name, package in programs:
            find_program(name, package)
        xvfb, display = start_xvfb(tmp_path / "xvfb.log")
    except ServerMissing as exc:   # a missing program fails the test, never skips it
        pytest.fail(f"{exc} (make test installs it)")
    try:
        monkeypatch.setenv("DISPLAY", display)
        monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
        yield display
    finally:
        stop_process(xvfb)


def x(*argv: str, check: bool = True) -> str:
    """Run an X client on the test display; its stdout."""
    done = subprocess.run(list(argv), capture_output=True, text=True, timeout=20)
    if check and done.returncode:
        raise AssertionError(f"{argv[0]} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def visible_window(name: str) -> str:
    """The id of the visible window whose title contains ``name``; '' when there is none."""
    return x("xdotool", "search", "--onlyvisible", "--name", name, check=False).split("\n")[0]
