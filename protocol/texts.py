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
from protocol.messages import AckCode, PcCommand, PcCommandKind, Room

LANGS = ("id", "en")   # the order of each catalogue pair

PC_TEXTS: dict[str, tuple[str, str]] = {  # key: (Bahasa Indonesia, English)
    # What a PC command says (written by the edge): title, text, chat text, by kind; "hold" is
    # sent as a notice: the shutdown waits until the recording is converted.
    "notice.command.title": ("Listrik padam: ruangan memakai baterai UPS",
                             "Power cut: the room runs on the UPS battery"),
    "notice.command.text": ("Listrik PLN padam. Komputer rapat berjalan dengan baterai UPS, "
                            "cukup untuk {minutes} lagi. Mohon sampaikan kepada peserta dan "
                            "bersiap menutup rapat dengan tertib. Rekaman akan disimpan "
                            "otomatis sebelum baterai habis.",
                            "Mains power is off. The meeting PC runs on the UPS battery, "
                            "enough for {minutes} more. Please tell the participants and "
                            "prepare to close the meeting in good order. The recording will be "
                            "saved automatically before the battery runs out."),
    "notice.command.chat": ("Mohon maaf, listrik di {place} sedang padam. Rapat tetap berjalan "
                            "dengan daya cadangan (UPS) untuk {minutes}. Bila sambungan kami "
                            "terputus, itu karena pemadaman listrik; rekaman rapat tetap kami "
                            "amankan dan kami akan segera kembali.",
                            "Apologies: mains power at {place} is out. The meeting continues "
                            "on backup power (UPS) for {minutes}. If we drop out, it is the "
                            "power cut; the recording is safe and we will be back as soon as "
                            "we can."),
    "wrapup.command.title": ("Daya UPS tinggal {minutes}: rekaman disimpan",
                             "UPS power for {minutes} more: saving the recording"),
    "wrapup.command.text": ("Sisa daya: {minutes}. Siaga sedang menyimpan rekaman rapat. Mohon "
                            "akhiri rapat atau sampaikan kepada peserta bahwa rapat akan "
                            "terputus.",
                            "Power left: {minutes}. Siaga is saving the meeting recording. "
                            "Please close the meeting or tell the participants it will drop."),
    "wrapup.command.chat": ("Mohon maaf, daya cadangan di {place} tinggal {minutes}. Rapat "
                            "akan kami akhiri sebelum itu; rekaman rapat sudah diamankan. "
                            "Terima kasih atas pengertiannya.",
                            "Apologies: backup power at {place} lasts only {minutes} more. We "
                            "will end the meeting before then; the recording has been saved. "
                            "Thank you for your patience."),
    "shutdown.command.title": ("Komputer akan dimatikan dengan aman",
                               "The PC will shut down safely"),
    # No seconds here: the PC waits the shorter of its own grace and the edge's, and the
    # banner's countdown below this text says how long (one number, the true one).
    "shutdown.command.text": ("Baterai UPS hampir habis. Komputer akan segera dimatikan dengan "
                              "aman agar rekaman dan berkas tidak rusak. Simpan pekerjaan Anda "
                              "sekarang.",
                              "The UPS battery is nearly empty. The PC will shortly shut down "
                              "safely so that the recording and files are not damaged. Save "
                              "your work now."),
    "shutdown.command.chat": ("Mohon maaf, daya cadangan di {place} habis dan komputer rapat "
                              "dimatikan. Rapat akan dilanjutkan atau dijadwalkan ulang "
                              "setelah listrik kembali.",
                              "Apologies: backup power at {place} has run out and the meeting "
                              "PC is shutting down. The meeting will resume or be rescheduled "
                              "once power is back."),
    "hold.command.title": ("Komputer dimatikan setelah konversi selesai",
                           "The PC shuts down after the conversion"),
    "hold.command.text": ("Baterai UPS hampir habis (sisa {minutes}). Rekaman rapat sedang "
                          "dikonversi; komputer akan dimatikan dengan aman setelah konversi "
                          "selesai, atau lebih awal bila baterai tinggal sedikit. Jangan "
                          "matikan komputer sekarang.",
                          "The UPS battery is nearly empty ({minutes} left). The meeting "
                          "recording is being converted; the PC will shut down safely once the "
                          "conversion ends, or earlier if the battery runs too low. Do not "
                          "switch the PC off now."),
    "hold.command.chat": ("Mohon maaf, daya cadangan di {place} hampir habis. Rekaman rapat "
                          "sedang disimpan; komputer rapat akan dimatikan setelah itu.",
                          "Apologies: backup power at {place} is nearly exhausted. The meeting "
                          "recording is being saved; the meeting PC will shut down after that."),
    "cancel.command.title": ("Listrik kembali menyala", "Power is back"),
    "cancel.command.text": ("Listrik PLN sudah kembali. Komputer tidak akan dimatikan; rapat "
                            "dapat dilanjutkan.",
                            "Mains power has returned. The PC will not be shut down; the "
                            "meeting can go on."),
    "cancel.command.chat": ("Listrik di {place} sudah kembali normal. Terima kasih atas "
                            "kesabarannya.",
                            "Power at {place} is back to normal. Thank you for your patience."),
    "test.command.title": ("Uji pemberitahuan Siaga", "Siaga notice test"),
    "test.command.text": ("Ini hanya uji coba dari tim TI. Tidak ada pemadaman listrik. UPS: "
                          "{minutes}.",
                          "This is only a test from IT. There is no power cut. UPS: {minutes}."),
    "test.command.chat": ("Uji coba pesan Siaga dari {place}: abaikan pesan ini.",
                          "Siaga message test from {place}: please ignore this message."),
    # The banner's own words (drawn by the agent).
    "notice.title": ("Listrik padam", "Power outage"),
    "notice.text": ("Komputer rapat sekarang memakai baterai UPS. Simpan pekerjaan Anda.",
                    "The meeting PC now runs on UPS battery. Save your work."),
    "wrapup.title": ("Daya UPS tinggal beberapa menit", "UPS power for a few minutes more"),
    "wrapup.text": ("Rapat akan segera diakhiri. Rekaman sedang disimpan.",
                    "The meeting will end soon. The recording is being saved."),
    "shutdown.title": ("Komputer akan dimatikan", "This PC will shut down"),
    "shutdown.text": ("Baterai UPS hampir habis. Komputer dimatikan dengan aman.",
                      "The UPS battery is almost empty. The PC shuts down cleanly."),
    # The shutdown command ran and the PC is still up (polkit refused, an app blocked it): the
    # countdown gives way to this, and the people in the room must do it themselves.
    "not_off.title": ("Komputer tidak dapat mati sendiri", "This PC could not shut itself down"),
    "not_off.text": ("Simpan pekerjaan Anda dan matikan komputer ini secara manual sekarang, "
                     "sebelum baterai UPS habis.",
                     "Save your work and shut this PC down by hand now, before the UPS battery "
                     "runs out."),
    "test.title": ("Uji coba Siaga", "Siaga test"),
    "test.text": ("Ini hanya uji coba. Tidak ada gangguan listrik.",
                  "This is only a test. There is no power problem."),
    "cancel.title": ("Listrik kembali normal", "Power restored"),
    "cancel.text": ("Daya listrik sudah pulih. Rapat dapat dilanjutkan.",
                    "Mains power is back. The meeting can go on."),
    "runtime": ("Sisa daya UPS: {minutes}", "UPS battery left: {minutes}"),
    "countdown": ("Komputer dimatikan dalam {seconds} detik",
                  "This PC shuts down in {seconds} seconds"),
    "countdown.one": ("Komputer dimatikan dalam 1 detik", "This PC shuts down in 1 second"),
    "countdown.done": ("Komputer sedang dimatikan...", "Shutting down..."),
    "copy": ("Salin pesan untuk chat rapat", "Copy message for the meeting chat"),
    "copied": ("Tersalin. Tempel di chat dengan Ctrl+V",
               "Copied. Paste it in the chat with Ctrl+V"),
    "close": ("Tutup", "Close"),
}
# Each command's (title, text, chat text) keys, by kind.
COMMAND_KEYS: dict[str, tuple[str, str, str]] = {
    "notice": ("notice.command.title", "notice.command.text", "notice.command.chat"),
    "wrapup": ("wrapup.command.title", "wrapup.command.text", "wrapup.command.chat"),
    "shutdown": ("shutdown.command.title", "shutdown.command.text", "shutdown.command.chat"),
    "hold": ("hold.command.title", "hold.command.text", "hold.command.chat"),
    "cancel": ("cancel.command.title", "cancel.command.text", "cancel.command.chat"),
    "test": ("test.command.title", "test.command.text", "test.command.chat"),
}

