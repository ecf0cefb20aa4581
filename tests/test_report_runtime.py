"""The report's runtime claimed vs measured (CONTRACT §6.1), from journal events alone: the same
facts give the same JSON from the dashboard's database and from one edge journal."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo


from dashboard.report import render
from dashboard.report.build import Policy, SiteInput, build
from dashboard.report.facts import Ev, window
from dashboard.store.database import SqliteDatabase as Database
from edge.journal import Journal
from protocol.messages import JournalEvent

ROOT = Path(__file__).resolve().parent.parent
ZONE = ZoneInfo("Asia/Jakarta")
FIRST, LAST = dt.date(2026, 6, 1), dt.date(2026, 11, 30)
NOW = dt.datetime(2026, 12, 5, tzinfo=ZONE).timestamp()


def at(month: int, day: int, hh: int = 10) -> float:
    return dt.datetime(2026, month, day, hh, tzinfo=ZONE).timestamp()


def learned(ts: float, rate_pct_per_min: float, n: int, load: float = 35.0, ups: str = "meeting") -> Ev:
    """What the edge journals after a discharge: this cut's rate, and its fit (k x load^1)."""
    return Ev(ts, "runtime_learned", "", {
        "ups": ups, "rate_pct_per_min": rate_pct_per_min, "load_pct": load, "discharges": n,
        "k": rate_pct_per_min / 60 / load, "exponent": 1.0, "low_pct": 20.0, "load_w": 210})


def cut(ts: float, minutes: float, claim_s: float = 1500.0, shutdown: bool = False) -> list[Ev]:
    """A power cut of ``minutes`` at 35 % load on a full battery whose UPS claims ``claim_s``."""
    out = [Ev(ts, "power_lost", "", {"ups": ["meeting"], "charge_pct": 100.0, "load_pct": 35.0,
                                     "runtime_s": claim_s, "runtime_claimed_s": claim_s})]
    if shutdown:
        out.append(Ev(ts + 60 * minutes - 30, "shutdown_sent", "", {"pcs": ["pc1"]}))
    return out + [Ev(ts + 60 * minutes, "power_restored", "", {"duration_s": 60 * minutes})]


def office() -> list[Ev]:
    """Three cuts of 7 min, 3 and 12 min; the UPS claims 25 min, lasts 11 (80 points at
    7.27 %/min) by its last measurement; in June it lasted 16 min at the same load."""
    return [*cut(at(6, 10), 7), learned(at(6, 10, 11), 5.0, 1),
            *cut(at(9, 3), 3), *cut(at(11, 20), 12, shutdown=True),
            learned(at(11, 20, 11), 80 / 11, 2)]


def make(events: list[Ev]) -> dict:
    win = window(FIRST, LAST, ZONE, NOW)
    return build([SiteInput("rr1", "rr1", iter(events))], win, ZONE, Policy(wrapup_at_runtime_s=300))


def test_report_believes_the_measurement_over_the_claim():
    ups = make(office())["sites"]["rr1"]["ups"]
    assert ups["runtime_claimed_s"] == 1500.0
    assert ups["runtime_measured_s"] == 660             # 80 points at 80/11 %/min: 11 min
    assert ups["discharges"] == 2
    # need: p90 of (7, 3, 12 min) = 12 min + 5 min wrap-up = 1020 s; at 210 W:
    # 1020 / 3600 h x 210 W / (0.85 x 0.8) = 87.5 Wh -> 90 Wh.
    assert ups["runtime_needed_s"] == 1020.0 and ups["battery_wh_needed"] == 90.0
    buy = [i for i in make(office())["buy"] if i["item"].startswith("ups_")]
    assert buy == [{"item": "ups_buy", "site": "rr1", "need_min": 17, "load_w": 210,
                    "basis": "measured", "battery_wh": 90.0, "have_min": 11}]
    line = [t for t in render.buy_lines(make(office()), "en", 300) if "lasts at least" in t][0]
    assert line == ("rr1: a UPS that lasts at least 17 min at 210 W (a battery of about 90 Wh = "
                    "W x hours / (0.85 efficiency x 0.8 depth of discharge)). Reason: all 3 "
                    "outages were over within 12 min, plus 5 min to save the recording; today's "
                    "UPS was measured at only 11 min.")


