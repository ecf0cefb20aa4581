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
    "made_one": ("Dibuat dari 1 kejadian jurnal Siaga.", "Made from 1 Siaga journal event."),
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
    "by_month_measured": ("Runtime terukur dari muatan penuh, per bulan, pada beban serupa",
                          "Measured runtime from a full charge, per month, at comparable load"),
    "by_month_measured_hint": ("Turun seperlima atau lebih: baterai lelah, ganti baterainya.",
                               "Down by a fifth or more: a tired battery; replace it."),
    "month": ("Bulan", "Month"),
    "outages_n": ("Pemadaman", "Outages"),
    "print": ("Cetak", "Print"),
    "show": ("Tampilkan", "Show"),
    "from": ("Dari", "From"),
    "to": ("Sampai", "To"),
    "sites": ("Ruang (kosong = semua)", "Rooms (empty = all)"),
    "per_room": ("Satu halaman per ruang", "One page per room"),
    # The dashboard's page while a report is being made (dashboard/web/report.py).
    "making": ("Laporan sedang dibuat, sejak {since} ({elapsed}). Laporan atas ribuan ruang bisa "
               "makan waktu beberapa menit; halaman ini menampilkannya begitu selesai.",
               "The report is being made, since {since} ({elapsed}). A report over thousands of "
               "rooms can take minutes; this page shows it as soon as it is done."),
    "ahead": ("Laporan lain yang dibuat lebih dulu: {n}.", "Reports made before it: {n}."),
    "reload": ("Lihat apakah sudah selesai", "See whether it is done"),
    "busy": ("Terlalu banyak laporan sedang menunggu dibuat; coba lagi beberapa menit lagi.",
             "Too many reports are waiting to be made; try again in a few minutes."),
    # Meetings by app (CONTRACT §6.2): the row's label, then its meaning and rule.
    "app_zoom": ("Zoom", "Zoom"),
    "app_teams": ("Microsoft Teams", "Microsoft Teams"),
    "app_meet-browser": ("Google Meet (peramban)", "Google Meet (browser)"),
    "app_browser": ("peramban, situs lain", "browser, another site"),
    "app_unknown": ("aplikasi tidak tercatat", "app not recorded"),
    "by_app_row": ("{app}: {count} rapat.", "{app}: {count} meetings."),
    "by_app_row_one": ("{app}: 1 rapat.", "{app}: 1 meeting."),
    "by_app_rule": ("Menurut meeting_started.detail.app; rapat sebelum agen mencatat aplikasinya: "
                    "tidak tercatat.",
                    "By meeting_started.detail.app; meetings from before the agent recorded the "
                    "app: not recorded."),
    "hours_v": ("{h} jam", "{h} h"),
}

