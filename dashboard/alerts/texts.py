"""What an alert says to IT, in Bahasa Indonesia and English: room, what happened and when (the
room's local time), minutes left, what IT should do, and the link to the room page. The meeting
host has its own notice on the PC; these sentences are for the person who can fix the power.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from dashboard.alerts.rules import Alert, AlertKind
from dashboard.texts.events import answer
from dashboard.texts.i18n import duration, local, minutes
from dashboard.web.present import fix_text, reason_text

TEXTS: dict[str, tuple[str, str]] = {  # key: (Bahasa Indonesia, English)
    "power_lost": ("Listrik padam: UPS menanggung PC rapat",
                   "Power cut: the UPS carries the meeting PC"),
    "wrapup": ("Sisa daya UPS sampai batas penutupan: PC sudah diminta menyimpan rekaman",
               "UPS runtime at the wrap-up mark: the PC was asked to save the recording"),
    "shutdown": ("PC rapat sedang dimatikan dengan aman",
                 "The meeting PC is being shut down cleanly"),
    "pc_off": ("PC rapat {pc} sudah mati", "Meeting PC {pc} is off"),
    "pc_not_off": ("PC rapat {pc} gagal mematikan dirinya dan masih menyala",
                   "Meeting PC {pc} could not shut itself down and is still on"),
    "why": ("Sebabnya: {why}.", "Why: {why}."),
    "power_restored": ("Listrik PLN kembali setelah {duration}",
                       "Mains power is back after {duration}"),
    "ups_unreachable": ("UPS {ups} tidak terbaca lebih dari satu menit",
                        "UPS {ups} cannot be read for more than a minute"),
    "replace_battery": ("UPS {ups}: baterai perlu diganti",
                        "UPS {ups}: the battery needs replacing"),
    "site_stale": ("Tidak ada kabar dari Siaga ruangan ini (Pi mati, jaringan putus atau Siaga "
                   "tidak berjalan)",
                   "No news from the room's Siaga (Pi off, network down or Siaga not running)"),
    "site_never_seen": ("Ruangan ini belum pernah melapor ke dasbor",
                        "This room has never reported to the dashboard"),
    "test": ("Uji peringatan dari dasbor Siaga", "Test alert from the Siaga dashboard"),
    "do_power_lost": ("Periksa listrik gedung (PLN, MCB, genset); UPS menanggung PC hanya "
                      "selama sisa waktu di atas.",
                      "Check the building's power (PLN supply, breaker, generator); the UPS "
                      "carries the PC only for the time left above."),
    "do_wrapup": ("Pulihkan listrik atau datang ke ruangan sekarang: PC akan dimatikan dalam "
                  "beberapa menit.",
                  "Restore the power or go to the room now: the PC will be shut down within "
                  "minutes."),
    "do_shutdown": ("Pastikan tidak ada yang mencabut kabel atau menekan tombol daya PC sampai "
                    "PC mati; nyalakan lagi setelah listrik kembali.",
                    "Make sure nobody pulls the PC's cable or presses its power button until "
                    "it is off; switch it on again once the power is back."),
    "do_pc_off": ("Setelah listrik PLN kembali, nyalakan lagi PC dan periksa rekaman sudah "
                  "tersimpan.",
                  "Once mains power is back, switch the PC on again and check that the "
                  "recording was saved."),
    "do_pc_not_off": ("Matikan PC {pc} secara manual sekarang, sebelum baterai UPS habis "
                      "dalam {minutes}: minta peserta menyimpan pekerjaannya, lalu matikan "
                      "dari menu PC itu atau dengan tombol dayanya.",
                      "Shut PC {pc} down by hand now, before the UPS battery runs out in "
                      "{minutes}: ask the people in the room to save their work, then shut "
                      "it down from its menu or with its power button."),
    "do_pc_not_off_unknown": ("Matikan PC {pc} secara manual sekarang, sebelum baterai UPS "
                              "habis: minta peserta menyimpan pekerjaannya, lalu matikan dari "
                              "menu PC itu atau dengan tombol dayanya.",
                              "Shut PC {pc} down by hand now, before the UPS battery runs out: "
                              "ask the people in the room to save their work, then shut "
                              "it down from its menu or with its power button."),
    "do_power_restored": ("Tidak perlu tindakan.", "Nothing to do."),
    "do_power_restored_pc_off": ("Nyalakan lagi PC rapat dan periksa rekaman sudah tersimpan.",
                                 "Switch the meeting PC on again and check that the recording "
                                 "was saved."),
    "do_ups_unreachable": ("Periksa UPS dan kabel USB-nya ke Pi: selama UPS tidak terbaca, "
                           "pemadaman tidak terdeteksi.",
                           "Check the UPS and its USB cable to the Pi: while the UPS cannot be "
                           "read, a power cut goes unnoticed."),
    "do_replace_battery": ("Pesan baterai pengganti untuk UPS ini dan jadwalkan penggantiannya.",
                           "Order a replacement battery for this UPS and plan the swap."),
    "do_site_stale": ("Periksa Pi di ruangan: dayanya, kabel jaringannya, dan apakah Siaga "
                      "berjalan (systemctl status siaga-edge).",
                      "Check the room's Pi: its power, its network cable, and that Siaga runs "
                      "(systemctl status siaga-edge)."),
    "do_site_never_seen": ("Periksa Pi ruangan {site}: site.id di siaga.toml-nya harus \"{site}\", "
                           "Siaga harus berjalan (systemctl status siaga-edge), dan bridge "
                           "MQTT-nya harus terhubung ke broker dasbor.",
                           "Check the Pi of room {site}: the site.id in its siaga.toml must be "
                           "\"{site}\", Siaga must run (systemctl status siaga-edge), and its MQTT "
                           "bridge must reach the dashboard's broker."),
    "do_test": ("Tidak perlu tindakan: peringatan sampai kepada Anda.",
                "Nothing to do: alerts reach you."),
    "pcs_still_off": ("PC rapat {pcs} masih mati.", "Meeting PC {pcs} is still off."),
    "pcs_still_off_many": ("PC rapat {pcs} masih mati.", "Meeting PCs {pcs} are still off."),
    "runtime": ("Sisa waktu UPS: {minutes}.", "UPS time left: {minutes}."),
    "runtime_unknown": ("Sisa waktu UPS: tidak diketahui.", "UPS time left: unknown."),
    "at": ("Waktu: {time}.", "When: {time}."),
    "late": ("Kabar terlambat: kejadiannya pukul {time}, baru sampai ke dasbor sekarang.",
             "Late news: this happened at {time}; it reached the dashboard only now."),
    "late_title": ("[Terlambat] ", "[Late] "),
    "repeat_title": ("[Mungkin ganda] ", "[Possible duplicate] "),
    "todo": ("Yang perlu dilakukan TI: {action}", "What IT should do: {action}"),
    "link": ("Halaman ruangan: {url}", "Room page: {url}"),
    "link_overview": ("Di halaman status: {url}", "On the status page: {url}"),
    "title": ("Siaga {room}: {what}", "Siaga {room}: {what}"),
    "not_ready": ("Belum siap untuk rapat \"{meeting}\" pukul {start}",
                  "Not ready for the meeting \"{meeting}\" at {start}"),
    "problems": ("Masalahnya: {problems}.", "What is wrong: {problems}."),
    "calendar_unreadable": ("Kalender ruangan tidak terbaca sejak {since}; jadwal yang tampil "
                            "mungkin usang",
                            "The room's calendar has not been readable since {since}; the "
                            "schedule shown may be out of date"),
    "do_calendar_unreadable": ("Periksa server atau berkas kalender ruangan ini (site.calendar); "
                               "`siaga check` di Pi ruangan menyebut penyebabnya. Sampai "
                               "terbaca lagi, Siaga memeriksa ruangan menurut salinan terakhir "
                               "kalender itu.",
                               "Check this room's calendar server or file (site.calendar); "
                               "`siaga check` on the room's Pi names the cause. Until it is "
                               "read again, Siaga checks the room against the last copy of "
                               "that calendar."),
    "do_not_ready": ("Perbaiki sebelum rapat dimulai: {fixes}",
                     "Fix it before the meeting starts: {fixes}"),
}

CATALOGUE = {"id": {key: pair[0] for key, pair in TEXTS.items()},
             "en": {key: pair[1] for key, pair in TEXTS.items()}}
ID, EN = CATALOGUE["id"], CATALOGUE["en"]
# What happened, and what IT should do about it, for each kind of alert.
WHAT = {AlertKind.POWER_LOST: "power_lost", AlertKind.WRAPUP: "wrapup",
        AlertKind.SHUTDOWN: "shutdown", AlertKind.PC_OFF: "pc_off",
        AlertKind.PC_NOT_OFF: "pc_not_off",
        AlertKind.POWER_RESTORED: "power_restored", AlertKind.UPS_UNREACHABLE: "ups_unreachable",
        AlertKind.REPLACE_BATTERY: "replace_battery", AlertKind.SITE_STALE: "site_stale",
        AlertKind.SITE_NEVER_SEEN: "site_never_seen", AlertKind.NOT_READY: "not_ready", AlertKind.TEST: "test",
        AlertKind.CALENDAR_UNREADABLE: "calendar_unreadable"}
TODO = {AlertKind.POWER_LOST: "do_power_lost", AlertKind.WRAPUP: "do_wrapup",
        AlertKind.SHUTDOWN: "do_shutdown", AlertKind.PC_OFF: "do_pc_off",
        AlertKind.PC_NOT_OFF: "do_pc_not_off",
        AlertKind.POWER_RESTORED: "do_power_restored",
        AlertKind.UPS_UNREACHABLE: "do_ups_unreachable",
        AlertKind.REPLACE_BATTERY: "do_replace_battery", AlertKind.SITE_STALE: "do_site_stale",
        AlertKind.SITE_NEVER_SEEN: "do_site_never_seen", AlertKind.NOT_READY: "do_not_ready", AlertKind.TEST: "do_test",
        AlertKind.CALENDAR_UNREADABLE: "do_calendar_unreadable"}
DEFAULT_ZONE = ZoneInfo("Asia/Jakarta")
# Alerts that say no UPS time left: on mains, about no power.
NO_RUNTIME = (AlertKind.TEST, AlertKind.NOT_READY, AlertKind.CALENDAR_UNREADABLE,
              AlertKind.SITE_NEVER_SEEN)


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


def repeat_title(title: str, lang: str) -> str:
    """The title marked as a possible duplicate: the dashboard that was delivering this alert
    died before it could record the answer, so the receiver may have it already."""
    return CATALOGUE.get(lang, ID)["repeat_title"] + title


def render(alert: Alert, lang: str, zone: ZoneInfo = DEFAULT_ZONE, public_url: str = "",
           now: float | None = None) -> tuple[str, str]:
    """(title, body) of an alert in ``lang`` ("id" or "en"); times in ``zone``."""
    texts = CATALOGUE.get(lang, ID)
    values = {"pc": "", "ups": "", "meeting": "", **{k: str(v) for k, v in alert.detail.items()},
              "duration": duration(alert.detail.get("duration_s"), lang)}
    problems = [str(p) for p in alert.detail.get("problems") or ()]
    if alert.kind is AlertKind.NOT_READY:
        values["start"] = clock_time(_number(alert.detail.get("start")), zone, now)
    if alert.kind is AlertKind.CALENDAR_UNREADABLE:
        values["since"] = clock_time(_number(alert.detail.get("since")), zone, now)
    what = texts[WHAT[alert.kind]].format(**values)
    room = alert.name or alert.site
    lines = [f"{room}: {what}."]
    when = clock_time(alert.at if alert.at is not None else now, zone, now)
    lines.append(texts["late" if alert.late else "at"].format(time=when))
    pcs_off = list(alert.detail.get("pcs_off") or ())
    if pcs_off:
        key = "pcs_still_off" if len(pcs_off) == 1 else "pcs_still_off_many"
        lines.append(texts[key].format(pcs=", ".join(map(str, pcs_off))))
    if problems:
        words = "; ".join(reason_text(p, lang) for p in problems)
        lines.append(texts["problems"].format(problems=words))
    if alert.kind is AlertKind.PC_NOT_OFF:   # the PC's own answer: the exit status, what it said
        said = alert.detail.get("answer")
        lines.append(texts["why"].format(why=answer(said if isinstance(said, dict) else {}, lang)))
    if alert.kind not in NO_RUNTIME:   # on mains: no time left to tell
        lines.append(texts["runtime_unknown"] if alert.runtime_s is None
                     else texts["runtime"].format(minutes=minutes(alert.runtime_s, lang)))
    fixes = " ".join(dict.fromkeys(fix_text(p, lang) for p in problems))
    action = texts[_action(alert)].format(fixes=fixes, site=alert.site, pc=values["pc"],
                                          minutes=minutes(alert.runtime_s, lang))
    lines.append(texts["todo"].format(action=action))
    link = room_link(public_url, alert.site)
    if link and alert.kind is AlertKind.SITE_NEVER_SEEN:   # no room page: its card on the overview
        lines.append(texts["link_overview"].format(url=f"{public_url.rstrip('/')}/?q={alert.site}"))
    elif link:
        lines.append(texts["link"].format(url=link))
    title = texts["title"].format(room=room, what=what)
    return (late_title(title, lang) if alert.late else title), "\n".join(lines)


def _action(alert: Alert) -> str:
    """The key of what IT should do."""
    if alert.kind is AlertKind.POWER_RESTORED and alert.detail.get("pcs_off"):
        return "do_power_restored_pc_off"
    if alert.kind is AlertKind.PC_NOT_OFF and alert.runtime_s is None:
        return "do_pc_not_off_unknown"
    return TODO[alert.kind]


def _number(value: object) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None
