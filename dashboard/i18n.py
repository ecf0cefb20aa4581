"""What the status page says, in Bahasa Indonesia and English, and how it writes numbers and times.

A small catalogue instead of gettext: one dict per language, keyed by an English name. A key
missing in a language falls back to English, then to the key itself, so a gap never crashes a page.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

LANGUAGES = ("id", "en")

EN: dict[str, str] = {
    "title": "Siaga status",
    "overview": "All rooms",
    "switch_lang": "Bahasa Indonesia",
    "no_sites": "No room has reported yet. Waiting for the edge devices on the MQTT broker.",
    "summary_all": "{n} rooms",
    "summary_problems": "{n} need attention",
    "summary_ok": "everything is fine",
    "power": "Power",
    "mains": "mains",
    "battery": "battery",
    "charge": "Charge",
    "runtime": "Runtime",
    "load": "Load",
    "input_voltage": "Input voltage",
    "pcs_online": "PCs online",
    "last_change": "Since",
    "stale_since": "no news since {when}",
    "edge_offline": "edge device offline",
    "last_known": "last known: {room}",
    "status": "Status",
    "reachable": "Readable",
    "unreadable": "cannot be read",
    "ups": "UPS",
    "pcs": "Meeting PCs",
    "pc": "PC",
    "online": "online",
    "offline": "offline",
    "last_seen": "Last seen",
    "meeting_app": "Meeting app",
    "converting": "Converting recording",
    "disk_free": "Disk free for recordings",
    "yes": "yes",
    "no": "no",
    "none": "none",
    "indicator": "In the room",
    "led": "LED",
    "buzzer": "Buzzer",
    "silenced": "silenced",
    "reasons": "Why",
    "outage": "Current power cut",
    "stage_started": "Power lost",
    "stage_notice_sent": "Host notified",
    "stage_wrapup_sent": "Wrap-up (save recording)",
    "stage_shutdown_sent": "PC shut down",
    "not_yet": "not yet",
    "history": "History",
    "range_24h": "24 hours",
    "range_7d": "7 days",
    "chart_charge": "Battery charge (%)",
    "chart_runtime": "Runtime (minutes)",
    "chart_load": "Load (%)",
    "chart_voltage": "Input voltage (V)",
    "chart_empty": "No data in this period yet.",
    "chart_outage": "shaded: on battery",
    "events": "Recent events",
    "events_none": "No events yet.",
    "time": "Time",
    "event": "Event",
    "detail": "Detail",
    "csv": "Download all events (CSV)",
    "actions": "Actions",
    "act_silence": "Silence the buzzer",
    "act_test_indicator": "Test LED and buzzer",
    "act_test_notice": "Test notice on the PC",
    "act_ups_selftest": "UPS self-test",
    "sent": "Command sent.",
    "send_failed": "The command could not be sent.",
    "login": "Log in",
    "logout": "Log out",
    "login_for_actions": "Log in to use the actions.",
    "login_disabled": "Logging in is off: set dashboard.admin_password_hash (see `siaga passwd`).",
    "actions_token_only": "Actions need an API token (dashboard.api_token_file).",
    "password": "Password",
    "wrong_password": "Wrong password.",
    "too_many_attempts": "Too many attempts. Try again in {minutes} minutes.",
    "session_expired": "The form expired. Please try again.",
    "not_found": "Not found",
    "not_found_text": "There is no such page or room.",
    "bad_request": "Bad request",
    "error": "Error",
    "back": "Back to all rooms",
    "live_lost": "Connection to the status page lost; retrying…",
    "mqtt_lost": "The status page cannot reach the MQTT broker: values may be old.",
    "unit_min": "min",
    "updated": "Updated",
    "ago_s": "{n} s ago",
    "ago_min": "{n} min ago",
    "duration_min_s": "{m} min {s} s",
    "duration_s": "{s} s",
    "room_ready": "Ready",
    "room_attention": "Needs attention",
    "room_on_battery": "Power cut: on battery",
    "room_wrapup": "Battery low: wrap up",
    "room_shutdown": "Shutting the PC down",
    "room_fault": "UPS cannot be read",
    "room_stale": "No news",
    "led_green": "green", "led_amber": "amber", "led_red": "red", "led_off": "off",
    "pattern_solid": "steady", "pattern_blink": "blinking", "pattern_fast_blink": "blinking fast",
    "pattern_off": "off",
    "buzz_off": "quiet", "buzz_outage": "outage alarm", "buzz_wrapup": "a beep every 10 s",
    "buzz_shutdown": "fast beeps", "buzz_restored": "one long beep",
    "reason_pc_offline": "PC {x} is offline",
    "reason_replace_battery": "UPS {x}: replace the battery",
    "reason_ups_unreachable": "UPS {x} cannot be read",
    "reason_overload": "UPS {x} is overloaded",
    "reason_low_charge": "UPS {x}: battery charge low",
    "reason_disk_low": "PC {x}: little disk space left for recordings",
    "kind_edge_started": "Edge device started",
    "kind_power_lost": "Mains power lost",
    "kind_power_restored": "Mains power back",
    "kind_low_battery": "Battery low",
    "kind_notice_sent": "Notice sent to the PC",
    "kind_wrapup_sent": "Wrap-up sent to the PC",
    "kind_shutdown_sent": "Shutdown sent to the PC",
    "kind_pc_ack": "PC acknowledged",
    "kind_pc_online": "PC online",
    "kind_pc_offline": "PC offline",
    "kind_ups_unreachable": "UPS cannot be read",
    "kind_ups_reachable": "UPS readable again",
    "kind_replace_battery": "UPS battery needs replacing",
    "kind_silenced": "Buzzer silenced",
    "kind_command": "Command received",
}

ID: dict[str, str] = {
    "title": "Status Siaga",
    "overview": "Semua ruangan",
    "switch_lang": "English",
    "no_sites": "Belum ada ruangan yang melapor. Menunggu perangkat edge di broker MQTT.",
    "summary_all": "{n} ruangan",
    "summary_problems": "{n} perlu perhatian",
    "summary_ok": "semua baik",
    "power": "Listrik",
    "mains": "PLN",
    "battery": "baterai",
    "charge": "Muatan",
    "runtime": "Sisa waktu",
    "load": "Beban",
    "input_voltage": "Tegangan masuk",
    "pcs_online": "PC terhubung",
    "last_change": "Sejak",
    "stale_since": "tidak ada kabar sejak {when}",
    "edge_offline": "perangkat edge terputus",
    "last_known": "terakhir: {room}",
    "status": "Status",
    "reachable": "Terbaca",
    "unreadable": "tidak terbaca",
    "ups": "UPS",
    "pcs": "PC rapat",
    "pc": "PC",
    "online": "terhubung",
    "offline": "terputus",
    "last_seen": "Terakhir terlihat",
    "meeting_app": "Aplikasi rapat",
    "converting": "Konversi rekaman",
    "disk_free": "Sisa disk untuk rekaman",
    "yes": "ya",
    "no": "tidak",
    "none": "tidak ada",
    "indicator": "Di ruangan",
    "led": "Lampu",
    "buzzer": "Buzzer",
    "silenced": "dibisukan",
    "reasons": "Penyebab",
    "outage": "Pemadaman saat ini",
    "stage_started": "Listrik padam",
    "stage_notice_sent": "Pemimpin rapat diberi tahu",
    "stage_wrapup_sent": "Simpan rekaman",
    "stage_shutdown_sent": "PC dimatikan",
    "not_yet": "belum",
    "history": "Riwayat",
    "range_24h": "24 jam",
    "range_7d": "7 hari",
    "chart_charge": "Muatan baterai (%)",
    "chart_runtime": "Sisa waktu (menit)",
    "chart_load": "Beban (%)",
    "chart_voltage": "Tegangan masuk (V)",
    "chart_empty": "Belum ada data pada periode ini.",
    "chart_outage": "arsiran: memakai baterai",
    "events": "Kejadian terbaru",
    "events_none": "Belum ada kejadian.",
    "time": "Waktu",
    "event": "Kejadian",
    "detail": "Rincian",
    "csv": "Unduh semua kejadian (CSV)",
    "actions": "Tindakan",
    "act_silence": "Bisukan buzzer",
    "act_test_indicator": "Uji lampu dan buzzer",
    "act_test_notice": "Uji pemberitahuan di PC",
    "act_ups_selftest": "Uji mandiri UPS",
    "sent": "Perintah terkirim.",
    "send_failed": "Perintah tidak dapat dikirim.",
    "login": "Masuk",
    "logout": "Keluar",
    "login_for_actions": "Masuk untuk memakai tindakan.",
    "login_disabled": "Login tidak aktif: isi dashboard.admin_password_hash (lihat `siaga passwd`).",
    "actions_token_only": "Tindakan memerlukan token API (dashboard.api_token_file).",
    "password": "Kata sandi",
    "wrong_password": "Kata sandi salah.",
    "too_many_attempts": "Terlalu banyak percobaan. Coba lagi dalam {minutes} menit.",
    "session_expired": "Formulir kedaluwarsa. Silakan coba lagi.",
    "not_found": "Tidak ditemukan",
    "not_found_text": "Halaman atau ruangan ini tidak ada.",
    "bad_request": "Permintaan tidak valid",
    "error": "Galat",
    "back": "Kembali ke semua ruangan",
    "live_lost": "Koneksi ke halaman status terputus; mencoba lagi…",
    "mqtt_lost": "Halaman status tidak terhubung ke broker MQTT: nilai mungkin sudah lama.",
    "unit_min": "mnt",
    "updated": "Diperbarui",
    "ago_s": "{n} dtk lalu",
    "ago_min": "{n} mnt lalu",
    "duration_min_s": "{m} mnt {s} dtk",
    "duration_s": "{s} dtk",
    "room_ready": "Siap",
    "room_attention": "Perlu dicek",
    "room_on_battery": "Listrik padam: pakai baterai",
    "room_wrapup": "Baterai hampir habis: simpan rekaman",
    "room_shutdown": "PC sedang dimatikan",
    "room_fault": "UPS tidak terbaca",
    "room_stale": "Tidak ada kabar",
    "led_green": "hijau", "led_amber": "kuning", "led_red": "merah", "led_off": "mati",
    "pattern_solid": "menyala", "pattern_blink": "berkedip", "pattern_fast_blink": "berkedip cepat",
    "pattern_off": "mati",
    "buzz_off": "diam", "buzz_outage": "alarm pemadaman", "buzz_wrapup": "bunyi tiap 10 dtk",
    "buzz_shutdown": "bunyi cepat", "buzz_restored": "satu bunyi panjang",
    "reason_pc_offline": "PC {x} tidak terhubung",
    "reason_replace_battery": "UPS {x}: baterai perlu diganti",
    "reason_ups_unreachable": "UPS {x} tidak terbaca",
    "reason_overload": "UPS {x} kelebihan beban",
    "reason_low_charge": "UPS {x}: muatan baterai rendah",
    "reason_disk_low": "PC {x}: sisa disk untuk rekaman sedikit",
    "kind_edge_started": "Perangkat edge mulai",
    "kind_power_lost": "Listrik PLN padam",
    "kind_power_restored": "Listrik PLN kembali",
    "kind_low_battery": "Baterai lemah",
    "kind_notice_sent": "Pemberitahuan dikirim ke PC",
    "kind_wrapup_sent": "Perintah simpan rekaman dikirim",
    "kind_shutdown_sent": "Perintah matikan PC dikirim",
    "kind_pc_ack": "PC menjawab",
    "kind_pc_online": "PC terhubung",
    "kind_pc_offline": "PC terputus",
    "kind_ups_unreachable": "UPS tidak terbaca",
    "kind_ups_reachable": "UPS terbaca lagi",
    "kind_replace_battery": "Baterai UPS perlu diganti",
    "kind_silenced": "Buzzer dibisukan",
    "kind_command": "Perintah diterima",
}

CATALOGUE = {"en": EN, "id": ID}


def pick_language(requested: str | None, cookie: str | None, default: str) -> str:
    """The page language: ?lang= first, then the cookie, then site.language."""
    for choice in (requested, cookie):
        if choice in LANGUAGES:
            return choice
    return default if default in LANGUAGES else "id"


def translate(lang: str, key: str, **values: Any) -> str:
    """The text of ``key`` in ``lang`` with ``{name}`` placeholders filled in."""
    text = CATALOGUE.get(lang, ID).get(key) or EN.get(key) or key
    return text.format(**values) if values else text


def has_text(key: str) -> bool:
    """True when the catalogue knows ``key``."""
    return key in EN


def number(value: float | None, lang: str, digits: int = 0) -> str:
    """``12.5`` as "12,5" (id) or "12.5" (en); None as a dash."""
    if value is None:
        return "–"
    text = f"{value:,.{digits}f}"
    if lang == "id":
        text = text.translate(str.maketrans({",": ".", ".": ","}))
    return text


def minutes(seconds: float | None, lang: str) -> str:
    """A runtime as whole minutes: "30 mnt"."""
    if seconds is None:
        return "–"
    return f"{number(seconds / 60, lang)} {translate(lang, 'unit_min')}"


def duration(seconds: float | None, lang: str) -> str:
    """A short span: "3 mnt 20 dtk"."""
    if seconds is None:
        return "–"
    m, s = divmod(int(round(max(seconds, 0))), 60)
    return translate(lang, "duration_min_s", m=m, s=s) if m else translate(lang, "duration_s", s=s)


def local(ts: float, zone: ZoneInfo) -> dt.datetime | None:
    """A Unix time in the site's time zone; None for a time no calendar can show."""
    try:
        return dt.datetime.fromtimestamp(ts, zone)
    except (OverflowError, ValueError, OSError):
        return None


def when(ts: float | None, zone: ZoneInfo, now: float) -> str:
    """"10:32:05" today, "27/11 10:32" on another day, in the site's time zone."""
    moment = None if ts is None else local(ts, zone)
    today = local(now, zone)
    if moment is None or today is None:
        return "–"
    if moment.date() == today.date():
        return moment.strftime("%H:%M:%S")
    return moment.strftime("%d/%m/%Y %H:%M") if moment.year != today.year else moment.strftime("%d/%m %H:%M")


def full_time(ts: float | None, zone: ZoneInfo) -> str:
    """"2025-11-27 10:32:05 WIB": for tooltips."""
    moment = None if ts is None else local(ts, zone)
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S %Z")


def iso_time(ts: float, zone: ZoneInfo) -> str:
    """"2025-11-27T10:32:05+07:00": for exports; "" for an impossible time."""
    moment = local(ts, zone)
    return "" if moment is None else moment.isoformat(timespec="seconds")
