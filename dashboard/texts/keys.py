"""Which text of the page's catalogue says each word of the wire: room states, looks, reasons,
event kinds, commands, NUT flags. Every key is written out here, never built from a prefix
(``"room_" + room``), so ``grep room_on_battery`` finds every place that shows it.

Pure tables; ``key(table, word)`` gives a word this version does not know back as it is (the
catalogue shows a key it lacks as the key itself: the word, never a crash).
"""

from __future__ import annotations

from protocol.looks import PC_OFF, Buzz, Led, Pattern
from protocol.messages import EdgeCommandKind, EventKind, PcCommandKind, Room

STALE = "stale"
NEVER_SEEN = "never_seen"    # a room the config names that has never reported (overview only)

ROOM = {Room.READY: "room_ready", Room.ATTENTION: "room_attention",
        Room.ON_BATTERY: "room_on_battery", Room.WRAPUP: "room_wrapup",
        Room.SHUTDOWN: "room_shutdown", Room.FAULT: "room_fault", STALE: "room_stale",
        PC_OFF: "room_pc_off", NEVER_SEEN: "room_never_seen"}
SHORT = {Room.READY: "short_ready", Room.ATTENTION: "short_attention",
         Room.ON_BATTERY: "short_on_battery", Room.WRAPUP: "short_wrapup",
         Room.SHUTDOWN: "short_shutdown", Room.FAULT: "short_fault", STALE: "short_stale",
         PC_OFF: "short_pc_off", NEVER_SEEN: "short_never_seen"}
TODO = {Room.READY: "do_ready", Room.ATTENTION: "do_attention", Room.ON_BATTERY: "do_on_battery",
        Room.WRAPUP: "do_wrapup", Room.SHUTDOWN: "do_shutdown", Room.FAULT: "do_fault",
        STALE: "do_stale", PC_OFF: "do_pc_off", NEVER_SEEN: "do_never_seen"}
LED = {Led.GREEN: "led_green", Led.AMBER: "led_amber", Led.RED: "led_red", Led.OFF: "led_off"}
PATTERN = {Pattern.SOLID: "pattern_solid", Pattern.BLINK: "pattern_blink",
           Pattern.BLINK_FAST: "pattern_fast_blink", Pattern.OFF: "pattern_off"}
BUZZ = {Buzz.OFF: "buzz_off", Buzz.OUTAGE: "buzz_outage", Buzz.WRAPUP: "buzz_wrapup",
        Buzz.SHUTDOWN: "buzz_shutdown", Buzz.RESTORED: "buzz_restored"}
RANGE = {"6h": "range_6h", "24h": "range_24h", "7d": "range_7d", "30d": "range_30d"}
CHART = {"charge": "chart_charge", "runtime": "chart_runtime", "load": "chart_load",
         "voltage": "chart_voltage"}
UNIT = {"charge": "unit_charge", "runtime": "unit_runtime", "load": "unit_load",
        "voltage": "unit_voltage"}
# The buttons of the room page, one per command people may send.
ACT = {EdgeCommandKind.SILENCE: "act_silence", EdgeCommandKind.TEST_INDICATOR: "act_test_indicator",
       EdgeCommandKind.TEST_NOTICE: "act_test_notice",
       EdgeCommandKind.UPS_SELFTEST: "act_ups_selftest"}
# The state's machine-readable causes (``pc_offline:meeting-pc``), by their code.
REASON = {"pc_offline": "reason_pc_offline", "replace_battery": "reason_replace_battery",
          "ups_unreachable": "reason_ups_unreachable", "overload": "reason_overload",
          "low_charge": "reason_low_charge", "disk_low": "reason_disk_low",
          "on_battery": "reason_on_battery", "low_battery": "reason_low_battery",
          "fsd_on_mains": "reason_fsd_on_mains", "self_test": "reason_self_test",
          "battery_low": "reason_battery_low", "runtime_low": "reason_runtime_low",
          "converting": "reason_converting", "calendar_unreadable": "reason_calendar_unreadable"}
# What staff or IT do about a problem before a booked meeting (readiness, CONTRACT §6.3).
FIX = {"battery_low": "fix_battery_low", "runtime_low": "fix_runtime_low",
       "converting": "fix_converting", "pc_offline": "fix_pc_offline", "disk_low": "fix_disk_low"}
# NUT's ups.status flags in words.
UPS_FLAG = {"OL": "ups_flag_OL", "OB": "ups_flag_OB", "LB": "ups_flag_LB", "HB": "ups_flag_HB",
            "RB": "ups_flag_RB", "CHRG": "ups_flag_CHRG", "DISCHRG": "ups_flag_DISCHRG",
            "BYPASS": "ups_flag_BYPASS", "CAL": "ups_flag_CAL", "OFF": "ups_flag_OFF",
            "OVER": "ups_flag_OVER", "TRIM": "ups_flag_TRIM", "BOOST": "ups_flag_BOOST",
            "FSD": "ups_flag_FSD", "ALARM": "ups_flag_ALARM", "TEST": "ups_flag_TEST",
            "WAIT": "ups_flag_WAIT"}
# Why a UPS cannot be read (edge/power.py UNREADABLE_REASONS).
NUT = {"refused": "nut_refused", "timeout": "nut_timeout", "unknown_ups": "nut_unknown_ups",
       "driver_not_connected": "nut_driver_not_connected", "data_stale": "nut_data_stale",
       "starting": "nut_starting", "access_denied": "nut_access_denied",
       "protocol_error": "nut_protocol_error"}
