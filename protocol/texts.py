"""Every word the meeting PC shows, in one catalogue: command texts (written by the edge in the
site's language) and the banner's own strings (drawn by the agent). Minutes are written by
protocol/durations.py, the one formatter of the page, alerts and report too, so the banner says "8 mnt"
where the dashboard says "8 mnt".

Bahasa Indonesia first (``site.language = "id"``), English second. Pure functions of their
inputs; imports nothing of the Pi (the meeting PC's agent imports this module).
"""

from __future__ import annotations

from typing import Any

from protocol.durations import Span, duration
from protocol.messages import PcCommand

TEXTS: dict[str, dict[str, tuple[str, str, str]]] = {  # kind: lang: (title, text, chat)
    "notice": {
        "id": ("Listrik padam: ruangan memakai baterai UPS",
               "Listrik PLN padam. Komputer rapat berjalan dengan baterai UPS, cukup untuk "
               "{minutes} lagi. Mohon sampaikan kepada peserta dan bersiap menutup rapat dengan "
               "tertib. Rekaman akan disimpan otomatis sebelum baterai habis.",
               "Mohon maaf, listrik di {place} sedang padam. Rapat tetap berjalan dengan daya "
               "cadangan (UPS) untuk {minutes}. Bila sambungan kami terputus, itu karena "
               "pemadaman listrik; rekaman rapat tetap kami amankan dan kami akan segera kembali."),
        "en": ("Power cut: the room runs on the UPS battery",
               "Mains power is off. The meeting PC runs on the UPS battery, enough for {minutes} "
               "more. Please tell the participants and prepare to close the meeting in good "
               "order. The recording will be saved automatically before the battery runs out.",
               "Apologies: mains power at {place} is out. The meeting continues on backup power "
               "(UPS) for {minutes}. If we drop out, it is the power cut; the recording "
               "is safe and we will be back as soon as we can."),
    },
    "wrapup": {
        "id": ("Daya UPS tinggal {minutes}: rekaman disimpan",
               "Sisa daya: {minutes}. Siaga sedang menyimpan rekaman rapat. Mohon akhiri "
               "rapat atau sampaikan kepada peserta bahwa rapat akan terputus.",
               "Mohon maaf, daya cadangan di {place} tinggal {minutes}. Rapat akan kami akhiri "
               "sebelum itu; rekaman rapat sudah diamankan. Terima kasih atas pengertiannya."),
        "en": ("UPS power for {minutes} more: saving the recording",
               "Power left: {minutes}. Siaga is saving the meeting recording. Please "
               "close the meeting or tell the participants it will drop.",
               "Apologies: backup power at {place} lasts only {minutes} more. We will end the "
               "meeting before then; the recording has been saved. Thank you for your patience."),
    },
    "shutdown": {
        "id": ("Komputer akan dimatikan dengan aman",
               "Baterai UPS hampir habis. Komputer akan dimatikan dengan aman dalam {grace} detik "
               "agar rekaman dan berkas tidak rusak. Simpan pekerjaan Anda sekarang.",
               "Mohon maaf, daya cadangan di {place} habis dan komputer rapat dimatikan. Rapat "
               "akan dilanjutkan atau dijadwalkan ulang setelah listrik kembali."),
        "en": ("The PC will shut down safely",
               "The UPS battery is nearly empty. The PC will shut down safely in {grace} seconds "
               "so that the recording and files are not damaged. Save your work now.",
               "Apologies: backup power at {place} has run out and the meeting PC is shutting "
               "down. The meeting will resume or be rescheduled once power is back."),
    },
    "hold": {  # sent as a notice: the shutdown waits until the recording is converted
        "id": ("Komputer dimatikan setelah konversi selesai",
               "Baterai UPS hampir habis (sisa {minutes}). Rekaman rapat sedang dikonversi; "
               "komputer akan dimatikan dengan aman setelah konversi selesai, atau lebih awal "
               "bila baterai tinggal sedikit. Jangan matikan komputer sekarang.",
               "Mohon maaf, daya cadangan di {place} hampir habis. Rekaman rapat sedang "
               "disimpan; komputer rapat akan dimatikan setelah itu."),
        "en": ("The PC shuts down after the conversion",
               "The UPS battery is nearly empty ({minutes} left). The meeting recording is being "
               "converted; the PC will shut down safely once the conversion ends, or earlier if "
               "the battery runs too low. Do not switch the PC off now.",
               "Apologies: backup power at {place} is nearly exhausted. The meeting recording is "
               "being saved; the meeting PC will shut down after that."),
    },
    "cancel": {
        "id": ("Listrik kembali menyala",
               "Listrik PLN sudah kembali. Komputer tidak akan dimatikan; rapat dapat dilanjutkan.",
               "Listrik di {place} sudah kembali normal. Terima kasih atas kesabarannya."),
        "en": ("Power is back",
               "Mains power has returned. The PC will not be shut down; the meeting can go on.",
               "Power at {place} is back to normal. Thank you for your patience."),
    },
    "test": {
        "id": ("Uji pemberitahuan Siaga",
               "Ini hanya uji coba dari tim TI. Tidak ada pemadaman listrik. UPS: {minutes}.",
               "Uji coba pesan Siaga dari {place}: abaikan pesan ini."),
        "en": ("Siaga notice test",
               "This is only a test from IT. There is no power cut. UPS: {minutes}.",
               "Siaga message test from {place}: please ignore this message."),
    },
}

