"""scripts/backup.sh and install-pi.sh --restore: a Pi's files onto a new SD card (a --root)."""

from __future__ import annotations

import sqlite3
import subprocess
import tarfile
from pathlib import Path

from edge.journal import Journal
from protocol.config import load_config
from tests.install_support import REPO, _as_done, install

BACKUP = REPO / "scripts" / "backup.sh"


def _installed_pi(root: Path) -> Journal:
    """A Pi after install, its config edited, its journal open and written (WAL, live)."""
    install("--root", str(root), "--no-venv")
    conf = root / "etc/siaga/siaga.toml"
    conf.write_text(conf.read_text().replace('id = "bappeda-rr1"', 'id = "dinkes-rr2"'))
    (root / "etc/nut/ups.conf").write_text("[meeting]\n  driver = nutdrv_qx\n  port = auto\n")
    journal = Journal(root / "var/lib/siaga/journal.sqlite3")
    for i in range(20):
        journal.append("dinkes-rr2", 1764270000.0 + i, "power_lost" if i % 2 else "power_restored",
                       {"duration_s": i})
    return journal


def _events(path: Path) -> int:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return db.execute("SELECT count(*) FROM events").fetchone()[0]


def test_backup_then_restore_on_a_new_card_gives_a_working_config(tmp_path: Path) -> None:
    """Backed up while the edge writes, restored into an empty root: the same config (it loads,
    as `siaga check` loads it), passwords that still match NUT, the whole journal, and the
    dry run of the restore printed line for line what the restore then did."""
    old, new, archive = tmp_path / "old", tmp_path / "new", tmp_path / "pi.tar.gz"
    journal = _installed_pi(old)
    try:
        done = subprocess.run(["bash", str(BACKUP), "--root", str(old), "-o", str(archive)],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "saved /var/lib/siaga/journal.sqlite3 (SQLite backup)" in done.stdout
        with tarfile.open(archive) as tar:  # the WAL's content is inside, not beside, the copy
            names = tar.getnames()
        assert "./var/lib/siaga/journal.sqlite3-wal" not in names
    finally:
        journal.close()
    dry = install("--dry-run", "--root", str(new), "--no-venv", "--restore", str(archive)).stdout
    assert not new.exists()
    real = install("--root", str(new), "--no-venv", "--restore", str(archive)).stdout
    assert _as_done(dry) == _as_done(real)
    assert f"+ tar -xzf {archive} -C {new}/" in _as_done(real)
    config = load_config(new / "etc/siaga/siaga.toml")
    assert config.site.id == "dinkes-rr2"
    assert f"password = {config.ups[0].password}" in (new / "etc/nut/upsd.users").read_text()
    assert "nutdrv_qx" in (new / "etc/nut/ups.conf").read_text()
    assert _events(new / "var/lib/siaga/journal.sqlite3") == 20
    assert "systemctl restart nut-driver-enumerator.service" in real


def test_restore_of_a_file_that_is_no_backup_is_refused(tmp_path: Path) -> None:
    """A wrong file: one line, exit 2, nothing written."""
    wrong = tmp_path / "photo.tar.gz"
    with tarfile.open(wrong, "w:gz") as tar:
        tar.add(REPO / "README.md", arcname="README.md")
    done = subprocess.run(["bash", str(REPO / "scripts/install-pi.sh"), "--root",
                           str(tmp_path / "r"), "--restore", str(wrong)],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and "not a backup made by scripts/backup.sh" in done.stderr
    assert not (tmp_path / "r").exists()