PLACE = {"id": "ruang rapat kami", "en": "our meeting room"}

# The same texts by language, as the banner and the command writer read them.
TEXTS: dict[str, dict[str, tuple[str, ...]]] = {
    kind: {lang: tuple(PC_TEXTS[key][i] for key in keys) for i, lang in enumerate(LANGS)}
    for kind, keys in COMMAND_KEYS.items()}
BANNER_TEXTS: dict[str, dict[str, str]] = {
    lang: {key: pair[i] for key, pair in PC_TEXTS.items() if ".command." not in key}
    for i, lang in enumerate(LANGS)}

# The banner's own title and text for a command that carries none, by its kind.
BANNER_TITLE: dict[str, str] = {
    PcCommandKind.NOTICE: "notice.title", PcCommandKind.WRAPUP: "wrapup.title",
    PcCommandKind.SHUTDOWN: "shutdown.title", PcCommandKind.CANCEL: "cancel.title",
    PcCommandKind.TEST: "test.title"}
BANNER_BODY: dict[str, str] = {
    PcCommandKind.NOTICE: "notice.text", PcCommandKind.WRAPUP: "wrapup.text",
    PcCommandKind.SHUTDOWN: "shutdown.text", PcCommandKind.CANCEL: "cancel.text",
    PcCommandKind.TEST: "test.text"}
