"""What an alert says to IT, in Bahasa Indonesia and English: room, what happened, minutes left,
what to do. The "what to do" words are those of the LED legend (docs/indicator.md, README's
"Panduan singkat"), so a chat message and the lamp beside the room never disagree.
"""

from __future__ import annotations

from dashboard.alert_rules import Alert, AlertKind
from dashboard.i18n import duration, minutes

EN: dict[str, str] = {
    "power_lost": "Power cut: the UPS carries the meeting PC",
    "wrapup": "UPS battery nearly empty: the PC was asked to save the recording",
    "shutdown": "The meeting PC is being shut down cleanly",
    "pc_off": "Meeting PC {pc} is off",
    "power_restored": "Mains power is back after {duration}",
    "ups_unreachable": "UPS {ups} cannot be read for more than a minute",
    "replace_battery": "UPS {ups}: the battery needs replacing",
    "site_stale": "No news from the room's Siaga (Pi off, network down or Siaga not running)",
    "test": "Test alert from the Siaga dashboard",
    "do_power_lost": "The meeting may go on; the host gets an on-screen notice and a ready chat "
                     "message.",
    "do_wrapup": "Save the recording and close the meeting within minutes.",
    "do_shutdown": "Do not pull cables or press the PC's power button; wait until it is off.",
    "do_pc_off": "Wait for the power to come back.",
    "do_power_restored": "Nothing to do.",
    "do_ups_unreachable": "The meeting may go on, but an outage would not be noticed: call IT.",
    "do_replace_battery": "Tell IT something needs fixing.",
    "do_site_stale": "The Pi is off or Siaga is not running: call IT.",
    "do_test": "Nothing to do: alerts reach you.",
    "runtime": "UPS time left: {minutes}.",
    "runtime_unknown": "UPS time left: unknown.",
    "todo": "What to do: {action}",
    "title": "Siaga {room}: {what}",
}

ID: dict[str, str] = {
    "power_lost": "Listrik padam: UPS menanggung PC rapat",
    "wrapup": "Baterai UPS hampir habis: PC sudah diminta menyimpan rekaman",
    "shutdown": "PC rapat sedang dimatikan dengan aman",
    "pc_off": "PC rapat {pc} sudah mati",
    "power_restored": "Listrik PLN kembali setelah {duration}",
    "ups_unreachable": "UPS {ups} tidak terbaca lebih dari satu menit",
    "replace_battery": "UPS {ups}: baterai perlu diganti",
    "site_stale": "Tidak ada kabar dari Siaga ruangan ini (Pi mati, jaringan putus atau Siaga "
                  "tidak berjalan)",
    "test": "Uji peringatan dari dasbor Siaga",
    "do_power_lost": "Rapat boleh berlanjut; pimpinan rapat mendapat pemberitahuan di layar dan "
                     "teks untuk chat rapat.",
    "do_wrapup": "Simpan rekaman dan akhiri rapat dalam beberapa menit.",
    "do_shutdown": "Jangan cabut kabel atau tekan tombol daya PC; tunggu sampai PC mati sendiri.",
    "do_pc_off": "Tunggu listrik kembali.",
    "do_power_restored": "Tidak perlu tindakan.",
    "do_ups_unreachable": "Rapat boleh berlanjut, tetapi pemadaman tidak akan terdeteksi: "
                          "hubungi bagian TI.",
    "do_replace_battery": "Beri tahu bagian TI: ada yang perlu dibereskan.",
    "do_site_stale": "Pi mati atau Siaga tidak berjalan: hubungi bagian TI.",
    "do_test": "Tidak perlu tindakan: peringatan sampai kepada Anda.",
    "runtime": "Sisa waktu UPS: {minutes}.",
    "runtime_unknown": "Sisa waktu UPS: tidak diketahui.",
    "todo": "Yang perlu dilakukan: {action}",
    "title": "Siaga {room}: {what}",
}

CATALOGUE = {"id": ID, "en": EN}


def render(alert: Alert, lang: str) -> tuple[str, str]:
    """(title, body) of an alert in ``lang`` ("id" or "en")."""
    texts = CATALOGUE.get(lang, ID)
    values = {"pc": "", "ups": "", **{k: str(v) for k, v in alert.detail.items()},
              "duration": duration(alert.detail.get("duration_s"), lang)}
    what = texts[alert.kind.value].format(**values)
    room = alert.name or alert.site
    lines = [f"{room}: {what}."]
    if alert.kind is not AlertKind.TEST:
        lines.append(texts["runtime_unknown"] if alert.runtime_s is None
                     else texts["runtime"].format(minutes=minutes(alert.runtime_s, lang)))
    lines.append(texts["todo"].format(action=texts[f"do_{alert.kind.value}"]))
    return texts["title"].format(room=room, what=what), "\n".join(lines)
