"""What the host reads on the meeting PC: command titles, banner texts and the chat message.

Bahasa Indonesia first (``site.language = "id"``), English second. Pure functions of their inputs.
"""

from __future__ import annotations

TEXTS: dict[str, dict[str, tuple[str, str, str]]] = {
    # kind: lang: (title, text, chat_text)
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
        "id": ("Baterai UPS hampir habis: rekaman disimpan",
               "Sisa daya: {minutes}. Siaga sedang menyimpan rekaman rapat. Mohon akhiri "
               "rapat atau sampaikan kepada peserta bahwa rapat akan terputus.",
               "Mohon maaf, daya cadangan di {place} hampir habis. Rapat akan kami akhiri dalam "
               "beberapa menit; rekaman rapat sudah diamankan. Terima kasih atas pengertiannya."),
        "en": ("UPS battery nearly empty: saving the recording",
               "Power left: {minutes}. Siaga is saving the meeting recording. Please "
               "close the meeting or tell the participants it will drop.",
               "Apologies: backup power at {place} is nearly exhausted. We will end the meeting "
               "within a few minutes; the recording has been saved. Thank you for your patience."),
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


def minutes_text(runtime_s: float | None, lang: str) -> str:
    """'sekitar 25 menit' / 'about 25 minutes'; 'beberapa menit' / 'a few minutes' when unknown."""
    if runtime_s is None:
        return "beberapa menit" if lang == "id" else "a few minutes"
    minutes = max(1, round(runtime_s / 60))
    if lang == "id":
        return f"sekitar {minutes} menit"
    return f"about {minutes} minute" + ("" if minutes == 1 else "s")


def command_texts(kind: str, lang: str, place: str, runtime_s: float | None,
                  grace_s: float) -> tuple[str, str, str]:
    """(title, text, chat_text) of a PC command, in ``lang`` ("id" unless "en")."""
    lang = "en" if lang == "en" else "id"
    title, text, chat = TEXTS[kind][lang]
    values = {"minutes": minutes_text(runtime_s, lang), "place": place or PLACE[lang],
              "grace": int(grace_s)}
    return title, text.format(**values), chat.format(**values)
