"""A private Xvfb on a free display number (Xvfb picks it and tells us through -displayfd)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from siaga.servers import find_program


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
