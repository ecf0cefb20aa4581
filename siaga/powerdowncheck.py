"""`siaga check`'s `upsmon` lines: is the power-down flag the edge writes the one NUT and systemd
act on?

The edge writes ``edge.powerdown_flag`` at the end of a real outage; ``siaga-poweroff.path``
powers the Pi off when that file appears, and NUT's shutdown hook (``upsmon -K``) has the UPS cut
its outlets only if upsmon.conf's ``POWERDOWNFLAG`` names the same file. With another flag (Debian's
own upsmon.conf says ``/etc/killpower``) the Pi powers off, the UPS never cuts its outlets and
never switches them on again: the Pi stays off when the mains is back. With a path unit watching
another file, the Pi is never powered off at all.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from protocol.config import Config

Result = tuple[bool, str, str, str]   # as siaga.check's: ok, check name, what, detail

# Where NUT's programs read upsmon.conf: $NUT_CONFPATH (NUT's own variable), else /etc/nut.
NUT_CONFDIR = "/etc/nut"
POWEROFF_PATH_UNIT = "siaga-poweroff.path"
# systemd's unit directories, first match wins ($SYSTEMD_UNIT_PATH, systemd's own variable,
# replaces them); scripts/install-pi.sh puts Siaga's units in /usr/local/lib/systemd/system.
UNIT_DIRS = ("/etc/systemd/system", "/run/systemd/system", "/usr/local/lib/systemd/system",
             "/usr/lib/systemd/system", "/lib/systemd/system")


def check_powerdown(config: Config) -> tuple[list[Result], list[str]]:
    """(result lines, notes) comparing ``edge.powerdown_flag`` with upsmon.conf's POWERDOWNFLAG
    and with what siaga-poweroff.path watches; nothing when the edge writes no flag or a file is
    not there. A file there but unreadable (not run as root) is a note, not a FAIL."""
    flag = config.edge.powerdown_flag
    if not flag:
        return [], []
    results: list[Result] = []
    notes: list[str] = []
    conf = Path(os.environ.get("NUT_CONFPATH") or NUT_CONFDIR) / "upsmon.conf"
    text = _read(conf, notes, "its POWERDOWNFLAG is not compared with edge.powerdown_flag")
    if text is not None:
        results.append(_compare_upsmon(str(conf), powerdown_flag_of(text), flag))
    unit = _path_unit()
    text = None if unit is None else _read(unit, notes, "what it watches is not compared")
    if unit is not None and text is not None:
        results.append(_compare_unit(str(unit), path_exists_of(text), flag))
    return results, notes


def _read(path: Path, notes: list[str], so: str) -> str | None:
    """The file's text; None when it is not there, or (with a note) cannot be read."""
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return None
    except OSError as exc:
        notes.append(f"      upsmon: cannot read {path} ({exc.strerror or exc}): {so} "
                     "(run siaga check as root)")
        return None


def powerdown_flag_of(text: str) -> str | None:
    """The POWERDOWNFLAG an upsmon.conf sets (the last one, as upsmon reads it); None for none."""
    found = None
    for line in text.splitlines():
        try:
            words = shlex.split(line, comments=True)
        except ValueError:   # an unbalanced quote: upsmon would not read this line either
            continue
        if len(words) >= 2 and words[0] == "POWERDOWNFLAG":
            found = words[1]
    return found


def path_exists_of(text: str) -> list[str]:
    """The files a systemd path unit's ``PathExists=`` lines watch."""
    return [line.split("=", 1)[1].strip() for line in text.splitlines()
            if line.strip().startswith("PathExists=")]


def _path_unit() -> Path | None:
    """siaga-poweroff.path where systemd would find it, or None when it is not installed."""
    dirs = os.environ.get("SYSTEMD_UNIT_PATH")
    for directory in dirs.split(":") if dirs else UNIT_DIRS:
        unit = Path(directory) / POWEROFF_PATH_UNIT
        if directory and unit.exists():
            return unit
    return None


def _same(a: str, b: str) -> bool:
    return os.path.normpath(a) == os.path.normpath(b)


def _compare_upsmon(conf: str, named: str | None, flag: str) -> Result:
    if named is not None and _same(named, flag):
        return True, "upsmon", conf, f"POWERDOWNFLAG {named}, as edge.powerdown_flag"
    says = f"POWERDOWNFLAG is {named}" if named else "no POWERDOWNFLAG"
    return False, "upsmon", conf, (
        f"{says}, but edge.powerdown_flag is {flag}: after a cut the Pi powers off, the UPS never "
        f"cuts its outlets and the Pi stays off when the mains is back; set POWERDOWNFLAG {flag}")


def _compare_unit(unit: str, watched: list[str], flag: str) -> Result:
    if any(_same(w, flag) for w in watched):
        return True, "upsmon", unit, f"watches {flag}, as edge.powerdown_flag"
    says = f"watches {', '.join(watched)}" if watched else "watches no PathExists="
    return False, "upsmon", unit, (
        f"{says}, but edge.powerdown_flag is {flag}: after a cut the Pi is never powered off; "
        f"set PathExists={flag}")