PLACE = {"id": "ruang rapat kami", "en": "our meeting room"}

BANNER_TEXTS: dict[str, dict[str, str]] = {  # language: key: text
    "id": {
        "notice.title": "Listrik padam",
        "notice.text": "Komputer rapat sekarang memakai baterai UPS. Simpan pekerjaan Anda.",
        "wrapup.title": "Daya UPS tinggal beberapa menit",
        "wrapup.text": "Rapat akan segera diakhiri. Rekaman sedang disimpan.",
        "shutdown.title": "Komputer akan dimatikan",
        "shutdown.text": "Baterai UPS hampir habis. Komputer dimatikan dengan aman.",
        "test.title": "Uji coba Siaga",
        "test.text": "Ini hanya uji coba. Tidak ada gangguan listrik.",
        "cancel.title": "Listrik kembali normal",
        "cancel.text": "Daya listrik sudah pulih. Rapat dapat dilanjutkan.",
        "runtime": "Sisa daya UPS: {minutes}",
        "countdown": "Komputer dimatikan dalam {seconds} detik",
        "countdown.done": "Komputer sedang dimatikan...",
        "copy": "Salin pesan untuk chat rapat",
        "copied": "Tersalin. Tempel di chat dengan Ctrl+V",
        "close": "Tutup",
    },
    "en": {
        "notice.title": "Power outage",
        "notice.text": "The meeting PC now runs on UPS battery. Save your work.",
        "wrapup.title": "UPS power for a few minutes more",
        "wrapup.text": "The meeting will end soon. The recording is being saved.",
        "shutdown.title": "This PC will shut down",
        "shutdown.text": "The UPS battery is almost empty. The PC shuts down cleanly.",
        "test.title": "Siaga test",
        "test.text": "This is only a test. There is no power problem.",
        "cancel.title": "Power restored",
        "cancel.text": "Mains power is back. The meeting can go on.",
        "runtime": "UPS battery left: {minutes}",
        "countdown": "This PC shuts down in {seconds} seconds",
        "countdown.done": "Shutting down...",
        "copy": "Copy message for the meeting chat",
        "copied": "Copied. Paste it in the chat with Ctrl+V",
        "close": "Close",
    },
}

COPY_KINDS = ("notice", "wrapup", "test")  # kinds whose banner offers the chat-text button


def minutes_text(runtime_s: float | None, lang: str) -> str:
    """The runtime left as protocol/durations.py writes it ("8 mnt", "< 1 mnt": rounded down, never
    promise more battery than there is); 'beberapa menit' / 'a few minutes' when unknown."""
    en = lang == "en"
    if runtime_s is None or runtime_s < 0:
        return "a few minutes" if en else "beberapa menit"
    return duration(runtime_s, lang, Span.AVAILABLE)


def command_texts(kind: str, lang: str, place: str, runtime_s: float | None,
                  grace_s: float) -> tuple[str, str, str]:
    """(title, text, chat_text) of a PC command, in ``lang`` ("id" unless "en")."""
    lang = "en" if lang == "en" else "id"
    title, text, chat = TEXTS[kind][lang]
    values = {"minutes": minutes_text(runtime_s, lang), "place": place or PLACE[lang],
              "grace": int(grace_s)}
    return title.format(**values), text.format(**values), chat.format(**values)


def text(language: str, key: str, **values: Any) -> str:
    """One banner string in ``language`` ("id" when the language is unknown)."""
    table = BANNER_TEXTS.get(language, BANNER_TEXTS["id"])
    return table[key].format(**values)


def runtime_line(language: str, runtime_s: float | None) -> str:
    """'Sisa daya UPS: 25 mnt' (the same minutes as the command's text); '' unknown."""
    if runtime_s is None or runtime_s < 0:
        return ""
    lang = "en" if language == "en" else "id"
    return text(lang, "runtime", minutes=minutes_text(runtime_s, lang))


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
