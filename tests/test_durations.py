"""One number, one way: the same seconds are the same words on the banner, the page, in alerts
and in the report, and every text with a duration in it, in both languages, goes through the one
formatter (protocol/durations.py)."""

from __future__ import annotations

import re

import pytest

from dashboard.alerts import texts as alert_texts
from dashboard.alerts.rules import Alert, AlertKind
from dashboard.report import render, texts as report_texts
from dashboard.store.entry import SiteEntry
from dashboard.texts import events, i18n
from dashboard.web import present
from protocol.durations import Span, duration
from protocol.messages import EventKind, JournalEvent, OutageView, to_dict
from protocol.texts import BANNER_TEXTS, TEXTS, command_texts, runtime_line
from tests.dashboard_support import snapshot
from tests.report_support import FIRST, at, ev, make

LANGS = ("id", "en")
# Placeholders that carry a duration, whatever catalogue they are in.
DURATION = re.compile(r"\{(minutes|runtime|before|duration|need|have|p90|wrapup|every|unreadable_for|age)\}")


@pytest.mark.parametrize("seconds, span, lang, words", [
    (510, Span.AVAILABLE, "id", "8 mnt"), (510, Span.AVAILABLE, "en", "8 min"),
    (510, Span.NEEDED, "id", "9 mnt"),
    (389.8, Span.NEEDED, "id", "7 mnt"), (389.8, Span.AVAILABLE, "en", "6 min"),
    (300.0000001, Span.NEEDED, "id", "5 mnt"),           # float noise is not a minute more
    (59, Span.AVAILABLE, "id", "< 1 mnt"), (0, Span.AVAILABLE, "en", "< 1 min"),
    (0, Span.NEEDED, "id", "< 1 mnt"), (1, Span.NEEDED, "en", "1 min"),
    (3660, Span.AVAILABLE, "id", "1 jam 1 mnt"), (3600, Span.NEEDED, "en", "1 h"),
    (3601, Span.NEEDED, "en", "1 h 1 min"),
    (1210, Span.ELAPSED, "id", "20 mnt 10 dtk"), (180, Span.ELAPSED, "en", "3 min"),
    (32.7, Span.ELAPSED, "en", "32 s"), (0.4, Span.ELAPSED, "id", "< 1 dtk"),
    (4000, Span.ELAPSED, "en", "1 h 6 min"), (-5, Span.AVAILABLE, "id", "< 1 mnt"),
    (None, Span.AVAILABLE, "id", "–"), (float("nan"), Span.NEEDED, "en", "–"),
    (1e300, Span.AVAILABLE, "id", "–"),     # an event's detail said so: hundreds of digits
    (87840 * 3600, Span.ELAPSED, "en", "87840 h"),   # ten years is still a duration
])
def test_one_rounding_rule(seconds, span, lang, words):
    assert duration(seconds, lang, span) == words


def _card(seconds: float, lang: str) -> str:
    """The reason line of the room's card during a cut: "Sisa daya UPS 8 mnt"."""
    state = snapshot("rr1", "on_battery", runtime_s=seconds, outage=OutageView(started=0.0))
    return present.top_reason(SiteEntry(state, to_dict(state)), lang)


def _banner(key: str, lang: str, seconds: float) -> str:
    kind, _, part = key.partition(".")
    if kind == "runtime":
        return runtime_line(lang, seconds)
    return dict(zip(("title", "text", "chat"), command_texts(kind, lang, "", seconds)))[part]


def _event(kind: str, **detail) -> JournalEvent:
    return JournalEvent(site="rr1", seq=1, ts=0.0, kind=str(getattr(kind, "value", kind)), detail=detail)


