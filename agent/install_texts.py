"""What `siaga agent install` / `uninstall` say (Windows): key -> (Bahasa Indonesia, English)."""

from __future__ import annotations

from typing import Any

TEXTS: dict[str, tuple[str, str]] = {
    "windows_only": ("siaga agent {action}: hanya untuk Windows (Task Scheduler); di Linux "
                     "pakai unit systemd, lihat docs/agent.md",
                     "siaga agent {action}: Windows only (Task Scheduler); on Linux use the "
                     "systemd unit, see docs/agent.md"),
    "missing": ("{path} tidak ada: {fix}", "{path} does not exist: {fix}"),
    "fix_venv": ("buat venv dulu (scripts\\windows\\install-agent.ps1)",
                 "create the venv first (scripts\\windows\\install-agent.ps1)"),
    "fix_config": ("salin dan sunting firmware_config/agent.toml",
                   "copy and edit firmware_config/agent.toml"),
    "fix_code": ("pasang Siaga ke venv ini dengan pip install (bukan pip install -e)",
                 "install Siaga into this venv with pip install (not pip install -e)"),
    "fix_zoom": ("salin scripts\\windows\\zoom-stop-recording.ps1 ke sana",
                 "copy scripts\\windows\\zoom-stop-recording.ps1 there"),
    "no_home": ("{path}: tidak ada baris home; venv ini tidak dibuat oleh python -m venv",
                "{path}: no home line; this venv was not made by python -m venv"),
    "user_python": ("Python {path} ada di profil pengguna: pengguna itu dapat menggantinya, lalu "
                    "tugas SYSTEM menjalankan programnya. Pasang Python untuk semua pengguna "
                    "(python.org, \"Install Python for all users\") atau Python embeddable di "
                    "dalam {folder}, lalu buat venv lagi",
                    "Python {path} is in a user's profile: that user could replace it and the "
                    "SYSTEM task would run their program. Install Python for all users "
                    "(python.org, \"Install Python for all users\") or the embeddable Python "
                    "inside {folder}, then make the venv again"),
    "writable": ("{path}: {who} dapat mengubahnya ({rights}{inherited}); hanya Administrators "
                 "dan SYSTEM yang boleh, karena SYSTEM menjalankannya",
                 "{path}: {who} can change it ({rights}{inherited}); only Administrators and "
                 "SYSTEM may, because SYSTEM runs it"),
    "inherited": (", diwarisi dari folder di atasnya", ", inherited from the folder above"),
    "unreadable": ("{path}: izin aksesnya tidak terbaca: {error}",
                   "{path}: cannot read its permissions: {error}"),
    "not_found": ("{what}: program {program} tidak ditemukan", "{what}: program {program} not found"),
    "refused": ("Tidak ada tugas yang didaftarkan ({count} masalah di atas).",
                "No task was registered ({count} problems above)."),
    "refused_one": ("Tidak ada tugas yang didaftarkan (1 masalah di atas).",
                    "No task was registered (1 problem above)."),
    "schtasks_failed": ("schtasks gagal untuk {task}: {error}", "schtasks failed for {task}: {error}"),
    "registered": ("Tugas terdaftar: {task}", "Task registered: {task}"),
    "installed": ("Selesai. Agen berjalan sekarang dan pada setiap startup; banner mulai pada "
                  "logon berikutnya. Hapus dengan: siaga agent uninstall",
                  "Done. The agent runs now and at every startup; the banner starts at the next "
                  "logon. Remove with: siaga agent uninstall"),
    "zoom_hint": ("Di agent.toml isikan: {line}", "In agent.toml set: {line}"),
    "removed": ("Tugas dihapus: {task}", "Task removed: {task}"),
    "already_gone": ("Tugas {task} sudah tidak ada", "Task {task} was already gone"),
    "nothing_recorded": ("Tidak ada catatan tugas di {path}: tidak ada yang dihapus",
                         "No record of tasks in {path}: nothing removed"),
    "uninstalled": ("Tugas Siaga dihapus; {folder} dibiarkan apa adanya.",
                    "Siaga's tasks removed; {folder} is left as it is."),
}


def say(language: str, key: str, **values: Any) -> str:
    """One message in ``language`` ("id" unless "en")."""
    return TEXTS[key][1 if language == "en" else 0].format(**values)