# The kinds whose banner offers the chat-text button.
COPY_KINDS = (PcCommandKind.NOTICE, PcCommandKind.WRAPUP, PcCommandKind.TEST)


def minutes_text(runtime_s: float | None, lang: str) -> str:
    """The runtime left as protocol/durations.py writes it ("8 mnt", "< 1 mnt": rounded down, never
    promise more battery than there is); 'beberapa menit' / 'a few minutes' when unknown."""
    en = lang == "en"
    if runtime_s is None or runtime_s < 0:
        return "a few minutes" if en else "beberapa menit"
    return duration(runtime_s, lang, Span.AVAILABLE)


def command_texts(kind: str, lang: str, place: str,
                  runtime_s: float | None) -> tuple[str, str, str]:
    """(title, text, chat_text) of a PC command, in ``lang`` ("id" unless "en")."""
    lang = "en" if lang == "en" else "id"
    title, text, chat = TEXTS[kind][lang]
    values = {"minutes": minutes_text(runtime_s, lang), "place": place or PLACE[lang]}
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
    title = cmd.title or text(language, BANNER_TITLE[cmd.kind])
    copy = cmd.kind in COPY_KINDS and bool(cmd.chat_text)
    return {
        "op": "show",
        "kind": cmd.kind,
        "window_title": f"Siaga - {title}",
        "title": title,
        "body": cmd.text or text(language, BANNER_BODY[cmd.kind]),
        "runtime": "" if cmd.kind == PcCommandKind.CANCEL else runtime_line(language, cmd.runtime_s),
        "chat_text": cmd.chat_text if copy else "",
        "copy_label": text(language, "copy"),
        "copied_label": text(language, "copied"),
        "close_label": text(language, "close"),
        "countdown": text(language, "countdown", seconds="{seconds}"),
        "countdown_one": text(language, "countdown.one"),
        "countdown_done": text(language, "countdown.done"),
        "countdown_s": None if countdown_s is None else max(0, int(round(countdown_s))),
        "close_after_s": close_after_s,
    }


