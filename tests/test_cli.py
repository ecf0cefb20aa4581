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
    return subprocess.run([sys.executable, "-m", "edge.cli", "passwd"], cwd=ROOT, input=given,
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
    done = subprocess.run(["sh", "-c", f'exec "{sys.executable}" -m edge.cli passwd <&-'], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, start_new_session=True)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith("siaga passwd: no password:") and done.stderr.count("\n") == 1


def test_passwd_refuses_a_short_piped_password():
    done = passwd(None, "pendek\n")
    assert done.returncode == 1
    assert done.stderr == "siaga passwd: the password must have at least 8 characters\n"