def _page(key: str, lang: str, seconds: float) -> str:
    """The page's sentence for ``key``, made the way the page makes it, with ``seconds``."""
    if key == "ev_power_restored":
        return events.sentence(_event(EventKind.POWER_RESTORED, duration_s=seconds), lang)
    if key == "ev_runtime_estimated":
        return events.sentence(_event(EventKind.RUNTIME_ESTIMATED, ups="meeting",
                                      runtime_s=seconds, from_s=seconds), lang)
    if key == "ev_calendar_unreadable":   # how long the calendar had not been read
        return events.sentence(_event(EventKind.CALENDAR_UNREADABLE, since=-seconds,
                                      problem="timed out"), lang)
    if key == "ev_command_stale":
        return events.sentence(JournalEvent(site="rr1", seq=1, ts=0.0, kind=EventKind.COMMAND.value,
                                            detail={"kind": "silence", "id": "c", "by": "admin",
                                                    "ok": False, "age_s": seconds}), lang)
    if key in ("power_clause", "power_runtime"):
        return events.sentence(_event(EventKind.POWER_LOST, runtime_s=seconds), lang)
    if key == "too_many_attempts":
        return i18n.translate(lang, key, minutes=duration(seconds, lang, Span.NEEDED))
    if key == "sop_step_wrapup":   # the SOP's policy marks: to the second (dashboard/report/sop.py)
        from dashboard.report.sop import minutes as sop_minutes
        return i18n.translate(lang, key, wrapup=sop_minutes(seconds, lang))
    if key == "sop_check_auto":    # the runtime a room needs before a meeting: a minimum
        from dashboard.report.sop import at_least
        return i18n.translate(lang, key, ready="", charge="", runtime=at_least(seconds, lang))
    if key in ("sop_single_flash", "sop_single_dip"):   # a one-LED rhythm's period (sop._rhythm)
        return i18n.translate(lang, key, every=duration(seconds, lang, Span.ELAPSED))
    raise AssertionError(f"the page's text {key!r} has a duration nobody checks: add it here")


def _alert(key: str, lang: str, seconds: float) -> str:
    if key == "power_restored":
        alert = Alert("rr1", AlertKind.POWER_RESTORED, "Ruang 1", seconds, {"duration_s": seconds})
    elif key in ("runtime",):
        alert = Alert("rr1", AlertKind.POWER_LOST, "Ruang 1", seconds)
    elif key == "do_pc_not_off":   # switch it off by hand before the battery runs out
        alert = Alert("rr1", AlertKind.PC_NOT_OFF, "Ruang 1", seconds, {"pc": "meeting-pc"})
    else:
        raise AssertionError(f"the alert text {key!r} has a duration nobody checks: add it here")
    return "\n".join(alert_texts.render(alert, lang))


# The span each catalogue's placeholder stands for; the test fails for a new one.
PAGE_SPANS = {"ev_power_restored": Span.ELAPSED, "ev_calendar_unreadable": Span.ELAPSED,
              "ev_command_stale": Span.ELAPSED,
              "too_many_attempts": Span.NEEDED,
              "sop_step_wrapup": Span.ELAPSED, "sop_single_flash": Span.ELAPSED,
              "sop_single_dip": Span.ELAPSED}


def _page_span(key: str, seconds: float) -> Span:
    """The SOP's minimum runtime is exact under an hour (ELAPSED) and rounded up from an hour,
    where the formatter writes whole minutes (dashboard/report/sop.py at_least)."""
    if key == "sop_check_auto":
        return Span.ELAPSED if seconds < 3600 else Span.NEEDED
    return PAGE_SPANS.get(key, Span.AVAILABLE)
