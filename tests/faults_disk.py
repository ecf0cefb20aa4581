"""Real disk faults for the journal: a small tmpfs filled to the last byte, an immutable file.

Both need root: as another user the commands run under ``sudo -n`` (CI's runner has it).
Neither is simulated:
- full: the journal lives on its own 8 MB tmpfs; ``fill()`` writes a filler file until the
  kernel answers ENOSPC, which SQLite reports as SQLITE_FULL ("database or disk is full"), the
  path a full SD card takes. (``prlimit --fsize`` would give EFBIG, which SQLite reports as a
  generic I/O error, and SIGXFSZ to a process that does not ignore it: not the same path.)
- read-only: root ignores mode bits, and a filesystem with an open writable file cannot be
  remounted read-only (EBUSY), so ``chattr +i`` makes the journal file and its WAL immutable:
  every write, even on an already open descriptor, fails with EPERM. The -shm index is left
  alone: SQLite maps it into memory, and a write to a map of an immutable file is SIGBUS.
"""

from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

TMPFS_SIZE = "8m"


class JournalDisk:
    """A directory for the journal on a tmpfs of its own, unmounted by ``close``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        as_root(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE},mode=1777", "tmpfs",
                 str(directory)])
        self.filler = directory / "filler"
        self.path = directory / "journal.sqlite3"

    def fill(self) -> int:
        """Write until the disk is full; bytes written."""
        written = 0
        with open(self.filler, "ab", buffering=0) as f:
            block = b"\0" * 65536
            while True:
                try:
                    written += f.write(block)
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    if len(block) == 1:
                        return written
                    block = block[: len(block) // 2]

    def free(self) -> None:
        """Remove the filler: the disk has room again."""
        self.filler.unlink(missing_ok=True)

    def close(self) -> None:
        """Unmount the tmpfs (lazily: a process still holding the journal does not stop it)."""
        as_root(["umount", "-l", str(self.directory)], check=False)


def journal_files(path: Path) -> list[str]:
    """The journal and its WAL (the files a write goes to), those that exist."""
    return [str(p) for p in (path, Path(f"{path}-wal")) if p.exists()]


def make_read_only(path: Path) -> None:
    """chattr +i on the journal and its WAL."""
    _chattr("+i", path)


def make_writable(path: Path) -> None:
    """chattr -i on the journal and its WAL."""
    _chattr("-i", path)


def _chattr(flag: str, path: Path) -> None:
    """``chattr flag`` on each journal file that exists. SQLite deletes the WAL when the last
    connection closes, so the WAL may vanish between listing it and changing it (CI once saw
    that, as the edge closed its journal): a file that is gone needs no flag."""
    for name in journal_files(path):
        done = as_root(["chattr", flag, name], check=False)
        if done.returncode != 0 and Path(name).exists():
            raise RuntimeError(f"chattr {flag} {name}: {done.stderr.decode(errors='replace').strip()}")


def as_root(argv: list[str], check: bool = True) -> subprocess.CompletedProcess:
    """Run ``argv`` as root: directly when we are, else with ``sudo -n`` (fails, never asks)."""
    prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]
    return subprocess.run(prefix + argv, check=check, capture_output=True)