# Why a stage came (the ``why`` of notice_sent, wrapup_sent, shutdown_sent).
WHY = {"runtime": "why_runtime", "low_battery": "why_low_battery", "fsd": "why_fsd",
       "charge": "why_charge", "ups_unreadable": "why_ups_unreadable",
       "converting": "why_converting", "runtime_estimated": "why_runtime_estimated"}
# Who sent an edge command (its ``by``); anyone else is "by_other".
BY = {"button": "by_button", "admin": "by_admin", "api": "by_api", "mqtt": "by_mqtt",
      "dashboard": "by_dashboard"}
# A command's name in a sentence, PC commands and edge commands alike.
COMMAND = {PcCommandKind.NOTICE: "cmd_notice", PcCommandKind.WRAPUP: "cmd_wrapup",
           PcCommandKind.SHUTDOWN: "cmd_shutdown", PcCommandKind.CANCEL: "cmd_cancel",
           PcCommandKind.TEST: "cmd_test", EdgeCommandKind.SILENCE: "cmd_silence",
           EdgeCommandKind.TEST_INDICATOR: "cmd_test_indicator",
           EdgeCommandKind.TEST_NOTICE: "cmd_test_notice",
           EdgeCommandKind.UPS_SELFTEST: "cmd_ups_selftest", EdgeCommandKind.REPLAY: "cmd_replay"}
# Each journal event kind's sentence (a test walks EventKind), and its variants: (resumed,
# unsynced) for edge_started, failed for an answer that says so, off for a cancel no PC heard,
# by process for a meeting only guessed from its running client.
# str keys: an EventKind is its own value, and journal events carry plain strings.
EVENT: dict[str, str] = {
    EventKind.EDGE_STARTED: "ev_edge_started", EventKind.POWER_LOST: "ev_power_lost",
    EventKind.POWER_RESTORED: "ev_power_restored", EventKind.LOW_BATTERY: "ev_low_battery",
    EventKind.NOTICE_SENT: "ev_notice_sent", EventKind.WRAPUP_SENT: "ev_wrapup_sent",
    EventKind.SHUTDOWN_SENT: "ev_shutdown_sent", EventKind.CANCEL_SENT: "ev_cancel_sent",
    EventKind.PC_ACK: "ev_pc_ack", EventKind.PC_ONLINE: "ev_pc_online",
    EventKind.PC_OFFLINE: "ev_pc_offline", EventKind.PC_OFF: "ev_pc_off",
    EventKind.UPS_UNREACHABLE: "ev_ups_unreachable", EventKind.UPS_REACHABLE: "ev_ups_reachable",
    EventKind.REPLACE_BATTERY: "ev_replace_battery", EventKind.UPS_SELFTEST: "ev_ups_selftest",
    EventKind.UPS_FSD_ON_MAINS: "ev_ups_fsd_on_mains", EventKind.SILENCED: "ev_silenced",
    EventKind.COMMAND: "ev_command", EventKind.MEETING_STARTED: "ev_meeting_started",
    EventKind.MEETING_ENDED: "ev_meeting_ended",
    EventKind.CONVERSION_STARTED: "ev_conversion_started",
    EventKind.CONVERSION_ENDED: "ev_conversion_ended", EventKind.SHUTDOWN_HELD: "ev_shutdown_held",
    EventKind.RUNTIME_ESTIMATED: "ev_runtime_estimated", EventKind.REPLAYED: "ev_replayed",
    EventKind.PI_POWEROFF: "ev_pi_poweroff", EventKind.RUNTIME_LEARNED: "ev_runtime_learned",
    EventKind.NOT_READY: "ev_not_ready", EventKind.READY_AGAIN: "ev_ready_again",
    EventKind.BOOKING: "ev_booking", EventKind.CALENDAR_UNREADABLE: "ev_calendar_unreadable",
    EventKind.CALENDAR_READABLE: "ev_calendar_readable",
}
EDGE_STARTED = {(False, False): "ev_edge_started", (True, False): "ev_edge_started_resumed",
                (False, True): "ev_edge_started_unsynced",
                (True, True): "ev_edge_started_resumed_unsynced"}
FAILED = {EventKind.PC_ACK: "ev_pc_ack_failed", EventKind.UPS_SELFTEST: "ev_ups_selftest_failed",
          EventKind.COMMAND: "ev_command_stale"}
# A shutdown's second answer: its command ran and the PC is still up.
PC_NOT_OFF = "ev_pc_not_off"
CANCEL_SENT_OFF = "ev_cancel_sent_off"
# A meeting seen only as a running client (its captures cannot be seen): a "maybe", as in the
# PC table (CONTRACT §6.2 ``by`` "process").
MEETING_BY_PROCESS = "ev_meeting_started_by_process"
# The page's plurals: (one, other).
PLURAL = {"summary_all": ("summary_all_one", "summary_all_other"),
          "summary_problems": ("summary_problems_one", "summary_problems_other"),
          "cuts": ("cuts_one", "cuts_other"),
          "meeting_problems": ("meeting_problems_one", "meeting_problems_other")}


def key(table: dict, word: object) -> str:
    """The text key of ``word`` in ``table``; the word itself when the table lacks it."""
    return table.get(word, str(word)) if isinstance(word, str) else str(word)