def test_a_charge_that_sags_on_battery_is_not_counted_as_minutes():
    """A blazer UPS reads its charge from the battery's voltage: on battery at 35 % it drops at
    once by 27 points (the edge's runtime_learned says sag_pct 27). From 100 % it lasts
    (100 - 27 - 20) points at 80/11 %/min = 7 min, not 11: the verdict is on the 7."""
    events = [e for e in office() if e.kind != "runtime_learned"]
    sagging = Ev(at(11, 20, 11), "runtime_learned", "", {
        **learned(at(11, 20, 11), 80 / 11, 2).detail, "sag_pct": 27.0})
    ups = make(events + [sagging])["sites"]["rr1"]["ups"]
    assert ups["runtime_measured_s"] == round(53 / (80 / 11) * 60)   # 437 s
    buy = [i for i in make(events + [sagging])["buy"] if i["item"] == "ups_buy"][0]
    assert buy["have_min"] == 7 and buy["basis"] == "measured"


def test_the_claimed_runtime_by_month_does_not_fall_when_siaga_starts_measuring():
    """A v1.2 edge journals power_lost.runtime_s as the smaller of claim and measurement: from
    the second cut on, the measured 11 min. The months of "UPS runtime when the power failed"
    read 25, 11, 11 min under "a falling line at the same load means a tiring battery", while
    the UPS claimed 25 min every time. They are the claim's months, at full charge."""
    events = office()
    for e in events:
        if e.kind == "power_lost" and e.ts > at(7, 1):
            e.detail["runtime_s"] = 660.0         # the measurement was the smaller
    events.append(Ev(at(10, 5), "power_lost", "", {"ups": ["meeting"], "charge_pct": 60.0,
                                                   "load_pct": 35.0, "runtime_s": 400.0,
                                                   "runtime_claimed_s": 900.0}))
    events.append(Ev(at(10, 5) + 300, "power_restored", "", {"duration_s": 300}))
    months = make(sorted(events))["sites"]["rr1"]["ups"]["runtime_by_month"]
    assert [(m["month"], m["runtime_s"]) for m in months] == [
        ("2026-06", 1500.0), ("2026-09", 1500.0), ("2026-11", 1500.0)]


def test_a_battery_whose_measured_runtime_fell_by_a_fifth_is_tired():
    report = make(office())
    ups = report["sites"]["rr1"]["ups"]
    assert [m["month"] for m in ups["runtime_measured_by_month"]] == ["2026-06", "2026-11"]
    assert ups["runtime_measured_by_month"][0]["runtime_s"] == 960.0   # 80 / 5 %/min = 16 min
    assert ups["battery_tired"] is True and report["ups"]["battery_tired"] == ["rr1"]
    assert "fell from 16 min to 11 min" in " ".join(render.buy_lines(report, "en", 300))
    steady = make([e for e in office() if e.kind != "runtime_learned"] +
                  [learned(at(6, 10, 11), 7.0, 1), learned(at(11, 20, 11), 80 / 11, 2)])
    assert steady["sites"]["rr1"]["ups"]["battery_tired"] is False     # 11.4 -> 11 min: fine


