"""`siaga` itself: what a newcomer gets from the commands that need no config (passwd)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from werkzeug.security import check_password_hash

ROOT = Path(__file__).resolve().parent.parent


def passwd(stdin: int | None, given: str | None = None) -> subprocess.CompletedProcess:
    """`siaga passwd` in a new session (no controlling terminal, as under a script or CI)."""
    return subprocess.run([sys.executable, "-m", "siaga", "passwd"], cwd=ROOT, input=given,
                          stdin=stdin, capture_output=True, text=True, timeout=60,
                          start_new_session=True)


def test_passwd_reads_a_piped_password_and_prints_its_hash():
    done = passwd(None, "kata-sandi-rapat\n")
    assert done.returncode == 0, done.stderr
    assert check_password_hash(done.stdout.strip(), "kata-sandi-rapat")
    assert done.stderr == ""


@pytest.mark.parametrize("stdin, given", [(subprocess.DEVNULL, None), (None, ""), (None, "\n")])
def test_passwd_without_a_password_says_so_in_one_line(stdin, given):
    done = passwd(stdin, given)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith("siaga passwd: no password: type it at a terminal, or give it")
    assert done.stderr.count("\n") == 1


def test_passwd_with_stdin_closed_says_so_in_one_line():
    """`siaga passwd <&-`: Python has no sys.stdin at all."""
    done = subprocess.run(["sh", "-c", f'exec "{sys.executable}" -m siaga passwd <&-'], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, start_new_session=True)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith("siaga passwd: no password:") and done.stderr.count("\n") == 1


def test_passwd_refuses_a_short_piped_password():
    done = passwd(None, "pendek\n")
    assert done.returncode == 1
    assert done.stderr == "siaga passwd: the password must have at least 8 characters\n"


def at_a_terminal(*typed: str) -> subprocess.CompletedProcess:
    """`siaga passwd` with a pseudo-terminal as its controlling terminal, ``typed`` at it."""
    import fcntl
    import os
    import pty
    import termios
    import threading

    master, slave = pty.openpty()

    def own_terminal() -> None:   # the child's session gets the pty as its /dev/tty
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    def typist() -> None:   # answer each prompt as a person would
        for line in typed:
            seen = b""
            while not seen.rstrip().endswith(b":"):
                seen += os.read(master, 1024)
            os.write(master, line.encode() + b"\n")

    thread = threading.Thread(target=typist, daemon=True)
    thread.start()
    try:
        return subprocess.run([sys.executable, "-m", "siaga", "passwd"], cwd=ROOT, stdin=slave,
                              capture_output=True, text=True, timeout=60, preexec_fn=own_terminal)
    finally:
        os.close(slave)
        os.close(master)


def test_passwd_at_a_terminal_asks_twice():
    done = at_a_terminal("kata-sandi-rapat", "kata-sandi-rapat")
    assert done.returncode == 0, done.stderr
    assert check_password_hash(done.stdout.strip(), "kata-sandi-rapat")
    done = at_a_terminal("kata-sandi-rapat", "kata-sandi-lain")
    assert done.returncode == 1 and done.stderr == "siaga passwd: the passwords differ\n"
