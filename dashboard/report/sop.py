"""`siaga sop`: this room's standard operating procedure on one A4 page (CONTRACT §6.3).

Generated from the room's siaga.toml, never written by hand: what each LED look means and what
staff do (the one looks table, protocol/looks.py, and the page's own words for each room state) on
the indicator the room has (``[gpio]``: one LED is a rhythm, not a colour; no buzzer, no buzzer
column), what the host does at the notice (the chat text the PC offers) and at the wrap-up, the
minutes of this room's policy (protocol/durations.py, the one formatter), whom to call
(``site.contact``) and who alerts IT (``[alerts]``, or the central dashboard of a bridged Pi), the
checks before a meeting, and the date and file it was made from. WeasyPrint prints it, as the
report. docs/report.md says what it says in each case.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import sys
from html import escape
from pathlib import Path
from zoneinfo import ZoneInfo

from dashboard.alerts.rules import AlertKind, Rules, passes
from dashboard.alerts.targets import describe, read_lines, urls_path
from dashboard.texts import keys
from dashboard.texts.i18n import number, translate
from dashboard.report.data import ReportError
from protocol.config import Config, load_config
from protocol.config.pi import READY_RUNTIME_MARGIN_S
from protocol.durations import Span, duration
from protocol.looks import LOOKS, PC_OFF, SINGLE_TIMES, Led, Look
from protocol.messages import Room
from protocol.texts import command_texts

# The looks in the order staff meet them: fine, a chore, then an outage's stages, then a fault.
ORDER = (Room.READY.value, Room.ATTENTION.value, Room.ON_BATTERY.value, Room.WRAPUP.value,
         Room.SHUTDOWN.value, PC_OFF, Room.FAULT.value)
# A room Pi whose broker bridges to a central one (docs/fleet.md, siaga/bridgecheck.py): the
# central dashboard's [alerts], which this file does not show, may page IT about it.
BRIDGE_FILE = Path("/etc/mosquitto/conf.d/siaga-bridge.conf")
# What the dashboard alerts IT about, in the order of an outage, by the alert that says it
# (alerts.min_room lets each out or not: dashboard/alerts/rules.py).
ALERTS_WHEN = ((AlertKind.POWER_LOST, "sop_alert_power"), (AlertKind.WRAPUP, "sop_alert_wrapup"),
               (AlertKind.SHUTDOWN, "sop_alert_shutdown"),
               (AlertKind.NOT_READY, "sop_alert_not_ready"),
               (AlertKind.REPLACE_BATTERY, "sop_alert_battery"),
               (AlertKind.UPS_UNREACHABLE, "sop_alert_fault"))
CSS = """@page { size: A4; margin: 10mm 14mm; }
body { font: 9pt/1.28 "DejaVu Sans", sans-serif; color: #111; margin: 0; }
h1 { font-size: 14pt; margin: 0 0 1mm; } h2 { font-size: 10.5pt; margin: 2.6mm 0 .8mm; }
p { margin: .6mm 0; } .muted { color: #555; font-size: 8.4pt; }
table { border-collapse: collapse; width: 100%; } td, th { border: .3mm solid #999; padding: 1mm 1.6mm;
vertical-align: top; text-align: left; } th { background: #eee; }
.dot { display: inline-block; width: 3.2mm; height: 3.2mm; border-radius: 50%; margin-right: 1.4mm;
vertical-align: -.4mm; border: .2mm solid #333; } .led-green { background: #16a34a; }
.led-amber { background: #f59e0b; } .led-red { background: #dc2626; } .led-off { background: #ccc; }
.chat { border-left: 1mm solid #1d4ed8; padding: 1mm 2mm; background: #f3f6ff; font-style: italic; }
ol { margin: .5mm 0; padding-left: 5mm; } li { margin: .3mm 0; }
.contact { font-size: 11pt; font-weight: bold; }"""


def minutes(seconds: float, lang: str) -> str:
    """A policy mark in the one duration format, exact to the second ("2 mnt 30 dtk"): a mark
    is a setting, neither a need to round up nor a runtime to round down."""
    return duration(seconds, lang, Span.ELAPSED)


def at_least(seconds: float, lang: str) -> str:
    """A minimum the room must meet ("at least 17 mnt 30 dtk" of runtime): to the second under
    an hour, as every mark; from an hour, where the formatter writes whole minutes, rounded up
    (NEEDED), so that a runtime the page writes as "1 jam" never meets a printed "at least 1 jam"
    it is short of (the check wants 1 jam 0 mnt 30 dtk)."""
    return duration(seconds, lang, Span.ELAPSED if seconds < 3600 else Span.NEEDED)


def percent(value: float, lang: str) -> str:
    """A percent setting in the page's number format ("62,5" in Indonesian), with a decimal
    only when the setting has one ("85")."""
    return number(value, lang, 0 if float(value).is_integer() else 1)


def document(config: Config, lang: str, made: float) -> str:
    """The SOP as one HTML document (A4, print CSS inlined)."""
    t = lambda key, **kw: escape(translate(lang, key, **kw))   # noqa: E731 - the page's words
    p, site = config.policy, config.site
    place = site.name or site.id
    marks = {"notice": minutes(p.notice_after_s, lang), "wrapup": minutes(p.wrapup_at_runtime_s, lang),
             "shutdown": minutes(p.shutdown_at_runtime_s, lang), "grace": minutes(p.shutdown_grace_s, lang),
             "ready": minutes(p.ready_before_s, lang), "charge": percent(p.ready_min_charge_pct, lang)}
    chat = command_texts("notice", lang, place, None)[2]
    # The PC's chat says the runtime left when it comes, rounded down ("5 mnt" at 5 mnt 30 dtk):
    # printed here it would contradict the step's own mark, so it says "a few minutes", as the
    # notice's does.
    wrapup_chat = command_texts("wrapup", lang, place, None)[2]
    single, buzzer = config.gpio.led_kind == "single", bool(config.gpio.buzzer_pin)
    # A one-LED room is told by rhythm, not colour: its texts name the look's rhythm.
    rhythm = {state: escape(_rhythm(LOOKS[state], lang)) for state in (Room.READY.value,
                                                                       Room.ATTENTION.value)}
    amber = t("sop_not_ready_single", look=rhythm[Room.ATTENTION.value]) if single \
        else t("sop_not_ready_colour")
    # Without a calendar there is no booking, so no check before a meeting (edge.readiness).
    auto = t("sop_check_auto", ready=marks["ready"], charge=marks["charge"],
             runtime=at_least(p.wrapup_at_runtime_s + READY_RUNTIME_MARGIN_S, lang)) + " " + amber \
        if site.calendar else t("sop_check_no_calendar")
    check_led = t("sop_check_led_single", look=rhythm[Room.READY.value]) if single \
        else t("sop_check_led")
    back = t("sop_step_back_single", look=rhythm[Room.READY.value]) if single \
        else t("sop_step_back")
    silence = f'<p>{t("sop_silence")}</p>' if buzzer and config.gpio.button_pin else ""
    origin = t("sop_made", when=_made(made, site.timezone), path=config.path,
               digest=_digest(config.path))
    parts = [f'<h1>{t("sop_title", place=place)}</h1>',
             f'<p class="muted">{t("sop_intro")}</p>',
             f'<h2>{t("sop_leds" if buzzer else "sop_leds_no_buzzer")}</h2>',
             _looks_table(lang, t, single, buzzer), silence,
             f'<h2>{t("sop_outage")}</h2><ol>',
             f'<li>{t("sop_step_notice", notice=marks["notice"])}</li>',
             f'<li>{t("sop_step_chat")}<div class="chat">{escape(chat)}</div></li>',
             f'<li>{t("sop_step_wrapup", wrapup=marks["wrapup"])}'
             f'<div class="chat">{escape(wrapup_chat)}</div></li>',
             f'<li>{t("sop_step_shutdown", shutdown=marks["shutdown"], grace=marks["grace"])}</li>',
             f'<li>{back}</li></ol>',
             f'<h2>{t("sop_before")}</h2><ol>',
             f'<li>{auto}</li>',
             f'<li>{check_led}</li><li>{t("sop_check_pc")}</li>',
             f'<li>{t("sop_check_recording")}</li></ol>',
             f'<h2>{t("sop_call")}</h2>',
             f'<p class="contact">{escape(site.contact) if site.contact else t("sop_no_contact")}</p>',
             f'<p>{escape(_alerted(config, lang))}</p>',
             f'<p class="muted">{origin}</p>']
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
            f'<title>{t("sop_title", place=place)}</title><style>{CSS}</style></head>'
            f'<body>{"".join(parts)}</body></html>')


def _looks_table(lang: str, t, single: bool, buzzer: bool) -> str:
    """One row per look of the one looks table: LED, buzzer (only in a room that has one), what
    it means, what staff do. A one-LED room's LED is its rhythm, not a colour it cannot show."""
    head = [t("led")] + ([t("buzzer")] if buzzer else []) + [t("sop_means"), t("sop_staff_do")]
    rows = ["<tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>"]
    for state in ORDER:
        look = LOOKS[state]
        if single:
            shown = escape(_rhythm(look, lang))
        else:
            shown = (f'<span class="dot led-{look.led.value}"></span>{t(keys.LED[look.led])}'
                     + ("" if look.led == Led.OFF else ", " + t(keys.PATTERN[look.pattern])))
        sound = f"<td>{t(keys.BUZZ[look.buzz])}</td>" if buzzer else ""
        rows.append(f'<tr><td>{shown}</td>{sound}<td>{t(keys.key(keys.ROOM, state))}</td>'
                    f'<td>{t(keys.key(keys.TODO, state))}</td></tr>')
    return f'<table>{"".join(rows)}</table>'


def _rhythm(look: Look, lang: str) -> str:
    """How a one-LED room shows ``look`` (protocol/looks.py SINGLE_TIMES, which the Pi drives):
    "menyala tetap", "berkedip 2 kali per detik", "berkedip singkat tiap 2 dtk"."""
    timing = SINGLE_TIMES.get((look.led, look.pattern))
    if timing is None:
        return translate(lang, keys.LED[Led.OFF])
    on, off = timing
    if not off:
        return translate(lang, "sop_single_steady")
    every = duration(on + off, lang, Span.ELAPSED)
    if on < off:
        return translate(lang, "sop_single_flash", every=every)
    if on > off:
        return translate(lang, "sop_single_dip", every=every)
    per_second = 1 / (on + off)
    if per_second == 1:
        return translate(lang, "sop_single_blink_one")
    return translate(lang, "sop_single_blink", n=number(per_second, lang, 0))


def _alerted(config: Config, lang: str) -> str:
    """Who tells IT, as far as this file shows: the route of ``alerts.urls_file`` and what
    ``alerts.min_room`` lets out; that nobody is paged; or, on a Pi bridged to a central
    dashboard (whose [alerts] this file does not show), that alerts come from there if set."""
    route = _route(config, lang)
    if route is None:
        return translate(lang, "sop_alerts_central" if BRIDGE_FILE.exists() else "sop_alerts_none")
    rules = Rules(min_room=config.alerts.min_room)
    when = [translate(lang, key) for kind, key in ALERTS_WHEN if passes(kind, rules)
            and (kind != AlertKind.NOT_READY or config.site.calendar)]   # no booking, no check
    return translate(lang, "sop_alerts_to", route=route, when=_listing(when, lang))


def _route(config: Config, lang: str) -> str | None:
    """The services ``alerts.urls_file`` sends to ("Telegram dan E-Mail": Apprise's names, never a
    URL, which holds a token); the file named when it cannot be read here; None when it names
    no target (no file, or a file without a URL: alerts are sent nowhere)."""
    path = urls_path(config)
    if path is None:
        return None
    try:
        lines = read_lines(path)
    except (OSError, UnicodeError):      # readable by the dashboard's user only, perhaps
        return translate(lang, "sop_alerts_file", file=config.alerts.urls_file)
    services = list(dict.fromkeys(item.service for item, _ in describe(lines) if item.service))
    return _listing(services, lang) if services else None


def _listing(items: list[str], lang: str) -> str:
    """"a, b dan c" / "a, b and c"."""
    if len(items) < 2:
        return "".join(items)
    return f'{", ".join(items[:-1])} {translate(lang, "sop_and")} {items[-1]}'


def _made(ts: float, zone: str) -> str:
    return dt.datetime.fromtimestamp(ts, ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")


def _digest(path: str) -> str:
    """The first 12 hex digits of the config file's SHA-256: which version it was made from."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]
    except OSError:
        return "?"


def run(args: argparse.Namespace, now: float | None = None) -> int:
    """`siaga sop [--lang id|en] [--format pdf|html] [-o FILE]`; bad output: one line, status 2."""
    import time
    from dashboard.report.render import pdf
    config = load_config(args.config)
    lang = args.lang or config.site.language
    html = document(config, lang, time.time() if now is None else now)
    try:
        data = pdf(html) if args.format == "pdf" else html.encode()
        if args.output:
            Path(args.output).write_bytes(data)
        else:
            sys.stdout.buffer.write(data)
    except ReportError as exc:
        print(f"siaga sop: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"siaga sop: cannot write {args.output}: {exc.strerror}", file=sys.stderr)
        return 2
    return 0