ALERT_SPANS = {"power_restored": Span.ELAPSED}


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("seconds", [510, 389.8, 59, 3725])
def test_every_banner_text_with_minutes_says_the_formatters_words(lang, seconds):
    keys = [f"{kind}.{part}" for kind, texts in TEXTS.items()
            for part, text in zip(("title", "text", "chat"), texts[lang]) if DURATION.search(text)]
    keys += [key for key, text in BANNER_TEXTS[lang].items() if DURATION.search(text)]
    assert len(keys) >= 6
    for key in keys:
        assert duration(seconds, lang, Span.AVAILABLE) in _banner(key, lang, seconds), key


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("seconds", [510, 389.8, 59, 3725])
def test_every_page_text_with_a_duration_says_the_formatters_words(lang, seconds):
    keys = [key for key, text in i18n.CATALOGUE[lang].items() if DURATION.search(text)]
    assert len(keys) >= 4
    for key in keys:
        words = duration(seconds, lang, _page_span(key, seconds))
        assert words in _page(key, lang, seconds), key
    assert _card(seconds, lang).endswith(duration(seconds, lang, Span.AVAILABLE))
    assert i18n.minutes(seconds, lang) == duration(seconds, lang, Span.AVAILABLE)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("seconds", [510, 389.8, 59, 3725])
def test_every_alert_text_with_a_duration_says_the_formatters_words(lang, seconds):
    keys = [key for key, text in alert_texts.CATALOGUE[lang].items() if DURATION.search(text)]
    assert len(keys) >= 2
    for key in keys:
        words = duration(seconds, lang, ALERT_SPANS.get(key, Span.AVAILABLE))
        assert words in _alert(key, lang, seconds), key


@pytest.mark.parametrize("lang", LANGS)
def test_510_seconds_left_is_8_minutes_on_banner_card_alert_and_page(lang):
    words = "8 mnt" if lang == "id" else "8 min"
    assert words in command_texts("notice", lang, "", 510)[1]
    assert runtime_line(lang, 510).endswith(words)
    assert _card(510, lang).endswith(words)
    assert words in alert_texts.render(Alert("rr1", AlertKind.POWER_LOST, "R", 510), lang)[1]
    assert words in events.sentence(_event(EventKind.NOTICE_SENT, pcs=["pc"], runtime_s=510), lang)


@pytest.mark.parametrize("lang", LANGS)
def test_the_report_table_and_buy_list_ask_for_the_same_runtime(lang):
    """p90 89.8 s + 300 s wrap-up = 389.8 s needed: 7 minutes in the table and in the buy list."""
    cut = [ev(at(1, 10), EventKind.POWER_LOST.value, charge_pct=100, runtime_claimed_s=200),
           ev(at(1, 10) + 89.8, EventKind.POWER_RESTORED.value, duration_s=89.8)]
    report = make({"rr1": cut})
    assert report["ups"]["runtime_needed_s"] == pytest.approx(389.8)
    words = "7 mnt" if lang == "id" else "7 min"
    table = render.sections(report["sites"]["rr1"], lang, 300, FIRST)[1]["rows"]
    needed = report_texts.row(lang, "ups.runtime_needed_s_few", wrapup="")[0]   # one outage
    assert [r.value for r in table if r.meaning == needed] == [words]
    buy = render.buy_lines(report, lang, 300)[0]
    assert f" {words}" in buy and ("UPS sekarang mengaku 3 mnt" in buy or "claims 3 min" in buy)


def test_report_texts_with_durations_are_all_filled_by_the_formatter():
    """Every report text with a duration placeholder is one the renderer fills (need, have, p90,
    wrapup); none left with a number of minutes written by hand."""
    keys = {key for key, pair in {**report_texts.TEXT, **report_texts.BUY}.items()
            if any(DURATION.search(t) for t in pair)}
    keys |= {key for key, row in report_texts.ROWS.items() if any(DURATION.search(t) for t in row)}
    assert keys == {"ups_buy", "ups.runtime_needed_s", "ups_have_measured",
                    "ups_have_claimed", "ups_ok_measured", "ups_ok_claimed", "ups_p90",
                    "ups_p90_all", "ups_p90_one", "ups_p90_two",
                    "ups.runtime_needed_s_few"}
    assert not any(re.search(r"\{\w*min\w*\}", t) for pair in report_texts.BUY.values() for t in pair)
