"""What an alert says to IT, in Bahasa Indonesia and English: room, what happened and when (the
room's local time), minutes left, what IT should do, and the link to the room page. The meeting
host has its own notice on the PC; these sentences are for the person who can fix the power.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from dashboard.alerts.rules import Alert, AlertKind
from dashboard.texts.i18n import duration, local, minutes
from dashboard.web.present import fix_text, reason_text

EN: dict[str, str] = {
    "power_lost": "Power cut: the UPS carries the meeting PC",
    "wrapup": "UPS runtime at the wrap-up mark: the PC was asked to save the recording",
    "shutdown": "The meeting PC is being shut down cleanly",
    "pc_off": "Meeting PC {pc} is off",
    "power_restored": "Mains power is back after {duration}",
    "ups_unreachable": "UPS {ups} cannot be read for more than a minute",
    "replace_battery": "UPS {ups}: the battery needs replacing",
    "site_stale": "No news from the room's Siaga (Pi off, network down or Siaga not running)",
    "test": "Test alert from the Siaga dashboard",
    "not_ready": "Not ready for the meeting \"{meeting}\" at {start}",
    "problems": "What is wrong: {problems}.",
    "do_power_lost": "Check the building's power (PLN supply, breaker, generator); the UPS "
                     "carries the PC only for the time left above.",
    "do_wrapup": "Restore the power or go to the room now: the PC will be shut down within "
                 "minutes.",
    "do_shutdown": "Make sure nobody pulls the PC's cable or presses its power button until it is "
                   "off; switch it on again once the power is back.",
    "do_pc_off": "Once mains power is back, switch the PC on again and check that the recording "
                 "was saved.",
    "do_power_restored": "Nothing to do.",
    "do_power_restored_pc_off": "Switch the meeting PC on again and check that the recording was "
                                "saved.",
    "do_ups_unreachable": "Check the UPS and its USB cable to the Pi: while the UPS cannot be read, "
                          "a power cut goes unnoticed.",
    "do_replace_battery": "Order a replacement battery for this UPS and plan the swap.",
    "do_site_stale": "Check the room's Pi: its power, its network cable, and that Siaga runs "
                     "(systemctl status siaga-edge).",
    "do_test": "Nothing to do: alerts reach you.",
    "do_not_ready": "Fix it before the meeting starts: {fixes}",
    "pcs_still_off": "Meeting PC {pcs} is still off.",
    "runtime": "UPS time left: {minutes}.",
    "runtime_unknown": "UPS time left: unknown.",
    "at": "When: {time}.",
    "late": "Late news: this happened at {time}; it reached the dashboard only now.",
    "late_title": "[Late] ",
    "todo": "What IT should do: {action}",
    "link": "Room page: {url}",
    "title": "Siaga {room}: {what}",
}

ID: dict[str, str] = {
    "power_lost": "Listrik padam: UPS menanggung PC rapat",
    "wrapup": "Sisa daya UPS sampai batas penutupan: PC sudah diminta menyimpan rekaman",
    "shutdown": "PC rapat sedang dimatikan dengan aman",
    "pc_off": "PC rapat {pc} sudah mati",
    "power_restored": "Listrik PLN kembali setelah {duration}",
    "ups_unreachable": "UPS {ups} tidak terbaca lebih dari satu menit",
    "replace_battery": "UPS {ups}: baterai perlu diganti",
    "site_stale": "Tidak ada kabar dari Siaga ruangan ini (Pi mati, jaringan putus atau Siaga "
                  "tidak berjalan)",
    "test": "Uji peringatan dari dasbor Siaga",
    "not_ready": "Belum siap untuk rapat \"{meeting}\" pukul {start}",
    "problems": "Masalahnya: {problems}.",
    "do_power_lost": "Periksa listrik gedung (PLN, MCB, genset); UPS menanggung PC hanya selama "
                     "sisa waktu di atas.",
    "do_wrapup": "Pulihkan listrik atau datang ke ruangan sekarang: PC akan dimatikan dalam "
                 "beberapa menit.",
    "do_shutdown": "Pastikan tidak ada yang mencabut kabel atau menekan tombol daya PC sampai PC "
                   "mati; nyalakan lagi setelah listrik kembali.",
    "do_pc_off": "Setelah listrik PLN kembali, nyalakan lagi PC dan periksa rekaman sudah "
                 "tersimpan.",
    "do_power_restored": "Tidak perlu tindakan.",
    "do_power_restored_pc_off": "Nyalakan lagi PC rapat dan periksa rekaman sudah tersimpan.",
    "do_ups_unreachable": "Periksa UPS dan kabel USB-nya ke Pi: selama UPS tidak terbaca, "
                          "pemadaman tidak terdeteksi.",
    "do_replace_battery": "Pesan baterai pengganti untuk UPS ini dan jadwalkan penggantiannya.",
    "do_site_stale": "Periksa Pi di ruangan: dayanya, kabel jaringannya, dan apakah Siaga berjalan "
                     "(systemctl status siaga-edge).",
    "do_test": "Tidak perlu tindakan: peringatan sampai kepada Anda.",
    "do_not_ready": "Perbaiki sebelum rapat dimulai: {fixes}",
    "pcs_still_off": "PC rapat {pcs} masih mati.",
    "runtime": "Sisa waktu UPS: {minutes}.",
    "runtime_unknown": "Sisa waktu UPS: tidak diketahui.",
    "at": "Waktu: {time}.",
    "late": "Kabar terlambat: kejadiannya pukul {time}, baru sampai ke dasbor sekarang.",
    "late_title": "[Terlambat] ",
    "todo": "Yang perlu dilakukan TI: {action}",
    "link": "Halaman ruangan: {url}",
    "title": "Siaga {room}: {what}",
}

CATALOGUE = {"id": ID, "en": EN}
DEFAULT_ZONE = ZoneInfo("Asia/Jakarta")


def clock_time(ts: float | None, zone: ZoneInfo, now: float | None = None) -> str:
    """"10:32 WIB" in the room's time zone, with the date when it is not ``now``'s day."""
    moment = None if ts is None else local(ts, zone)
    if moment is None:
        return "–"
    today = local(now, zone) if now is not None else moment
    if today is not None and today.date() != moment.date():
        return moment.strftime("%d/%m/%Y %H:%M %Z")
    return moment.strftime("%H:%M %Z")


def room_link(public_url: str, site: str) -> str:
    """``{public_url}/sites/<site>``, or "" when dashboard.public_url is not set."""
    return f"{public_url.rstrip('/')}/sites/{site}" if public_url else ""


def late_title(title: str, lang: str) -> str:
    """The title marked late (once): an alert that waited in the outbox is not news."""
    mark = CATALOGUE.get(lang, ID)["late_title"]
    return title if title.startswith(mark) else mark + title


def render(alert: Alert, lang: str, zone: ZoneInfo = DEFAULT_ZONE, public_url: str = "",
           now: float | None = None) -> tuple[str, str]:
    """(title, body) of an alert in ``lang`` ("id" or "en"); times in ``zone``."""
    texts = CATALOGUE.get(lang, ID)
    values = {"pc": "", "ups": "", "meeting": "", **{k: str(v) for k, v in alert.detail.items()},
              "duration": duration(alert.detail.get("duration_s"), lang)}
    problems = [str(p) for p in alert.detail.get("problems") or ()]
    if alert.kind is AlertKind.NOT_READY:
        values["start"] = clock_time(_number(alert.detail.get("start")), zone, now)
    what = texts[alert.kind.value].format(**values)
    room = alert.name or alert.site
    lines = [f"{room}: {what}."]
    when = clock_time(alert.at if alert.at is not None else now, zone, now)
    lines.append(texts["late" if alert.late else "at"].format(time=when))
    pcs_off = list(alert.detail.get("pcs_off") or ())
    if pcs_off:
        lines.append(texts["pcs_still_off"].format(pcs=", ".join(map(str, pcs_off))))
    if problems:
        words = "; ".join(reason_text(p, lang) for p in problems)
        lines.append(texts["problems"].format(problems=words))
    if alert.kind not in (AlertKind.TEST, AlertKind.NOT_READY):   # on mains: no time left to tell
        lines.append(texts["runtime_unknown"] if alert.runtime_s is None
                     else texts["runtime"].format(minutes=minutes(alert.runtime_s, lang)))
    fixes = " ".join(dict.fromkeys(fix_text(p, lang) for p in problems))
    lines.append(texts["todo"].format(action=texts[_action(alert)].format(fixes=fixes)))
    link = room_link(public_url, alert.site)
    if link:
        lines.append(texts["link"].format(url=link))
    title = texts["title"].format(room=room, what=what)
    return (late_title(title, lang) if alert.late else title), "\n".join(lines)


def _action(alert: Alert) -> str:
    """The key of what IT should do."""
    if alert.kind is AlertKind.POWER_RESTORED and alert.detail.get("pcs_off"):
        return "do_power_restored_pc_off"
    return f"do_{alert.kind.value}"


def _number(value: object) -> float | None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    return float(value) if ok else None