def test_each_ups_is_measured_from_its_own_discharges():
    """The room's cuts also discharge the switch's UPS ("network", powers_pc = false: never named
    in power_lost), which learns too (74 min at 30 %). Mixed in, each month was the median of
    both batteries: the meeting UPS's fall from 16 to 11 min read 46 and 43 min, not tired; and
    the switch's one June discharge before the meeting UPS's one November discharge read 74
    and 12 min, a tired battery made of two. Each UPS has its own months (the switch's are not
    judged: it does not feed the PC), and the room's runtime is the meeting UPS's, not the one
    listed last (the switch's 74 min)."""
    network = [learned(at(6, 10, 11), 1.0, 1, load=30.0, ups="network"),
               learned(at(11, 20, 11), 1.0, 2, load=30.0, ups="network")]
    report = make(office() + network)
    ups = report["sites"]["rr1"]["ups"]
    assert [(m["month"], m["runtime_s"]) for m in ups["runtime_measured_by_month"]] == [
        ("2026-06", 960.0), ("2026-11", 660.0)]
    assert (ups["runtime_measured_s"], ups["measured_ups"], ups["discharges"]) == (660, "meeting", 2)
    assert [i for i in report["buy"] if i["item"] == "battery_tired"] == [
        {"item": "battery_tired", "site": "rr1", "first_s": 960.0, "last_s": 660.0, "load_pct": 35.0}]
    steady = [e for e in office() if e.kind != "runtime_learned"] + [learned(at(11, 20, 11), 80 / 11, 2)]
    early = [learned(at(6, 10, 11), 1.0, 1, load=30.0, ups="network")]
    assert make(steady + early)["sites"]["rr1"]["ups"]["battery_tired"] is False


def test_a_ups_that_does_not_feed_the_pc_never_speaks_for_the_room():
    """Only the switch's UPS learned from the cuts (the meeting UPS's discharges were too short):
    the room's runtime is not measured; the meeting UPS's claim decides."""
    network = [learned(at(6, 10, 11), 0.5, 1, load=10.0, ups="network")]
    cuts = [e for e in office() if e.kind != "runtime_learned"]     # power_lost names "meeting"
    ups = make(cuts + network)["sites"]["rr1"]["ups"]
    assert (ups["runtime_measured_s"], ups["discharges"]) == (None, 0)
    assert ups["runtime_claimed_s"] == 1500.0 and ups["measured_ups"] is None


def test_no_measurement_yet_the_claim_decides_and_says_so():
    ups = make([e for e in office() if e.kind != "runtime_learned"])["sites"]["rr1"]["ups"]
    assert ups["runtime_measured_s"] is None and ups["discharges"] == 0
    assert ups["battery_wh_needed"] is None             # no load in W without a measurement
    report = make([e for e in office() if e.kind != "runtime_learned"])
    assert [i["basis"] for i in report["buy"] if i["item"] == "ups_ok"] == ["claimed"]


def test_same_facts_give_the_same_json_from_the_database_and_from_a_journal(tmp_path):
    journal, database = Journal(tmp_path / "journal.sqlite3"), Database(str(tmp_path / "db.sqlite3"))
    for seq, e in enumerate(office(), 1):
        journal.append("rr1", e.ts, e.kind, e.detail)
        database.add_event(JournalEvent(site="rr1", seq=seq, ts=e.ts, kind=e.kind, detail=e.detail))
    journal.close()
    database.close()
    config = tmp_path / "siaga.toml"
    config.write_text(f'[site]\nid = "rr1"\n[[ups]]\nname = "meeting"\n[policy]\n'
                      f'wrapup_at_runtime_s = 300\n[dashboard]\ndatabase = "{tmp_path / "db.sqlite3"}"\n')
    answers = []
    for extra in ([], ["--journal", str(tmp_path / "journal.sqlite3")]):
        done = subprocess.run([sys.executable, "-m", "siaga", "report", "-c", str(config),
                               "--from", "2026-06-01", "--to", "2026-11-30", "--format", "json",
                               *extra], cwd=ROOT, capture_output=True, timeout=60)
        assert done.returncode == 0, done.stderr.decode()
        answers.append(json.loads(done.stdout))
    assert answers[0] == answers[1]
    assert answers[0]["sites"]["rr1"]["ups"]["runtime_measured_s"] == 660
    assert [i["item"] for i in answers[0]["buy"]][:2] == ["battery_tired", "ups_buy"]


def test_the_printed_report_shows_claim_measurement_and_the_measured_months():
    page = render.html(make(office()), "id", zone="Asia/Jakarta", wrapup_s=300, per_room=True)
    assert "Runtime terukur dari muatan penuh, per bulan" in page
    for text in ("25 mnt", "11 mnt", "16 mnt", "90 Wh", "kedalaman pengosongan 0,8"):
        assert text in page, text