def not_off_view(language: str) -> dict[str, Any]:
    """The banner once the shutdown command ran and left the PC up: no countdown, no minutes (the
    shutdown command's are stale by now); it stays until the host closes it or the next command."""
    title = text(language, "not_off.title")
    return {"op": "show", "kind": "not_off", "window_title": f"Siaga - {title}", "title": title,
            "body": text(language, "not_off.text"), "runtime": "", "chat_text": "",
            "copy_label": text(language, "copy"), "copied_label": text(language, "copied"),
            "close_label": text(language, "close"), "countdown_s": None, "close_after_s": None}


# What an agent's ack says, by its code (protocol/messages.py AckCode): the page writes the timeline's
# answers from it in the page's language, the agent its OBS failures in the PC's. key -> (id, en).
ACK_TEXTS: dict[AckCode, tuple[str, str]] = {
    AckCode.BANNER: ("banner tampil di layar", "banner shown on the screen"),
    AckCode.NO_DISPLAY_LOGGED: ("tidak ada layar untuk banner; hanya dicatat di log",
                                "no screen to show the banner on; noted in its log"),
    AckCode.BANNER_OFF_LOGGED: ("banner dimatikan di PC itu; hanya dicatat di log",
                                "the banner is turned off on that PC; noted in its log"),
    AckCode.SHUTDOWN_IN: ("mati dalam {seconds} dtk", "shuts down in {seconds} s"),
    AckCode.SHUTDOWN_PENDING: ("pematian sudah berjalan", "a shutdown is already under way"),
    AckCode.SHUTDOWN_CANCELLED: ("pematian dibatalkan", "shutdown cancelled"),
    # {output}: the last line the command printed, quoted after a colon, or nothing.
    AckCode.SHUTDOWN_FAILED: ("{command} gagal dengan kode keluar {status}{output}",
                              "{command} failed with exit status {status}{output}"),
    AckCode.SHUTDOWN_TIMEOUT: ("{command} tidak selesai dalam {duration}{output}",
                               "{command} did not finish within {duration}{output}"),
    AckCode.SHUTDOWN_NOT_RUN: ("{command} tidak dapat dijalankan: {error}",
                               "{command} cannot run: {error}"),
    AckCode.NOTHING_TO_CANCEL: ("tidak ada yang dibatalkan", "nothing to cancel"),
    AckCode.WRAPUP_STARTED: ("perintah simpan rekaman dijalankan", "wrap-up command started"),
    AckCode.WRAPUP_RUNNING: ("simpan rekaman sudah berjalan", "the wrap-up is already running"),
    AckCode.NO_WRAPUP_COMMAND: ("perintah simpan rekaman belum diatur di PC itu",
                                "no wrap-up command is set up on that PC"),
    AckCode.ALREADY_HANDLED: ("sudah dijalankan sebelumnya", "already done before"),
    AckCode.EXPIRED: ("perintah terlambat diterima (kedaluwarsa)",
                      "the command arrived too late (expired)"),
    AckCode.REJECTED: ("ditolak: {reason}", "refused: {reason}"),
    AckCode.REFUSED: ("ditolak, tanda tangan tidak sah: {reason}",
                      "refused, not validly signed: {reason}"),
    AckCode.SAVED: ("rekaman tersimpan sebagai {file} ({size})",
                    "recording saved as {file} ({size})"),
    # Said when OBS runs but does not answer (its WebSocket server is off), or runs elsewhere;
    # an agent before 0.2 said it also with no OBS at all on the PC (now "not recording").
    AckCode.OBS_UNREACHABLE: (
        "tidak ada jawaban dari OBS di {where}: OBS tidak berjalan atau server WebSocket-nya "
        "mati; jika OBS merekam, rekaman tidak dihentikan",
        "no answer from OBS on {where}: OBS is not running or its WebSocket server is off; if "
        "OBS records, the recording was not stopped"),
    AckCode.OBS_NOT_WEBSOCKET: ("OBS di {where} tidak menjawab sebagai obs-websocket 5 ({error})",
                                "OBS on {where} does not answer as obs-websocket 5 ({error})"),
    AckCode.OBS_PASSWORD: (
        "OBS menolak kata sandi obs-websocket (agent.obs.password_file); rekaman tidak dihentikan",
        "OBS refused the obs-websocket password (agent.obs.password_file); the recording was "
        "not stopped"),
    AckCode.OBS_NO_ANSWER: (
        "OBS di {where} tidak menjawab dalam {seconds} detik; rekaman tidak dihentikan",
        "OBS on {where} did not answer within {seconds} s; the recording was not stopped"),
    AckCode.OBS_TIMEOUT: ("OBS tidak melaporkan berkas rekaman tersimpan dalam {seconds} detik",
                          "OBS did not report the recording file written within {seconds} s"),
    AckCode.OBS_REFUSED: ("OBS menolak {request}: {comment}", "OBS refused {request}: {comment}"),
    AckCode.OBS_NOT_RECORDING: ("OBS tidak sedang merekam: tidak ada rekaman untuk disimpan",
                                "OBS was not recording: nothing to save"),
}
# A saved recording whose size is not known.
SAVED_NO_SIZE = ("rekaman tersimpan sebagai {file}", "recording saved as {file}")