# The number tables' rows: what the number means, key: (Bahasa Indonesia, English) ...
MEANING: dict[str, tuple[str, str]] = {
    "outages.count": ("kali listrik PLN padam.", "times the mains power failed."),
    "outages.during_meetings": ("pemadaman terjadi saat rapat berlangsung.",
                                "outages happened during a meeting."),
    "outages.total_s": ("lama padam seluruhnya.", "without mains in total."),
    "outages.longest_s": ("pemadaman terlama.", "the longest outage."),
    "outages.p90_s": ("9 dari 10 pemadaman selesai dalam waktu ini.",
                      "9 of 10 outages were over within this time."),
    # Under 10 outages the nearest-rank 90th percentile is the longest: "9 of 10" would count
    # outages that never happened.
    "outages.p90_s_few": ("semua pemadaman selesai dalam waktu ini.",
                          "every outage was over within this time."),
    "outages.shutdowns": ("pemadaman berakhir dengan PC dimatikan.",
                          "outages ended with the PC shut down."),
    "outages.bridged": ("pemadaman ditanggung UPS sampai listrik kembali.",
                        "outages the UPS carried until the power came back."),
    "outages.unended": ("pemadaman tanpa catatan listrik kembali.",
                        "outages whose restore was never journaled."),
    "ups.runtime_needed_s": ("runtime UPS yang perlu diminta, pada beban yang terukur.",
                             "the UPS runtime to ask for, at the measured load."),
    "ups.runtime_needed_s_few": ("runtime UPS yang perlu diminta, pada beban yang terukur: "
                                 "pemadaman terlama dan waktu menyimpan rekaman.",
                                 "the UPS runtime to ask for, at the measured load: the longest "
                                 "outage and the time to save the recording."),
    "ups.runtime_now_s": ("runtime UPS sekarang, menurut UPS itu sendiri.",
                          "today's UPS runtime, as the UPS reports it."),
    "ups.runtime_claimed_s": ("runtime yang diakui UPS saat listrik padam (median).",
                              "the runtime the UPS claimed when the power failed (median)."),
    "ups.runtime_measured_s": ("runtime terukur oleh Siaga dari muatan penuh, pada beban biasa.",
                               "the runtime Siaga measured from a full charge, at the usual load."),
    "ups.discharges": ("pemadaman yang menjadi dasar pengukuran.", "outages the measurement rests on."),
    "ups.battery_wh_needed": ("energi baterai yang dibutuhkan UPS (Wh).",
                              "the battery energy the UPS needs (Wh)."),
    "ups.load_pct": ("beban UPS saat rapat (median).", "UPS load during meetings (median)."),
    "ups.load_w": ("beban UPS saat rapat, dalam watt.", "UPS load during meetings, in watts."),
    "ups.replace_battery": ("kali UPS meminta baterai diganti.",
                            "times the UPS asked for a new battery."),
    "ups.selftests": ("uji mandiri UPS, {failed} gagal.", "UPS self-tests, {failed} failed."),
    "ups.battery_date": ("tanggal baterai UPS dipasang, dan umurnya hari ini.",
                         "the date the UPS battery was fitted, and its age today."),
    "power_quality.min_v": ("tegangan PLN terendah.", "the lowest mains voltage."),
    "power_quality.max_v": ("tegangan PLN tertinggi.", "the highest mains voltage."),
    "power_quality.sags": ("kali tegangan turun di bawah 198 V.",
                           "times the voltage sagged below 198 V."),
    "power_quality.swells": ("kali tegangan naik di atas 231 V.",
                             "times the voltage rose above 231 V."),
    "meetings.count": ("rapat.", "meetings."),
    "meetings.hours": ("jam rapat seluruhnya.", "hours of meetings in total."),
    "meetings.peak_concurrent": ("rapat paling banyak pada saat yang sama: jumlah lisensi host "
                                 "yang dibutuhkan.",
                                 "meetings at most at the same moment: the host licences needed."),
    "conversion.count": ("konversi rekaman.", "recording conversions."),
    "conversion.median_s": ("lama konversi biasa (median).", "the usual conversion time (median)."),
    "conversion.longest_s": ("konversi terlama.", "the longest conversion."),
    "conversion.delayed_meetings": ("rapat dimulai saat rekaman sebelumnya masih dikonversi.",
                                    "meetings started while the last recording was still "
                                    "converting."),
    "pc.disk_free_gb": ("ruang disk rekaman yang masih kosong (PC terendah).",
                        "recording disk free now (the lowest PC)."),
    "pc.days_left": ("hari lagi sampai disk penuh.", "days until the disk is full."),
    "conversion.speed": ("menit rapat dikonversi per menit (median).",
                         "minutes of meeting converted per minute (median)."),
    "meetings.peak_live": ("rapat langsung (mikrofon atau kamera) paling banyak pada saat yang "
                           "sama: jumlah lisensi host yang dibutuhkan.",
                           "live meetings (microphone or camera) at most at the same moment: the "
                           "host licences needed."),
    'schedule.booked_count': ('rapat terjadwal.',
        'booked meetings.'),
    'schedule.booked_hours': ('jam rapat terjadwal.',
        'hours booked.'),
    'schedule.peak_booked': ('rapat terjadwal paling banyak pada saat yang sama: lisensi host yang diminta jadwal.',
        'bookings at most at one moment: the host licences the schedule asks for.'),
    'schedule.back_to_back': ('rapat terjadwal terlalu rapat dengan rapat sebelumnya.',
        'bookings too close to the one before.'),
    'schedule.not_ready': ('rapat terjadwal yang ruangannya belum siap.',
        'booked meetings the room was not ready for.'),
    # A count of 1 (render.ONE): the English singular; Indonesian does not inflect.
    "outages.count_one": ("kali listrik PLN padam.", "time the mains power failed."),
    "outages.during_meetings_one": ("pemadaman terjadi saat rapat berlangsung.",
                                    "outage happened during a meeting."),
    "outages.shutdowns_one": ("pemadaman berakhir dengan PC dimatikan.",
                              "outage ended with the PC shut down."),
    "outages.bridged_one": ("pemadaman ditanggung UPS sampai listrik kembali.",
                            "outage the UPS carried until the power came back."),
    "outages.unended_one": ("pemadaman tanpa catatan listrik kembali.",
                            "outage whose restore was never journaled."),
    "ups.discharges_one": ("pemadaman yang menjadi dasar pengukuran.",
                           "outage the measurement rests on."),
    "ups.replace_battery_one": ("kali UPS meminta baterai diganti.",
                                "time the UPS asked for a new battery."),
    "ups.selftests_one": ("uji mandiri UPS, {failed} gagal.", "UPS self-test, {failed} failed."),
    "power_quality.sags_one": ("kali tegangan turun di bawah 198 V.",
                               "time the voltage sagged below 198 V."),
    "power_quality.swells_one": ("kali tegangan naik di atas 231 V.",
                                 "time the voltage rose above 231 V."),
    "meetings.count_one": ("rapat.", "meeting."),
    "meetings.peak_concurrent_one": ("rapat paling banyak pada saat yang sama: jumlah lisensi "
                                     "host yang dibutuhkan.",
                                     "meeting at most at the same moment: the host licence "
                                     "needed."),
    "meetings.peak_live_one": ("rapat langsung (mikrofon atau kamera) paling banyak pada saat "
                               "yang sama: jumlah lisensi host yang dibutuhkan.",
                               "live meeting (microphone or camera) at most at the same moment: "
                               "the host licence needed."),
    "conversion.count_one": ("konversi rekaman.", "recording conversion."),
    "conversion.delayed_meetings_one": ("rapat dimulai saat rekaman sebelumnya masih dikonversi.",
                                        "meeting started while the last recording was still "
                                        "converting."),
    "pc.days_left_one": ("hari lagi sampai disk penuh.", "day until the disk is full."),
    "schedule.booked_count_one": ("rapat terjadwal.", "booked meeting."),
    "schedule.peak_booked_one": ("rapat terjadwal paling banyak pada saat yang sama: lisensi host "
                                 "yang diminta jadwal.",
                                 "booking at most at one moment: the host licence the schedule "
                                 "asks for."),
    "schedule.back_to_back_one": ("rapat terjadwal terlalu rapat dengan rapat sebelumnya.",
                                  "booking too close to the one before."),
    "schedule.not_ready_one": ("rapat terjadwal yang ruangannya belum siap.",
                               "booked meeting the room was not ready for."),
}
# ... and the rule that produced it (CONTRACT §5.8), by the same key.
RULE: dict[str, tuple[str, str]] = {
    "outages.count": ("Satu pemadaman = power_lost sampai power_restored berikutnya di ruang "
                      "yang sama.",
                      "One outage = a power_lost to the next power_restored of the same room."),
    "outages.during_meetings": ("Pemadaman yang waktunya bertumpang tindih dengan rapat "
                                "(meeting_started s.d. meeting_ended) di ruang itu.",
                                "Outages overlapping a meeting (meeting_started to "
                                "meeting_ended) of that room."),
    "outages.total_s": ("Jumlah lama semua pemadaman (power_restored.duration_s).",
                        "The sum of every outage's length (power_restored.duration_s)."),
    "outages.longest_s": ("Lama pemadaman yang paling panjang.", "The longest single outage."),
    "outages.p90_s": ("Persentil ke-90 (peringkat terdekat) dari lama pemadaman.",
                      "The nearest-rank 90th percentile of the outage lengths."),
    "outages.p90_s_few": ("Persentil ke-90 (peringkat terdekat) dari lama pemadaman: dengan "
                          "kurang dari 10 pemadaman, itu pemadaman terlama.",
                          "The nearest-rank 90th percentile of the outage lengths: with fewer "
                          "than 10 outages, the longest one."),
    "outages.shutdowns": ("Pemadaman dengan shutdown_sent.", "Outages with a shutdown_sent."),
    "outages.bridged": ("Jumlah pemadaman dikurangi yang berakhir dengan pematian PC.",
                        "The count minus those that ended in a shutdown."),
    "outages.unended": ("Dihitung sampai langkah terakhir yang tercatat (pemberitahuan, "
                        "penutupan, pematian PC).",
                        "Counted up to their last journaled step (notice, wrap-up, shutdown)."),
    "ups.runtime_needed_s": ("p90 lama pemadaman + policy.wrapup_at_runtime_s ({wrapup}): UPS "
                             "ini menanggung 9 dari 10 pemadaman dengan sisa waktu untuk "
                             "menyimpan rekaman.",
                             "p90 outage length + policy.wrapup_at_runtime_s ({wrapup}): such "
                             "a UPS carries 9 of 10 outages with the wrap-up margin left."),
    "ups.runtime_needed_s_few": ("p90 lama pemadaman (dengan kurang dari 10 pemadaman: yang "
                                 "terlama) + policy.wrapup_at_runtime_s ({wrapup}): UPS ini "
                                 "menanggung setiap pemadaman itu dengan sisa waktu untuk "
                                 "menyimpan rekaman.",
                                 "p90 outage length (with fewer than 10 outages: the longest) + "
                                 "policy.wrapup_at_runtime_s ({wrapup}): such a UPS carries every "
                                 "one of those outages with the wrap-up margin left."),
    "ups.runtime_now_s": ("battery.runtime dari keadaan terakhir ruang, pada beban saat itu. Hanya "
                          "ditampilkan: daftar belanja tidak memakainya.",
                          "battery.runtime of the room's last known state, at that moment's load. "
                          "Shown only: the buy list does not use it."),
    "ups.runtime_claimed_s": ("battery.runtime pada awal pemadaman, muatan penuh (95 % ke atas), "
                              "beban biasa.",
                              "battery.runtime at the start of outages, full charge (95 % or "
                              "more), the usual load."),
    "ups.runtime_measured_s": ("Laju turunnya muatan per menit terhadap beban, dari pemadaman "
                               "ruangan ini sendiri (kejadian runtime_learned), sampai titik "
                               "baterai lemah. Lebih dipercaya daripada klaim UPS.",
                               "The charge's fall per minute against the load, from this room's "
                               "own outages (runtime_learned events), down to the low-battery "
                               "point. Believed over the UPS's claim."),
    "ups.discharges": ("Pemadaman 30 dtk atau lebih dengan muatan turun 10 poin atau lebih.",
                       "Outages of 30 s or more in which the charge fell 10 points or more."),
    "ups.battery_wh_needed": ("runtime yang dibutuhkan x beban terukur (W) / (efisiensi 0,85 x "
                              "kedalaman pengosongan 0,8).",
                              "runtime needed x measured load (W) / (0.85 efficiency x 0.8 depth "
                              "of discharge)."),
    "ups.load_pct": ("Beban saat listrik padam dan beban yang tercatat selama rapat.",
                     "The load when the power failed and the load sampled during meetings."),
    "ups.load_w": ("Terukur oleh Siaga saat pemadaman (runtime_learned.load_w) bila ada; bila "
                   "tidak, beban (%) x daya nominal UPS (ups.realpower.nominal, atau "
                   "ups.power.nominal x 0,6).",
                   "Measured by Siaga on outages (runtime_learned.load_w) where it was; "
                   "otherwise load (%) x the UPS's rated power (ups.realpower.nominal, or "
                   "ups.power.nominal x 0.6)."),
    "ups.replace_battery": ("Kejadian replace_battery (status RB dari UPS).",
                            "replace_battery events (the UPS's RB status)."),
    "ups.selftests": ("Kejadian ups_selftest.", "ups_selftest events."),
    "ups.battery_date": ("battery.date dari UPS (atau battery.mfr.date).",
                         "battery.date of the UPS (or battery.mfr.date)."),
    "power_quality.min_v": ("Dari riwayat tegangan masuk (saat UPS tidak memakai baterai).",
                            "From the input voltage history (while not on battery)."),
    "power_quality.max_v": ("Dari riwayat tegangan masuk.", "From the input voltage history."),
    "power_quality.sags": ("PLN 220 V -10 %. Sering turun: pertimbangkan UPS online atau AVR.",
                           "PLN's 220 V -10 %. Frequent sags argue for an online UPS or an AVR."),
    "power_quality.swells": ("PLN 220 V +5 %.", "PLN's 220 V +5 %."),
    "meetings.count": ("Satu rapat = meeting_started sampai meeting_ended dari PC yang sama, "
                       "juga bila agennya dimulai ulang (terputus hingga 3 mnt).",
                       "One meeting = a meeting_started to the meeting_ended of the same PC, "
                       "also across a restart of its agent (offline up to 3 min)."),
    "meetings.hours": ("Jumlah lama semua rapat; rapat yang masih berjalan dipotong di akhir "
                       "periode.",
                       "The sum of the meetings' lengths; one still running is cut at the end "
                       "of the period."),
    "meetings.peak_concurrent": ("Jumlah terbesar rapat yang berjalan bersamaan di ruang-ruang "
                                 "yang dipilih.",
                                 "The most meetings running at one moment across the chosen "
                                 "rooms."),
    "conversion.count": ("conversion_started sampai conversion_ended dari PC yang sama.",
                         "A conversion_started to the conversion_ended of the same PC."),
    "conversion.median_s": ("Median lama konversi.", "The median conversion length."),
    "conversion.longest_s": ("Lama konversi yang paling panjang.", "The longest conversion."),
    "conversion.delayed_meetings": ("Rapat yang dimulai di PC yang masih menjalankan konversi: "
                                    "PC terlalu lambat untuk jadwal ini.",
                                    "Meetings that started on a PC still converting: the PC is "
                                    "too slow for the schedule."),
    "pc.disk_free_gb": ("disk_free_gb dari keadaan terakhir.",
                        "disk_free_gb of the last known state."),
    "pc.days_left": ("Ruang kosong dibagi pemakaian disk per hari (rata-rata 14 hari terakhir, "
                     "diukur agen PC); kosong sampai dua hari tercatat.",
                     "Free space over the disk's use per day (the average of the last 14 days, "
                     "measured by the PC agent); empty until two days are known."),
    "conversion.speed": ("Lama rapat dibagi lama konversi rekamannya: konversi yang dimulai di PC "
                         "yang sama paling lama 10 menit setelah rapat selesai.",
                         "A meeting's length over its recording's conversion time: the conversion "
                         "that starts on the same PC at most 10 minutes after the meeting ends."),
    "meetings.peak_live": ("Hanya rapat yang terlihat dari mikrofon atau kamera yang dipakai; "
                           "aplikasi rapat yang dibiarkan terbuka tidak dihitung.",
                           "Only meetings seen by their microphone or camera; a meeting app left "
                           "open is not counted."),
    'schedule.booked_count': ('Pemesanan dari kalender ruangan yang dimulai dalam periode ini (dicatat Pi ruangan saat rapat dimulai).',
        "Bookings from the room's calendar that began in the period (journaled by the room's Pi when each began)."),
    'schedule.booked_hours': ('Jumlah lama pemesanan; yang melewati akhir periode dipotong di sana.',
        "The bookings' lengths added up; one past the end of the period is cut there."),
    'schedule.peak_booked': ('Di ruang-ruang yang dipilih; bandingkan dengan rapat yang benar-benar berlangsung di atas.',
        'Across the chosen rooms; compare with the meetings really held above.'),
    'schedule.back_to_back': ('Dimulai kurang dari lama konversi biasa (median) setelah rapat sebelumnya di ruangan yang sama selesai: PC masih mengonversi.',
        'Starting less than the usual (median) conversion time after the one before ends in the same room: the PC is still converting.'),
    'schedule.not_ready': ('not_ready: saat pemeriksaan sebelum rapat ada masalah (baterai, PC, konversi, disk); rapat yang lalu dibatalkan tidak dihitung.',
        'not_ready: the check before the meeting found a problem (battery, PC, conversion, disk); a meeting cancelled afterwards is not counted.'),
}


