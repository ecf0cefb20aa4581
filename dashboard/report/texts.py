"""Every text of the needs report, in Bahasa Indonesia and English, and its number formats.

Each figure has a sentence that says what it means and the rule that produced it (the
definitions of CONTRACT §5.8), so a planner can quote a line without an engineer beside them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from dashboard.texts.i18n import number

LANGS = ("id", "en")

# key: (Indonesian, English)
TEXT: dict[str, tuple[str, str]] = {
    "title": ("Laporan kebutuhan: listrik, UPS, PC dan lisensi rapat",
              "Needs report: power, UPS, PC and meeting licences"),
    "period": ("Periode {first} s.d. {last} (hari menurut waktu setempat, {zone})",
               "Period {first} to {last} (local days, {zone})"),
    "rooms": ("Ruang: {names}", "Rooms: {names}"),
    "made": ("Dibuat dari {n} kejadian jurnal Siaga.", "Made from {n} Siaga journal events."),
    "empty": ("Tidak ada kejadian dalam periode ini: tidak ada pemadaman, rapat atau konversi "
              "yang tercatat. Angka di bawah semuanya nol.",
              "No events in this period: no outage, meeting or conversion was journaled. "
              "Every number below is zero."),
    "no_data": ("tidak ada data", "no data"),
    # The battery's age after its date: "1 Mar 2022 (umur 4 tahun 8 bulan)".
    "age": ("umur {span}", "{span} old"),
    "age_new": ("umur kurang dari sebulan", "less than a month old"),
    "age_years": ("{n} tahun", "{n} years"), "age_year": ("{n} tahun", "{n} year"),
    "age_months": ("{n} bulan", "{n} months"), "age_month": ("{n} bulan", "{n} month"),
    "office": ("Seluruh kantor", "Whole office"),
    "room": ("Ruang", "Room"),
    "col_number": ("Angka", "Number"),
    "col_meaning": ("Artinya", "What it means"),
    "col_rule": ("Aturan", "Rule"),
    "sec_buy": ("Yang perlu dibeli", "What to buy"),
    "sec_outages": ("Pemadaman listrik", "Power outages"),
    "sec_ups": ("UPS", "UPS"),
    "sec_quality": ("Kualitas listrik PLN", "Mains power quality"),
    "sec_meetings": ("Rapat", "Meetings"),
    "sec_pc": ("PC rapat dan rekaman", "Meeting PC and recordings"),
    "sec_schedule": ("Jadwal (dari kalender ruangan)", "Schedule (from the rooms' calendars)"),
    "by_hour": ("Pemadaman menurut jam mulai (waktu setempat)", "Outages by hour of start (local time)"),
    "by_month": ("Runtime UPS saat listrik padam, per bulan, pada beban serupa",
                 "UPS runtime when the power failed, per month, at comparable load"),
    "by_month_hint": ("Garis yang turun pada beban yang sama berarti baterai mulai lemah.",
                      "A falling line at the same load means a tiring battery."),
    "month": ("Bulan", "Month"),
    "outages_n": ("Pemadaman", "Outages"),
    "print": ("Cetak", "Print"),
    "show": ("Tampilkan", "Show"),
    "from": ("Dari", "From"),
    "to": ("Sampai", "To"),
    "sites": ("Ruang (kosong = semua)", "Rooms (empty = all)"),
    "per_room": ("Satu halaman per ruang", "One page per room"),
    "download": ("Unduh", "Download"),
}

# Rows of the number tables: key: (meaning id, meaning en, rule id, rule en)
ROWS: dict[str, tuple[str, str, str, str]] = {
    "outages.count": ("kali listrik PLN padam.", "times the mains power failed.",
                      "Satu pemadaman = power_lost sampai power_restored berikutnya di ruang yang sama.",
                      "One outage = a power_lost to the next power_restored of the same room."),
    "outages.during_meetings": ("pemadaman terjadi saat rapat berlangsung.",
                                "outages happened during a meeting.",
                                "Pemadaman yang waktunya bertumpang tindih dengan rapat "
                                "(meeting_started s.d. meeting_ended) di ruang itu.",
                                "Outages overlapping a meeting (meeting_started to meeting_ended) of "
                                "that room."),
    "outages.total_s": ("lama padam seluruhnya.", "without mains in total.",
                        "Jumlah lama semua pemadaman (power_restored.duration_s).",
                        "The sum of every outage's length (power_restored.duration_s)."),
    "outages.longest_s": ("pemadaman terlama.", "the longest outage.",
                          "Lama pemadaman yang paling panjang.", "The longest single outage."),
    "outages.p90_s": ("9 dari 10 pemadaman selesai dalam waktu ini.",
                      "9 of 10 outages were over within this time.",
                      "Persentil ke-90 (peringkat terdekat) dari lama pemadaman.",
                      "The nearest-rank 90th percentile of the outage lengths."),
    "outages.shutdowns": ("pemadaman berakhir dengan PC dimatikan.",
                          "outages ended with the PC shut down.",
                          "Pemadaman dengan shutdown_sent.", "Outages with a shutdown_sent."),
    "outages.bridged": ("pemadaman ditanggung UPS sampai listrik kembali.",
                        "outages the UPS carried until the power came back.",
                        "Jumlah pemadaman dikurangi yang berakhir dengan shutdown.",
                        "The count minus those that ended in a shutdown."),
    "outages.unended": ("pemadaman tanpa catatan listrik kembali.",
                        "outages whose restore was never journaled.",
                        "Dihitung sampai langkah terakhir yang tercatat (pemberitahuan, wrap-up, "
                        "shutdown).",
                        "Counted up to their last journaled step (notice, wrap-up, shutdown)."),
    "ups.runtime_needed_s": ("runtime UPS yang perlu diminta, pada beban yang terukur.",
                             "the UPS runtime to ask for, at the measured load.",
                             "p90 lama pemadaman + policy.wrapup_at_runtime_s ({wrapup}): UPS ini "
                             "menanggung 9 dari 10 pemadaman dengan sisa waktu untuk menyimpan "
                             "rekaman.",
                             "p90 outage length + policy.wrapup_at_runtime_s ({wrapup}): such a UPS "
                             "carries 9 of 10 outages with the wrap-up margin left."),
    "ups.runtime_now_s": ("runtime UPS sekarang, menurut UPS itu sendiri.",
                          "today's UPS runtime, as the UPS reports it.",
                          "battery.runtime dari keadaan terakhir ruang.",
                          "battery.runtime of the room's last known state."),
    "ups.load_pct": ("beban UPS saat rapat (median).", "UPS load during meetings (median).",
                     "Beban saat listrik padam dan beban yang tercatat selama rapat.",
                     "The load when the power failed and the load sampled during meetings."),
    "ups.load_w": ("beban UPS saat rapat, dalam watt.", "UPS load during meetings, in watts.",
                   "Beban (%) x daya nominal UPS (ups.realpower.nominal, atau ups.power.nominal x 0,6).",
                   "Load (%) x the UPS's rated power (ups.realpower.nominal, or ups.power.nominal x "
                   "0.6)."),
    "ups.replace_battery": ("kali UPS meminta baterai diganti.", "times the UPS asked for a new battery.",
                            "Kejadian replace_battery (status RB dari UPS).",
                            "replace_battery events (the UPS's RB status)."),
    "ups.selftests": ("uji mandiri UPS, {failed} gagal.", "UPS self-tests, {failed} failed.",
                      "Kejadian ups_selftest.", "ups_selftest events."),
    "ups.battery_date": ("tanggal baterai UPS dipasang, dan umurnya hari ini.",
                         "the date the UPS battery was fitted, and its age today.",
                         "battery.date dari UPS (atau battery.mfr.date).",
                         "battery.date of the UPS (or battery.mfr.date)."),
    "power_quality.min_v": ("tegangan PLN terendah.", "the lowest mains voltage.",
                            "Dari riwayat tegangan masuk (saat UPS tidak memakai baterai).",
                            "From the input voltage history (while not on battery)."),
    "power_quality.max_v": ("tegangan PLN tertinggi.", "the highest mains voltage.",
                            "Dari riwayat tegangan masuk.", "From the input voltage history."),
    "power_quality.sags": ("kali tegangan turun di bawah 198 V.", "times the voltage sagged below 198 V.",
                           "PLN 220 V -10 %. Sering turun: pertimbangkan UPS online atau AVR.",
                           "PLN's 220 V -10 %. Frequent sags argue for an online UPS or an AVR."),
    "power_quality.swells": ("kali tegangan naik di atas 231 V.", "times the voltage rose above 231 V.",
                             "PLN 220 V +5 %.", "PLN's 220 V +5 %."),
    "meetings.count": ("rapat.", "meetings.",
                       "Satu rapat = meeting_started sampai meeting_ended dari PC yang sama.",
                       "One meeting = a meeting_started to the meeting_ended of the same PC."),
    "meetings.hours": ("jam rapat seluruhnya.", "hours of meetings in total.",
                       "Jumlah lama semua rapat; rapat yang masih berjalan dipotong di akhir periode.",
                       "The sum of the meetings' lengths; one still running is cut at the end of the "
                       "period."),
    "meetings.peak_concurrent": ("rapat paling banyak pada saat yang sama: jumlah lisensi host yang dibutuhkan.",
                                 "meetings at most at the same moment: the host licences needed.",
                                 "Jumlah terbesar rapat yang berjalan bersamaan di ruang-ruang yang "
                                 "dipilih.",
                                 "The most meetings running at one moment across the chosen rooms."),
    "schedule.booked_count": ("rapat terjadwal.", "booked meetings.",
                              "Pemesanan dari kalender ruangan yang dimulai dalam periode ini "
                              "(dicatat Pi ruangan saat rapat dimulai).",
                              "Bookings from the room's calendar that began in the period (journaled "
                              "by the room's Pi when each began)."),
    "schedule.booked_hours": ("jam rapat terjadwal.", "hours booked.",
                              "Jumlah lama pemesanan; yang melewati akhir periode dipotong di sana.",
                              "The bookings' lengths added up; one past the end of the period is cut "
                              "there."),
    "schedule.peak_booked": ("rapat terjadwal paling banyak pada saat yang sama: lisensi host yang "
                             "diminta jadwal.", "bookings at most at one moment: the host licences "
                             "the schedule asks for.",
                             "Di ruang-ruang yang dipilih; bandingkan dengan rapat yang benar-benar "
                             "berlangsung di atas.", "Across the chosen rooms; compare with the "
                             "meetings really held above."),
    "schedule.back_to_back": ("rapat terjadwal terlalu rapat dengan rapat sebelumnya.",
                              "bookings too close to the one before.",
                              "Dimulai kurang dari lama konversi biasa (median) setelah rapat "
                              "sebelumnya di ruangan yang sama selesai: PC masih mengonversi.",
                              "Starting less than the usual (median) conversion time after the one "
                              "before ends in the same room: the PC is still converting."),
    "schedule.not_ready": ("rapat terjadwal yang ruangannya belum siap.",
                           "booked meetings the room was not ready for.",
                           "not_ready: saat pemeriksaan sebelum rapat ada masalah (baterai, PC, "
                           "konversi, disk).", "not_ready: the check before the meeting found a "
                           "problem (battery, PC, conversion, disk)."),
    "conversion.count": ("konversi rekaman.", "recording conversions.",
                         "conversion_started sampai conversion_ended dari PC yang sama.",
                         "A conversion_started to the conversion_ended of the same PC."),
    "conversion.median_s": ("lama konversi biasa (median).", "the usual conversion time (median).",
                            "Median lama konversi.", "The median conversion length."),
    "conversion.longest_s": ("konversi terlama.", "the longest conversion.",
                             "Lama konversi yang paling panjang.", "The longest conversion."),
    "conversion.delayed_meetings": ("rapat dimulai saat rekaman sebelumnya masih dikonversi.",
                                    "meetings started while the last recording was still converting.",
                                    "Rapat yang dimulai di PC yang masih menjalankan konversi: PC "
                                    "terlalu lambat untuk jadwal ini.",
                                    "Meetings that started on a PC still converting: the PC is too "
                                    "slow for the schedule."),
    "pc.disk_free_gb": ("ruang disk rekaman yang masih kosong (PC terendah).",
                        "recording disk free now (the lowest PC).",
                        "disk_free_gb dari keadaan terakhir.", "disk_free_gb of the last known state."),
    "pc.days_left": ("hari lagi sampai disk penuh.", "days until the disk is full.",
                     "Perlu riwayat ruang disk; belum dicatat.", "Needs a disk history; not recorded yet."),
}

# The buy list: item: (Indonesian, English); placeholders from the item's numbers.
BUY: dict[str, tuple[str, str]] = {
    "ups_buy": ("{room}: UPS yang bertahan setidaknya {need}{load}. Alasan: 9 dari 10 "
                "pemadaman selesai dalam {p90}, ditambah {wrapup} untuk menyimpan rekaman{have}.",
                "{room}: a UPS that lasts at least {need}{load}. Reason: 9 of 10 outages were "
                "over within {p90}, plus {wrapup} to save the recording{have}."),
    "ups_at": (" pada {load}", " at {load}"),
    "ups_have": ("; UPS sekarang hanya {have}", "; today's UPS gives only {have}"),
    "ups_ok": ("{room}: tidak perlu UPS baru. Alasan: UPS sekarang bertahan {have}, yang dibutuhkan {need}.",
               "{room}: no new UPS needed. Reason: today's UPS lasts {have}; {need} is needed."),
    "ups_no_data": ("{room}: belum perlu UPS baru. Alasan: tidak ada pemadaman dalam periode ini.",
                    "{room}: no new UPS yet. Reason: no outage in this period."),
    "battery": ("{room}: baterai UPS baru. Alasan: UPS meminta baterai diganti ({flags} kali).",
                "{room}: a new UPS battery. Reason: the UPS asked for a new battery ({flags} times)."),
    "battery_one": ("{room}: baterai UPS baru. Alasan: UPS meminta baterai diganti (1 kali).",
                    "{room}: a new UPS battery. Reason: the UPS asked for a new battery (once)."),
    "avr": ("UPS online (double conversion) atau AVR. Alasan: tegangan PLN turun di bawah 198 V "
            "sebanyak {sags} kali.",
            "An online (double-conversion) UPS or an AVR. Reason: the mains sagged below 198 V "
            "{sags} times."),
    "faster_pc": ("PC rapat yang lebih cepat untuk konversi rekaman. Alasan: {delayed} dari "
                  "{meetings} rapat dimulai saat rekaman sebelumnya masih dikonversi.",
                  "A faster meeting PC for converting recordings. Reason: {delayed} of {meetings} "
                  "meetings started while the last recording was still converting."),
    "licences": ("{peak} lisensi host rapat. Alasan: paling banyak {peak} rapat berjalan pada saat "
                 "yang sama.",
                 "{peak} meeting host licences. Reason: at most {peak} meetings ran at the same "
                 "moment."),
    "licences_one": ("1 lisensi host rapat. Alasan: tidak pernah lebih dari 1 rapat berjalan pada "
                     "saat yang sama.",
                     "1 meeting host licence. Reason: never more than 1 meeting ran at the same "
                     "moment."),
    "disk": ("{room}: disk rekaman yang lebih besar. Alasan: tinggal {free} kosong, di bawah {limit}.",
             "{room}: a larger recording disk. Reason: only {free} free, below {limit}."),
}

MONTHS = {"id": "Jan Feb Mar Apr Mei Jun Jul Agu Sep Okt Nov Des".split(),
          "en": "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()}


def text(lang: str, key: str, **values: Any) -> str:
    """A text of the report in ``lang`` with its placeholders filled."""
    pair = TEXT.get(key) or BUY.get(key) or (key, key)
    return pair[1 if lang == "en" else 0].format(**values)


def row(lang: str, key: str, **values: Any) -> tuple[str, str]:
    """(what the number means, the rule that produced it) for a table row."""
    meaning_id, meaning_en, rule_id, rule_en = ROWS[key]
    if lang == "en":
        return meaning_en.format(**values), rule_en.format(**values)
    return meaning_id.format(**values), rule_id.format(**values)


def day(value: str, lang: str) -> str:
    """"2026-11-30" as "30 Nov 2026"."""
    d = dt.date.fromisoformat(value)
    return f"{d.day} {MONTHS.get(lang, MONTHS['id'])[d.month - 1]} {d.year}"


def battery_age(value: str, lang: str, today: dt.date | None = None) -> str:
    """"2022-03-01" as "1 Mar 2022 (umur 4 tahun 8 bulan)"; the text as it is when not a date."""
    try:
        fitted = dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        return str(value)
    today = today or dt.date.today()
    months = (today.year - fitted.year) * 12 + today.month - fitted.month - (today.day < fitted.day)
    years, months = divmod(max(months, 0), 12)
    parts = [text(lang, "age_year" if years == 1 else "age_years", n=years)] if years else []
    parts += [text(lang, "age_month" if months == 1 else "age_months", n=months)] if months else []
    span = text(lang, "age", span=" ".join(parts)) if parts else text(lang, "age_new")
    return f"{day(value, lang)} ({span})"


def num(value: float | None, lang: str, digits: int = 0) -> str:
    """A number in the reader's convention ("1.234,5" in Indonesian)."""
    return number(value, lang, digits)
