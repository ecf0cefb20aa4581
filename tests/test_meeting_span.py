"""When a booked meeting is, as the room page and its card write it (the room's time zone):
a booking of a day or more names both days, whatever the machine's TZ."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import re
import urllib.request
from zoneinfo import ZoneInfo

import pytest

from dashboard.texts.i18n import meeting_span
from protocol.messages import NextMeeting
from siaga.servers import free_port, stop_process
from tests.dashboard_support import Client, snapshot, start_dashboard, write_config
from tests.waiting import wait_until

JAKARTA = ZoneInfo("Asia/Jakarta")


def at(day: int, hh: int, mm: int = 0) -> float:
    return dt.datetime(2026, 3, day, hh, mm, tzinfo=JAKARTA).timestamp()


NOW = at(2, 8)   # Monday 2 March, 08:00 WIB


@pytest.mark.parametrize("start, end, shown", [
    (at(2, 9), at(2, 10), "09:00–10:00 WIB"),                    # today
    (at(3, 9), at(3, 10), "03/03 09:00–10:00 WIB"),              # another day
    (at(2, 23), at(3, 1), "23:00–01:00 WIB"),                    # across midnight
    (at(1, 23), at(2, 9), "01/03 23:00–09:00 WIB"),              # since last night
    # A three-day training read "09:00–17:00 WIB" (today, 8 hours), and one running since
    # yesterday "01/03 09:00–17:00 WIB" under "Meeting now": over, by its words.
    (at(2, 9), at(4, 17), "02/03 09:00–04/03 17:00 WIB"),
    (at(1, 9), at(3, 17), "01/03 09:00–03/03 17:00 WIB"),
])
def test_a_booking_reads_as_when_it_is(start, end, shown) -> None:
    assert meeting_span(start, end, JAKARTA, NOW) == shown


def test_the_room_page_names_both_days_of_a_training_running_since_yesterday(tmp_path, broker) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start_dashboard(write_config(tmp_path, mqtt_port=broker.port, listen=f"127.0.0.1:{port}"),
                           url, tmp_path / "dashboard.log")
    edge = Client(broker.port)
    today = dt.datetime.now(JAKARTA).replace(hour=9, minute=0, second=0, microsecond=0)
    start = (today - dt.timedelta(days=1)).timestamp()
    end = (today + dt.timedelta(days=1, hours=8)).timestamp()
    state = dataclasses.replace(snapshot("rr1", "ready", name="Ruang Rapat 1"),
                                next_meeting=NextMeeting("Diklat keuangan", start, end))
    try:
        edge.publish("siaga/rr1/edge/state", state, retain=True)

        def page() -> str:
            with urllib.request.urlopen(f"{url}/sites/rr1?lang=en", timeout=5) as answer:
                return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", answer.read().decode())).split())

        words = wait_until(lambda: "Diklat keuangan" in (p := page()) and p, 20, what="the meeting")
        first, last = dt.datetime.fromtimestamp(start, JAKARTA), dt.datetime.fromtimestamp(end, JAKARTA)
        assert "Meeting now" in words
        assert f"{first:%d/%m} 09:00–{last:%d/%m} 17:00 WIB" in words
    finally:
        edge.close()
        stop_process(proc)