def _ruled(key: str) -> str:
    """The key of a row's rule: a count's singular form (``key_one``) has its plural's."""
    return key if key in RULE else key.removesuffix("_one")


# Both, as (meaning id, meaning en, rule id, rule en).
ROWS: dict[str, tuple[str, str, str, str]] = {key: (*MEANING[key], *RULE[_ruled(key)])
                                              for key in MEANING}

# The buy list: item: (Indonesian, English); placeholders from the item's numbers.
BUY: dict[str, tuple[str, str]] = {
    "ups_buy": ("{room}: UPS yang bertahan setidaknya {need}{load}{wh}. Alasan: {outages}, "
                "ditambah {wrapup} untuk menyimpan rekaman{have}.{watts}",
                "{room}: a UPS that lasts at least {need}{load}{wh}. Reason: {outages}, plus "
                "{wrapup} to save the recording{have}.{watts}"),
    # What the p90 says, by how many outages there were (under 10 it is the longest one).
    "ups_p90": ("9 dari 10 pemadaman selesai dalam {p90}", "9 of 10 outages were over within {p90}"),
    "ups_p90_all": ("semua {n} pemadaman selesai dalam {p90}",
                    "all {n} outages were over within {p90}"),
    "ups_p90_one": ("satu-satunya pemadaman selesai dalam {p90}",
                    "the only outage was over within {p90}"),
    "ups_p90_two": ("kedua pemadaman selesai dalam {p90}", "both outages were over within {p90}"),
    "ups_at": (" pada {load}", " at {load}"),
    # No load in W (neither measured nor a rating): the UPS to buy is never a percentage of the
    # old one (CONTRACT §6.1); the line says how to get the watts.
    "ups_no_watts": (" Beban dalam W belum diketahui: tulis daya UPS (W pada labelnya) sebagai "
                     "default.ups.realpower.nominal di /etc/nut/ups.conf.",
                     " The load in W is not known yet: write the UPS's rated power (the W on its "
                     "label) as default.ups.realpower.nominal in /etc/nut/ups.conf."),
    "ups_wh": (" (baterai sekitar {wh} Wh = W x jam / (efisiensi 0,85 x kedalaman pengosongan "
               "0,8))",
               " (a battery of about {wh} Wh = W x hours / (0.85 efficiency x 0.8 depth of "
               "discharge))"),
    "ups_have_measured": ("; UPS sekarang terukur hanya {have}",
                          "; today's UPS was measured at only {have}"),
    "ups_have_claimed": ("; UPS sekarang mengaku {have} (belum terukur)",
                         "; today's UPS claims {have} (not measured yet)"),
    "ups_ok_measured": ("{room}: tidak perlu UPS baru. Alasan: UPS sekarang terukur bertahan "
                        "{have}, yang dibutuhkan {need}.",
                        "{room}: no new UPS needed. Reason: today's UPS was measured to last "
                        "{have}; {need} is needed."),
    "ups_ok_claimed": ("{room}: tidak perlu UPS baru. Alasan: UPS sekarang mengaku bertahan "
                       "{have} (belum terukur), yang dibutuhkan {need}.",
                       "{room}: no new UPS needed. Reason: today's UPS claims {have} (not "
                       "measured yet); {need} is needed."),
    "battery_tired": ("{room}: baterai UPS baru. Alasan: runtime terukur pada beban {load} turun "
                      "dari {first} menjadi {last} (seperlima atau lebih).",
                      "{room}: a new UPS battery. Reason: the measured runtime at {load} load "
                      "fell from {first} to {last} (a fifth or more)."),
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
    "pc_requirement_ok": ("PC rapat: sudah cukup. Syarat: mengonversi rekaman {rec} dalam {gap} "
                          "antar rapat ({speed_need}); PC sekarang {speed}.",
                          "Meeting PC: good enough. Requirement: convert a {rec} recording within "
                          "the {gap} between meetings ({speed_need}); today's PC does {speed}."),
    "pc_requirement_short": ("PC rapat yang mampu mengonversi rekaman {rec} dalam {gap} antar rapat "
                             "({speed_need}). Alasan: PC sekarang hanya {speed}; rekaman {rec} "
                             "butuh {takes}.",
                             "A meeting PC that converts a {rec} recording within the {gap} between "
                             "meetings ({speed_need}). Reason: today's PC does only {speed}; a {rec} "
                             "recording takes it {takes}."),
    "pc_requirement_unknown": ("Syarat PC rapat: mengonversi rekaman {rec} dalam {gap} antar rapat "
                               "({speed_need}). Kecepatan PC sekarang belum terukur.",
                               "The meeting PC's requirement: convert a {rec} recording within the "
                               "{gap} between meetings ({speed_need}). Today's PC's speed is not "
                               "measured yet."),
    # A conversion speed, needed or measured, written one way: "8,0 menit rapat per menit".
    "speed_v": ("{x} menit rapat per menit", "{x} minutes of meeting per minute"),
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
    i = 1 if lang == "en" else 0
    return MEANING[key][i].format(**values), RULE[_ruled(key)][i].format(**values)


def day(value: str, lang: str) -> str:
    """"2026-11-30" as "30 Nov 2026"."""
    d = dt.date.fromisoformat(value)
    return f"{d.day} {MONTHS.get(lang, MONTHS['id'])[d.month - 1]} {d.year}"


def battery_age(value: str, lang: str, today: dt.date) -> str:
    """"2022-03-01" as "1 Mar 2022 (umur 4 tahun 8 bulan)" on ``today`` (the site's day at the
    report's now, never this machine's); the text as it is when not a date."""
    try:
        fitted = dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        return str(value)
    months = (today.year - fitted.year) * 12 + today.month - fitted.month - (today.day < fitted.day)
    years, months = divmod(max(months, 0), 12)
    parts = [text(lang, "age_year" if years == 1 else "age_years", n=years)] if years else []
    parts += [text(lang, "age_month" if months == 1 else "age_months", n=months)] if months else []
    span = text(lang, "age", span=" ".join(parts)) if parts else text(lang, "age_new")
    return f"{day(value, lang)} ({span})"


def num(value: float | None, lang: str, digits: int = 0) -> str:
    """A number in the reader's convention ("1.234,5" in Indonesian)."""
    return number(value, lang, digits)
