"""A stand-in for Windows' icacls.exe (query only), answering from recorded ACLs.

$SIAGA_FAKE_ICACLS names files of ``icacls PATH`` answers for Windows paths (os.pathsep between
them, a later file wins; the format: tests/fixtures/icacls/README.md). $SIAGA_FAKE_DRIVE is the
test's folder standing for ``C:\\``: a path below it is asked as the Windows path, the folders
above it as ``C:\\`` itself. Anything else, or a path with no recorded answer, fails as icacls
fails, so a missing record fails the test.
"""

import os
import sys
from pathlib import Path


def windows_path(path: str) -> str | None:
    drive = Path(os.environ["SIAGA_FAKE_DRIVE"])
    asked = Path(path)
    if asked == drive or asked in drive.parents:
        return "C:\\"
    if drive in asked.parents:
        return "C:\\" + "\\".join(asked.relative_to(drive).parts)
    return None


def blocks() -> dict[str, list[str]]:
    found = {}
    for name in os.environ["SIAGA_FAKE_ICACLS"].split(os.pathsep):   # a later file wins
        for block in Path(name).read_text(encoding="utf-8").split("\n\n"):
            lines = [line for line in block.splitlines() if line.strip() and line[0] != "#"]
            if lines:
                path, entry = lines[0].split("  ", 1)   # the path, two spaces, the first entry
                found[path.casefold()] = [entry.strip()] + [line.strip() for line in lines[1:]]
    return found


def answer(win: str, recorded: dict[str, list[str]]) -> list[str] | None:
    if win.casefold() in recorded:
        return recorded[win.casefold()]
    parts = win.split("\\")
    for n in range(len(parts) - 1, 0, -1):
        wildcard = "\\".join(parts[:n]) + "\\*"
        if wildcard.casefold() in recorded:
            return recorded[wildcard.casefold()]
    return None


def main(args: list[str]) -> int:
    path = args[0]
    win = windows_path(path)
    entries = answer(win, blocks()) if win else None
    if entries is None:
        print(f"{path}: The system cannot find the file specified.")
        print("Successfully processed 0 files; Failed processing 1 files")
        return 2
    pad = " " * (len(path) + 1)
    print(f"{path} {entries[0]}")
    for entry in entries[1:]:
        print(pad + entry)
    print("\nSuccessfully processed 1 files; Failed processing 0 files")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
