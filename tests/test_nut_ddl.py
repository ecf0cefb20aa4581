"""Real UPS dumps (NUT's device dump library) served by real dummy-ups + upsd: drivers that lie.

Three real models set FSD on mains, one reports runtime 0 with a full battery, one says OL and
DISCHRG on mains, one LB while charging. On mains, none of them may shut the meeting PC down
(CONTRACT §5.3). One upsd serves every dump at once; each is read by the edge's own reader and
judged by the room core, and then one real edge daemon watches them all in one room.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

import pytest

from edge.daemon import boot_id, clock_synced
from edge.room import Inputs, PcReport, RoomState, Rules, step
from edge.ups import UpsReader
from protocol.config import PolicyConfig, UpsConfig
from siaga.servers import Upsd
from tests.edge_support import FakePc
from tests.waiting import wait_until

DUMPS_DIR = Path(__file__).parent / "fixtures" / "nut-ddl"
# UPS name -> (dump, room on mains, ups.status to try on battery or None, room on battery)
DUMPS = {
    # FSD stuck since mains: on battery the outage is walked through, not cut short.
    "tuncmatik": ("Tuncmatik__DG1200VA__blazer_usb__2.6.4__01.dev", "attention", "ALARM OB FSD",
                  "on_battery"),
    "novex": ("Novex__NUPS-650__blazer_usb__2.6.5__01.dev", "attention", "ALARM OB FSD",
              "on_battery"),
    "cyberpower": ("Cyber_Power_Systems__Value_2200E-GP__usbhid-ups__2.4.3__01.dev", "attention",
                   "FSD OB", "on_battery"),
    "apc-ap9584": ("APC__AP9584__usbhid-ups__2.6.4__01.dev", "ready", "OB DISCHRG", "on_battery"),
    "apc-bk650": ("APC__Back-UPS_BK650M2-CH__usbhid-ups__2.8.0__01.dev", "ready", "OB DISCHRG",
                  "on_battery"),
    "apc-ls500": ("APC__Back-UPS_LS_500__newhidups__2.0.3__01.dev", "ready", None, None),
    "eaton-5e": ("Eaton__5E1100iUSB__usbhid-ups__2.7.1__01.dev", "ready", "OB DISCHRG", "on_battery"),
}
ON_MAINS = {"apc-ap9584": "OL", "apc-bk650": "OL DISCHRG", "eaton-5e": "OL CHRG",
            "tuncmatik": "ALARM OL FSD", "novex": "ALARM OL FSD", "cyberpower": "FSD OL"}
RULES = Rules(policy=PolicyConfig(notice_after_s=0), site_id="rr1", expected_pcs=("pc1",))


class DumpUpsd(Upsd):
    """upsd whose dummy-ups drivers serve the library's .dev files unmodified."""

    def write_values(self, name: str, values: dict[str, str]) -> None:
        shutil.copyfile(DUMPS_DIR / DUMPS[name][0], self.directory / f"{name}.dev")

    def wait_served(self, timeout: float = 15) -> None:
        """Until every UPS has a status other than WAIT."""
        deadline = time.monotonic() + timeout
        for name in self.names:
            while self.read(name).get("ups.status", "WAIT") == "WAIT":
                assert time.monotonic() < deadline, f"{name} never served; see {self.directory}"
                time.sleep(0.2)


@pytest.fixture(scope="module")
def dumps(tmp_path_factory):
    server = DumpUpsd(tmp_path_factory.mktemp("ddl") / "nut", names=tuple(DUMPS))
    try:
        server.start(wait_for="")
        server.wait_served()
        yield server
    finally:
        server.stop()


def verdict(server: Upsd, name: str, ticks: int = 3,
            state: RoomState | None = None) -> tuple[RoomState, list[tuple[str, list[str]]]]:
    """(room, PC command kinds) per tick: the edge's reader, then the room core."""
    reader = UpsReader(UpsConfig(name=name, port=server.port))
    state, out = state or RoomState(started=time.monotonic()), []
    for _ in range(ticks):
        now = time.time()
        reading = asyncio.run(reader.read(now))
        assert reading.reachable, reading.error_detail
        pc = PcReport("pc1", True, now)
        state, fx = step(state, Inputs(now, (reading,), (pc,), mono=time.monotonic()), RULES)
        out.append((state.room, [c.kind for _, c in fx.send]))
    return state, out


