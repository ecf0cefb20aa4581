"""What the banner says, in Bahasa Indonesia (default) and English.

The edge already writes the title, text and chat message of a command in the site's language;
these strings are the banner's own (buttons, countdown, minutes left) and the fall-backs for a
command that arrives without a title or text. ``banner_view`` is pure: it turns one command into
the plain dict the banner window process draws.
"""

from __future__ import annotations

from typing import Any

from edge.messages import PcCommand

TEXTS: dict[str, dict[str, str]] = {
    "id": {
        "notice.title": "Listrik padam",
        "notice.text": "Komputer rapat sekarang memakai baterai UPS. Simpan pekerjaan Anda.",
        "wrapup.title": "Baterai UPS hampir habis",
        "wrapup.text": "Rapat akan segera diakhiri. Rekaman sedang disimpan.",
        "shutdown.title": "Komputer akan dimatikan",
        "shutdown.text": "Baterai UPS hampir habis. Komputer dimatikan dengan aman.",
        "test.title": "Uji coba Siaga",
        "test.text": "Ini hanya uji coba. Tidak ada gangguan listrik.",
        "cancel.title": "Listrik kembali normal",
        "cancel.text": "Daya listrik sudah pulih. Rapat dapat dilanjutkan.",
        "runtime": "Sisa daya UPS: sekitar {minutes} menit",
        "runtime.one": "Sisa daya UPS: sekitar 1 menit",
        "runtime.short": "Sisa daya UPS: kurang dari 1 menit",
        "countdown": "Komputer dimatikan dalam {seconds} detik",
        "countdown.done": "Komputer sedang dimatikan...",
        "copy": "Salin pesan untuk chat rapat",
        "copied": "Tersalin. Tempel di chat dengan Ctrl+V",
        "close": "Tutup",
    },
    "en": {
        "notice.title": "Power outage",
        "notice.text": "The meeting PC now runs on UPS battery. Save your work.",
        "wrapup.title": "UPS battery almost empty",
        "wrapup.text": "The meeting will end soon. The recording is being saved.",
        "shutdown.title": "This PC will shut down",
        "shutdown.text": "The UPS battery is almost empty. The PC shuts down cleanly.",
        "test.title": "Siaga test",
        "test.text": "This is only a test. There is no power problem.",
        "cancel.title": "Power restored",
        "cancel.text": "Mains power is back. The meeting can go on.",
        "runtime": "UPS battery left: about {minutes} minutes",
        "runtime.one": "UPS battery left: about 1 minute",
        "runtime.short": "UPS battery left: less than 1 minute",
        "countdown": "This PC shuts down in {seconds} seconds",
        "countdown.done": "Shutting down...",
        "copy": "Copy message for the meeting chat",
        "copied": "Copied. Paste it in the chat with Ctrl+V",
        "close": "Close",
    },
}

COPY_KINDS = ("notice", "wrapup", "test")  # kinds whose banner offers the chat-text button


def text(language: str, key: str, **values: Any) -> str:
    """One banner string in ``language`` ("id" when the language is unknown)."""
    table = TEXTS.get(language, TEXTS["id"])
    return table[key].format(**values)


def runtime_line(language: str, runtime_s: float | None) -> str:
    """'Sisa daya UPS: sekitar 25 menit', rounded down; '' when the runtime is unknown."""
    if runtime_s is None or runtime_s < 0:
        return ""
    minutes = int(runtime_s // 60)
    if minutes < 1:
        return text(language, "runtime.short")
    if minutes == 1:
        return text(language, "runtime.one")
    return text(language, "runtime", minutes=minutes)


def banner_view(cmd: PcCommand, language: str, *, countdown_s: float | None = None,
                close_after_s: float | None = None) -> dict[str, Any]:
    """The banner for ``cmd``: every string already in ``language``, ready to draw."""
    title = cmd.title or text(language, f"{cmd.kind}.title")
    copy = cmd.kind in COPY_KINDS and bool(cmd.chat_text)
    return {
        "op": "show",
        "kind": cmd.kind,
        "window_title": f"Siaga - {title}",
        "title": title,
        "body": cmd.text or text(language, f"{cmd.kind}.text"),
        "runtime": "" if cmd.kind == "cancel" else runtime_line(language, cmd.runtime_s),
        "chat_text": cmd.chat_text if copy else "",
        "copy_label": text(language, "copy"),
        "copied_label": text(language, "copied"),
        "close_label": text(language, "close"),
        "countdown": text(language, "countdown", seconds="{seconds}"),
        "countdown_done": text(language, "countdown.done"),
        "countdown_s": None if countdown_s is None else max(0, int(round(countdown_s))),
        "close_after_s": close_after_s,
    }
