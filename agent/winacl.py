"""Who may change a file or folder on Windows, read from ``icacls`` (issue 22).

The agent runs as SYSTEM: anything a user can change on the way to what it runs (the Python,
the agent's code, its config, the wrap-up and shutdown programs) would let that user run a
program of their choice as SYSTEM. Pure functions over icacls' text, plus ``query`` that runs it.

Two rules, because Windows' own defaults differ between them:
- ``inside`` (the locked agent folder, Python's folder, a command's folder, and all below them):
  no write of any kind for anyone but the administrators, inherit-only entries included (a file
  pip writes there later would get them);
- ``above`` (the folders leading there, e.g. ``C:\\ProgramData``, ``C:\\``): nobody else may
  delete, rename or re-permission them. Creating a new folder beside ours is harmless and is
  what Windows allows Users in ``C:\\`` and ``C:\\ProgramData`` by default.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass

# Who may change what SYSTEM runs: names as icacls prints them (English Windows) and their SIDs
# (printed when a name cannot be resolved). A localised name ("VORDEFINIERT\Administratoren")
# is not on the list and is reported: the check errs on the side of refusing.
ADMINS = frozenset(name.casefold() for name in (
    "BUILTIN\\Administrators", "NT AUTHORITY\\SYSTEM", "CREATOR OWNER",
    "NT SERVICE\\TrustedInstaller",
    "S-1-5-32-544", "S-1-5-18", "S-1-3-0",
    "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464"))
# Rights that change a file or a folder's contents, or its permissions, or remove it.
WRITE_INSIDE = frozenset({"F", "M", "W", "D", "DE", "DC", "WD", "AD", "WDAC", "WO", "GA", "GW",
                          "MA"})
# Rights on a folder above ours that let its content be swapped: remove or rename, re-permission.
WRITE_ABOVE = frozenset({"F", "M", "D", "DE", "DC", "WDAC", "WO", "GA", "MA"})
INHERITANCE = frozenset({"OI", "CI", "IO", "NP", "I"})
_ACE = re.compile(r"^(?P<who>[^()]+?):(?P<spec>(?:\([A-Z,]+\))+)$")


class IcaclsError(Exception):
    """icacls failed for a path, or printed something this module cannot read."""


class IcaclsMissing(IcaclsError):
    """icacls itself could not be run (no path can be checked)."""


@dataclass(frozen=True)
class Ace:
    """One access control entry as icacls prints it: ``BUILTIN\\Users:(OI)(CI)(M)``."""

    who: str
    rights: frozenset[str]
    flags: frozenset[str]
    deny: bool = False

    @property
    def inherited(self) -> bool:
        """Inherited from the folder above (``(I)``)."""
        return "I" in self.flags

    @property
    def inherit_only(self) -> bool:
        """Applies to what is created below, not to this object (``(IO)``)."""
        return "IO" in self.flags

    def text(self) -> str:
        """The entry as icacls writes it."""
        parts = sorted(self.flags) + (["DENY"] if self.deny else []) + [",".join(sorted(self.rights))]
        return f"{self.who}:" + "".join(f"({p})" for p in parts)


def parse_ace(entry: str) -> Ace:
    """One ``name:(flags)(rights)`` entry; raise IcaclsError when it is not one."""
    found = _ACE.match(entry.strip())
    if not found:
        raise IcaclsError(f"unreadable entry {entry.strip()!r}")
    groups = re.findall(r"\(([A-Z,]+)\)", found["spec"])
    flags = frozenset(g for g in groups if g in INHERITANCE)
    rights = frozenset(r for g in groups if g not in INHERITANCE and g != "DENY" for r in g.split(","))
    return Ace(found["who"].strip(), rights, flags, deny="DENY" in groups)


def parse_icacls(output: str, path: str) -> list[Ace]:
    """The entries of ``icacls PATH``'s output: the path, then one entry a line, aligned.

    The first entry follows the path on the first line. Its column is taken from the second
    line's indentation when there is one (a path printed in another code page may not match
    ``path`` character for character), else from the length of ``path``."""
    lines = [line.rstrip() for line in output.splitlines()]
    lines = lines[next((n for n, line in enumerate(lines) if line.strip()), len(lines)):]
    if not lines:
        raise IcaclsError("no output")
    block = [lines[0]]
    for line in lines[1:]:
        if not line.strip() or not line.startswith(" "):
            break   # the blank line before "Successfully processed 1 files" (localised)
        block.append(line)
    column = len(block[1]) - len(block[1].lstrip()) if len(block) > 1 else len(path) + 1
    return [parse_ace(block[0][column:])] + [parse_ace(line) for line in block[1:]]


def dangerous(aces: list[Ace], inside: bool) -> list[Ace]:
    """The entries that let someone other than the administrators change the object."""
    rights = WRITE_INSIDE if inside else WRITE_ABOVE
    return [ace for ace in aces
            if not ace.deny and ace.who.casefold() not in ADMINS and ace.rights & rights
            and (inside or not ace.inherit_only)]


def _icacls() -> str:
    """icacls.exe from System32 on Windows (never a namesake on PATH); elsewhere from PATH."""
    if os.name == "nt":
        return os.path.join(os.environ.get("SystemRoot", r"C:\Windows"), "System32", "icacls.exe")
    return "icacls"


def query(path: str) -> list[Ace]:
    """Run ``icacls PATH`` and parse it; raise IcaclsError with icacls' own words on failure."""
    try:
        done = subprocess.run([_icacls(), path], capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise IcaclsMissing(f"cannot run icacls: {exc}") from None
    encoding = "oem" if os.name == "nt" else "utf-8"   # console programs write the OEM code page
    out = done.stdout.decode(encoding, errors="replace")
    if done.returncode != 0:
        said = (done.stderr.decode(encoding, errors="replace") or out).strip().splitlines()
        raise IcaclsError(said[0] if said else f"icacls exited with {done.returncode}")
    return parse_icacls(out, path)