@pytest.mark.parametrize("name", list(DUMPS))
def test_real_dump_on_mains_never_shuts_the_pc_down(dumps, name):
    expected = DUMPS[name][1]
    _, out = verdict(dumps, name)
    assert [room for room, _ in out] == [expected] * 3
    assert all(kinds == [] for _, kinds in out)


@pytest.mark.parametrize("name", [n for n, d in DUMPS.items() if d[2]])
def test_real_dump_on_battery_is_an_outage_not_a_shutdown(dumps, name):
    _, _, status, room = DUMPS[name]
    state, _ = verdict(dumps, name, ticks=2)  # on mains first, as it is in the dump
    dumps.set(name, ups_status=status)
    try:
        served(dumps, name, status)
        _, out = verdict(dumps, name, state=state)
        assert [r for r, _ in out] == [room] * 3
        assert out[0][1] == ["notice"]  # notice_after_s = 0 here: told at once
        assert not any("shutdown" in kinds for _, kinds in out)
    finally:
        # Back on mains before the next test on this upsd (the edge daemon's test reads every
        # dump at once: CI once saw it journal power_lost on a UPS this test had left OB).
        dumps.set(name, ups_status=ON_MAINS[name])
        served(dumps, name, ON_MAINS[name])


def served(dumps: Upsd, name: str, status: str) -> None:
    """Wait until upsd serves ``status`` for the UPS (upsrw returns before the driver has it)."""
    wait_until(lambda: dumps.read(name).get("ups.status") == status, 5, what=f"{name} {status}")


def test_edge_daemon_on_all_lying_dumps_keeps_the_meeting(tmp_path, dumps, broker, watch,
                                                         mock_factory, edge_in_process):
    pc = FakePc(broker.port)
    try:
        ups = "\n".join(f'[[ups]]\nname = "{n}"\nport = {dumps.port}' for n in DUMPS
                        if DUMPS[n][1] == "attention" or n in ("apc-ap9584", "apc-ls500"))
        path = tmp_path / "siaga.toml"
        path.write_text(f"""[site]\nid = "rr1"\n[mqtt]\nport = {broker.port}\n{ups}
[edge]\npoll_interval_s = 0.25\njournal = "{tmp_path / 'journal.sqlite3'}"\npcs = ["meeting-pc"]
[policy]\nnotice_after_s = 0\n[gpio]\npin_factory = "mock"\n""")
        for name in ON_MAINS:       # as the dumps have them (another test may have just set one)
            served(dumps, name, ON_MAINS[name])
        edge_in_process(path)
        snap = watch.wait(lambda: (s := watch.state()) and s["pcs"][0]["online"] and s, 10,
                          "state with the PC online")
        time.sleep(1.5)  # several polls
        snap = watch.state()
        assert snap["room"] == "attention" and snap["outage"] is None
        assert {r for r in snap["reasons"] if r.startswith("fsd_on_mains")} == {
            "fsd_on_mains:tuncmatik", "fsd_on_mains:novex", "fsd_on_mains:cyberpower"}
        assert not snap["power"]["on_battery"] and snap["indicator"]["led"] == "amber"
        kinds = watch.event_kinds()
        assert kinds.count("ups_fsd_on_mains") == 3 and "power_lost" not in kinds
        assert pc.commands() == []
        started = [e["detail"] for e in watch.json_on("/edge/event") if e["kind"] == "edge_started"]
        assert started == [{"resumed_outage": False, "clock_synced": clock_synced(), "boot": boot_id()}]
    finally:
        pc.close()


@pytest.mark.parametrize("name", list(DUMPS))
def test_real_dump_never_learns_a_runtime_from_a_single_reading(dumps, name):
    from dataclasses import replace

    from edge.runtime_learner import Learning, learned_runtimes, observe
    reading = asyncio.run(UpsReader(UpsConfig(name=name, port=dumps.port)).read(time.time()))
    assert reading.reachable, reading.error_detail
    out_of = {"as served": reading, "on battery": replace(reading, status="OB DISCHRG")}
    for how, served in out_of.items():
        for ticks in (1, 120):   # one poll, or the same reading for two minutes
            learning, said = Learning(), []
            for t in range(ticks):
                learning, out = observe(learning, (served,), float(t), 1000.0 + t)
                assert out.events == [], (how, ticks)
                said += out.notes
            learning, out = observe(learning, (replace(served, status="OL"),), ticks + 1.0, 0.0)
            assert out.events == [] and len(said + out.notes) <= 1, (how, ticks)
            assert learned_runtimes(learning, (served,)) == {}, (how, ticks)