def ack_sentence(code: str, lang: str, **values: Any) -> str | None:
    """The ack ``code`` as a sentence in ``lang`` ("id" unless "en"), its placeholders filled
    from ``values`` (already written for people); None for a code this version does not know
    or values that do not fill it (a newer or broken agent: the reader shows ``detail``)."""
    try:
        pair = ACK_TEXTS[AckCode(code)]
    except ValueError:
        return None
    if code == AckCode.SAVED and values.get("size") is None:
        pair = SAVED_NO_SIZE
    try:
        return pair[1 if lang == "en" else 0].format(**values)
    except (KeyError, IndexError, ValueError):
        return None


def size_parts(size: int) -> tuple[float, int, str]:
    """A file size as (value, decimals, unit) in decimal units, one decimal place below 10:
    1_234_567_890 -> (1.23..., 1, "GB"); each reader writes the number its own way."""
    value, unit = float(size), "B"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            break
        value /= 1000
    return (float(size), 0, "B") if unit == "B" else (value, 1 if value < 10 else 0, unit)


# Home Assistant (edge/homeassistant.py): the names of the room's entities and the words of the
# room state, in the site's language; the room words are the status page's (the edge cannot
# import the dashboard's catalogue). key -> (id, en).
HA_TEXTS: dict[str, tuple[str, str]] = {
    "room": ("Status ruangan", "Room state"),
    "on_battery": ("Memakai baterai", "On battery"),
    "charge": ("Muatan baterai", "Battery charge"),
    "runtime": ("Sisa waktu baterai", "Battery runtime"),
    "load": ("Beban UPS {ups}", "UPS {ups} load"),
    "input_voltage": ("Tegangan masuk UPS {ups}", "UPS {ups} input voltage"),
    "pc_online": ("PC {pc} menyala", "PC {pc} online"),
    "silenced": ("Buzzer dibisukan", "Buzzer silenced"),
    "silence": ("Bisukan buzzer", "Silence buzzer"),
}
# The room state's words, by room (the page's words for the same rooms).
HA_ROOM: dict[Room, tuple[str, str]] = {
    Room.READY: ("Siap", "Ready"),
    Room.ATTENTION: ("Perlu dicek", "Needs attention"),
    Room.ON_BATTERY: ("Listrik padam: pakai baterai", "Power cut: on battery"),
    Room.WRAPUP: ("Sisa daya UPS tinggal beberapa menit: simpan rekaman",
                  "UPS has minutes left: wrap up"),
    Room.SHUTDOWN: ("PC sedang dimatikan", "Shutting the PC down"),
    Room.FAULT: ("UPS tidak terbaca", "UPS cannot be read"),
}


def ha_text(language: str, key: str, **values: Any) -> str:
    """One Home Assistant name in ``language`` (Indonesian for anything else)."""
    return HA_TEXTS[key][1 if language == "en" else 0].format(**values)


def ha_room(language: str, room: Room) -> str:
    """The room state's word for Home Assistant in ``language``."""
    return HA_ROOM[room][1 if language == "en" else 0]
