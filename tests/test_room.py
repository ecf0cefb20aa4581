"""The room core as tables: (previous state, inputs, time) -> (state, effects)."""

from __future__ import annotations

import pytest

from edge.room import Buzz, Inputs, Led, Pattern, PcReport, RoomState, Rules, UpsReading, step
from edge.room_view import resume, snapshot
from protocol.config import PolicyConfig
from protocol.messages import Ack, AgentStatus, EdgeCommand, JournalEvent, MeetingNow

RULES = Rules(policy=PolicyConfig(), site_id="rr1", place="Ruang Rapat 1", lang="id",
              expected_pcs=("pc1",))
T0 = 1_000.0


def ups(status="OL", charge=100.0, runtime=1800.0, **kw) -> UpsReading:
    return UpsReading(name=kw.pop("name", "meeting"), ts=0, status=status, charge_pct=charge,
                      runtime_s=runtime, **kw)


def down(reason="refused") -> UpsReading:
    return UpsReading(name="meeting", ts=0, error=reason, error_detail="x")


PC_OK = PcReport("pc1", True, None, AgentStatus(pc="pc1", ts=0, disk_free_gb=100.0))


def run(ticks, state=None, rules=RULES):
    """Feed (t, readings, extra inputs) ticks; return every (state, effects)."""
    state = state or RoomState(started=T0)
    out = []
    for t, readings, extra in ticks:
        pcs = extra.pop("pcs", (PcReport("pc1", True, T0 + t, PC_OK.status),))
        state, fx = step(state, Inputs(T0 + t, tuple(readings), pcs, **extra), rules)
        out.append((state, fx))
    return out


def kinds(fx):
    return [k for k, _ in fx.events]


def sent(fx):
    return [(pc, c.kind) for pc, c in fx.send]


@pytest.mark.parametrize("reading, room, look", [
    (ups(), "ready", (Led.GREEN, Pattern.SOLID, Buzz.OFF)),
    (ups("OL CHRG RB"), "attention", (Led.AMBER, Pattern.SOLID, Buzz.OFF)),
    (ups("OL OVER"), "attention", (Led.AMBER, Pattern.SOLID, Buzz.OFF)),
    (ups("OL CHRG", charge=40.0), "attention", (Led.AMBER, Pattern.SOLID, Buzz.OFF)),
    (ups("OB DISCHRG"), "on_battery", (Led.AMBER, Pattern.BLINK, Buzz.OUTAGE)),
    (ups("OB DISCHRG", runtime=250.0), "wrapup", (Led.RED, Pattern.BLINK, Buzz.WRAPUP)),
    (ups("OB DISCHRG", runtime=100.0), "shutdown", (Led.RED, Pattern.BLINK_FAST, Buzz.SHUTDOWN)),
    (ups("OB DISCHRG LB"), "shutdown", (Led.RED, Pattern.BLINK_FAST, Buzz.SHUTDOWN)),
    (ups("OB DISCHRG FSD"), "shutdown", (Led.RED, Pattern.BLINK_FAST, Buzz.SHUTDOWN)),
    (ups("OL FSD"), "attention", (Led.AMBER, Pattern.SOLID, Buzz.OFF)),     # drivers lie (§5.3)
    (ups("ALARM OL FSD"), "attention", (Led.AMBER, Pattern.SOLID, Buzz.OFF)),
    (ups("OL CHRG LB"), "ready", (Led.GREEN, Pattern.SOLID, Buzz.OFF)),
    (ups("OL DISCHRG"), "ready", (Led.GREEN, Pattern.SOLID, Buzz.OFF)),
    (ups("OB OL"), "ready", (Led.GREEN, Pattern.SOLID, Buzz.OFF)),
    (ups("OB OL DISCHRG"), "on_battery", (Led.AMBER, Pattern.BLINK, Buzz.OUTAGE)),
    (ups("OB DISCHRG", runtime=0.0), "on_battery", (Led.AMBER, Pattern.BLINK, Buzz.OUTAGE)),
    (ups("OB DISCHRG", runtime=0.0, charge=20.0), "shutdown", (Led.RED, Pattern.BLINK_FAST, Buzz.SHUTDOWN)),
    (ups("OB DISCHRG", runtime=65535.0), "on_battery", (Led.AMBER, Pattern.BLINK, Buzz.OUTAGE)),
    (ups("OB DISCHRG", runtime=-1.0, charge=45.0), "wrapup", (Led.RED, Pattern.BLINK, Buzz.WRAPUP)),
    (ups("OB DISCHRG", runtime=90000.0), "on_battery", (Led.AMBER, Pattern.BLINK, Buzz.OUTAGE)),
    (ups("OB DISCHRG", runtime=None, charge=45.0), "wrapup", (Led.RED, Pattern.BLINK, Buzz.WRAPUP)),
    (ups("OB DISCHRG", runtime=None, charge=20.0), "shutdown", (Led.RED, Pattern.BLINK_FAST, Buzz.SHUTDOWN)),
    (ups("OB CAL"), "ready", (Led.GREEN, Pattern.SOLID, Buzz.OFF)),
    (ups("OB", test_result="In progress"), "ready", (Led.GREEN, Pattern.SOLID, Buzz.OFF)),
    (down("refused"), "fault", (Led.RED, Pattern.SOLID, Buzz.OFF)),
    (down("starting"), "fault", (Led.RED, Pattern.SOLID, Buzz.OFF)),
    (down("data_stale"), "fault", (Led.RED, Pattern.SOLID, Buzz.OFF)),
])
def test_room_and_look_from_one_reading(reading, room, look):
    (state, fx), = run([(0, [reading], {})])
    assert state.room == room
    assert (fx.led, fx.pattern, fx.buzzer) == look


def test_ups_not_feeding_the_pc_is_attention_not_outage():
    readings = [ups(), ups("OB", name="printer", powers_pc=False)]
    (state, fx), = run([(0, readings, {})])
    assert state.room == "attention" and state.outage is None
    printer_down = UpsReading(name="printer", ts=0, powers_pc=False, error="refused")
    (state, fx), = run([(0, [ups(), printer_down], {})])
    assert state.room == "attention" and "ups_unreachable:printer" in state.reasons


def test_whole_outage_sends_each_command_once_then_cancels():
    ticks = [
        (0, [ups()], {}),
        (1, [ups("OB DISCHRG", runtime=1500.0)], {}),        # LED at once
        (3, [ups("OB DISCHRG", runtime=1480.0)], {}),        # guard: no notice yet
        (6, [ups("OB DISCHRG", runtime=1450.0)], {}),        # 5 s on battery: notice
        (7, [ups("OB DISCHRG", runtime=1440.0)], {}),
        (60, [ups("OB DISCHRG", runtime=290.0)], {}),        # wrapup
        (61, [ups("OB DISCHRG", runtime=350.0)], {}),        # estimate jumps up: stays wrapup
        (90, [ups("OB DISCHRG LB", runtime=200.0)], {}),     # LB: shutdown
        (91, [ups("OB DISCHRG LB", runtime=100.0)], {}),
        (120, [ups("OL CHRG", runtime=100.0)], {}),          # mains back
    ]
    out = run(ticks)
    rooms = [s.room for s, _ in out]
    assert rooms == ["ready", "on_battery", "on_battery", "on_battery", "on_battery", "wrapup",
                     "wrapup", "shutdown", "shutdown", "ready"]
    assert kinds(out[1][1]) == ["power_lost"] and out[1][1].send == ()
    assert sent(out[2][1]) == []
    assert sent(out[3][1]) == [("pc1", "notice")]
    notice = out[3][1].send[0][1]
    assert notice.runtime_s == 1450 and "24 mnt" in notice.text and "Ruang Rapat 1" in notice.chat_text
    assert notice.expires - notice.ts == 120
    assert sent(out[5][1]) == [("pc1", "notice"), ("pc1", "wrapup")]  # notice resent: not acked
    assert sent(out[7][1])[-1] == ("pc1", "shutdown") and "low_battery" in kinds(out[7][1])
    assert sent(out[8][1]) == []
    final_state, final = out[9]
    assert sent(final) == [("pc1", "cancel")]
    assert kinds(final)[:2] == ["power_restored", "cancel_sent"]
    assert dict(final.events)["power_restored"] == {"duration_s": 119.0}
    assert final.buzzer == Buzz.RESTORED and final_state.outage is None
    distinct = {c.id: c.kind for _, fx in out for _, c in fx.send}  # resends keep their id
    assert sorted(distinct.values()) == ["cancel", "notice", "shutdown", "wrapup"]


def test_flicker_shorter_than_guard_sends_nothing_but_is_journaled():
    out = run([(0, [ups()], {}), (1, [ups("OB")], {}), (4, [ups("OL")], {}), (20, [ups("OL")], {})])
    assert [s.room for s, _ in out] == ["ready", "on_battery", "ready", "ready"]
    assert all(fx.send == () for _, fx in out)
    assert kinds(out[2][1]) == ["power_restored"]
    assert out[3][1].buzzer == Buzz.OFF


def test_shutdown_straight_away_still_wraps_up_first():
    out = run([(0, [ups("OB LB", runtime=60.0)], {}), (5, [ups("OB LB", runtime=55.0)], {})])
    assert sent(out[1][1]) == [("pc1", "notice"), ("pc1", "wrapup"), ("pc1", "shutdown")]


def test_acked_commands_are_not_resent_and_ack_is_journaled():
    out = run([(0, [ups("OB")], {}), (5, [ups("OB")], {})])
    state, fx = out[-1]
    notice = fx.send[0][1]
    ack = Ack(id=notice.id, kind="notice", ok=True, ts=0)
    out2 = run([(6, [ups("OB")], {"acks": (("pc1", ack),)}), (20, [ups("OB")], {})], state)
    assert dict(out2[0][1].events)["pc_ack"]["id"] == notice.id
    assert out2[1][1].send == ()


def test_unacked_command_resent_with_same_id_until_expiry():
    out = run([(0, [ups("OB")], {}), (5, [ups("OB")], {}), (10, [ups("OB")], {}),
               (200, [ups("OB")], {})])
    first, again = out[1][1].send[0][1], out[2][1].send[0][1]
    assert first == again
    assert out[3][1].send == () and out[3][0].pending == ()


def test_unreadable_mid_outage_keeps_outage_then_wraps_up_after_bound():
    # No runtime ever known (charge 80 %): time decides (unreadable_wrapup_after_s = 60).
    out = run([(0, [ups("OB", runtime=None, charge=80.0)], {}), (5, [ups("OB", runtime=None, charge=80.0)], {}),
               (10, [down("driver_not_connected")], {}), (69, [down("driver_not_connected")], {}),
               (71, [down("driver_not_connected")], {}), (80, [ups("OL")], {})])
    assert [s.room for s, _ in out] == ["on_battery"] * 4 + ["wrapup", "ready"]
    assert "ups_unreachable" in kinds(out[2][1]) and "power_restored" not in kinds(out[2][1])
    assert ("pc1", "wrapup") in sent(out[4][1])
    assert dict(out[4][1].events)["wrapup_sent"]["why"] == "ups_unreadable"
    assert ("pc1", "cancel") in sent(out[5][1])


def test_pc_offline_after_grace_and_disk_low():
    quiet = {"pcs": ()}
    out = run([(0, [ups()], dict(quiet)), (19, [ups()], dict(quiet)), (21, [ups()], dict(quiet))])
    assert [s.room for s, _ in out] == ["ready", "ready", "attention"]
    assert "pc_offline:pc1" in out[2][0].reasons and kinds(out[2][1]) == ["pc_offline"]
    low = PcReport("pc1", True, T0 + 30, AgentStatus(pc="pc1", ts=0, disk_free_gb=2.0))
    (state, fx), = run([(30, [ups()], {"pcs": (low,)})], out[2][0])
    assert state.reasons == ("disk_low:pc1",) and kinds(fx) == ["pc_online"]
    gone = PcReport("pc1", False, T0 + 30, None)
    (state, fx), = run([(31, [ups()], {"pcs": (gone,)})], state)
    assert kinds(fx) == ["pc_offline"]


def test_button_silences_until_room_changes():
    out = run([(0, [ups("OB")], {}), (1, [ups("OB")], {"button": True}), (2, [ups("OB")], {}),
               (3, [ups("OB", runtime=100.0)], {})])
    assert [fx.buzzer for _, fx in out] == [Buzz.OUTAGE, Buzz.OFF, Buzz.OFF, Buzz.SHUTDOWN]
    assert kinds(out[1][1]) == ["silenced"]


def test_edge_commands():
    cmds = tuple(EdgeCommand(id=k, ts=T0, kind=k, by="admin") for k in
                 ("silence", "test_notice", "test_indicator", "ups_selftest"))
    (state, fx), = run([(0, [ups()], {"commands": cmds})])
    assert kinds(fx).count("command") == 4 and "silenced" in kinds(fx)
    assert sent(fx) == [("pc1", "test")]
    assert [a.kind for a in fx.actions] == ["test_indicator", "ups_selftest"]


def test_an_edge_command_held_for_hours_is_refused_one_from_the_future_is_taken():
    # A silence the central broker held while the room was cut off arrives in a later outage:
    # refused (journaled ok false, with its age), the buzzer keeps sounding. A Pi that booted
    # without a real-time clock is behind: a command from its future is acted on.
    old = EdgeCommand(id="old", ts=T0 - 6 * 3600, kind="silence", by="admin")
    (state, fx), = run([(0, [ups("OB")], {"commands": (old,)})])
    assert ("command", {"kind": "silence", "id": "old", "by": "admin", "ok": False,
                        "age_s": 6 * 3600}) in fx.events
    assert "silenced" not in kinds(fx) and not state.silenced and fx.buzzer == Buzz.OUTAGE
    late = EdgeCommand(id="late", ts=T0 - 301, kind="test_indicator", by="admin")
    (_, fx), = run([(0, [ups()], {"commands": (late,)})])
    assert fx.actions == () and fx.events[0][1]["ok"] is False
    ahead = EdgeCommand(id="ahead", ts=T0 + 3 * 3600, kind="silence", by="homeassistant")
    in_time = EdgeCommand(id="in-time", ts=T0 - 299, kind="test_indicator", by="admin")
    (state, fx), = run([(0, [ups("OB")], {"commands": (ahead, in_time)})])
    assert state.silenced and fx.buzzer == Buzz.OFF and [a.id for a in fx.actions] == ["in-time"]
    assert not [d for k, d in fx.events if k == "command" and "ok" in d]


def test_ups_unreachable_and_back_are_journaled_once():
    out = run([(0, [down()], {}), (1, [down()], {}), (2, [ups()], {})])
    assert [kinds(fx) for _, fx in out] == [["ups_unreachable", "pc_online"], [], ["ups_reachable"]]


def test_resume_mid_outage_sends_no_second_notice_and_resends_unacked():
    started = T0 - 100
    cmd_id = f"rr1-{int(started * 1000):x}-notice-pc1"
    events = [JournalEvent("rr1", 7, started, "power_lost"),
              JournalEvent("rr1", 8, started + 5, "notice_sent", {"pcs": ["pc1"], "runtime_s": 1400}),
              JournalEvent("rr1", 9, started + 5.1, "pc_ack", {"pc": "pc1", "id": cmd_id}),
              JournalEvent("rr1", 10, started + 60, "wrapup_sent", {"pcs": ["pc1"], "runtime_s": 250})]
    state = resume(events, T0, RULES)
    assert state.room == "wrapup" and state.outage.started == started
    assert [s.command.kind for s in state.pending] == ["wrapup"]
    (state, fx), = run([(0, [ups("OB", runtime=240.0)], {})], state)
    assert kinds(fx) == [] or "power_lost" not in kinds(fx)
    assert sent(fx) == [("pc1", "wrapup")]  # the unacked one, same id; no new notice
    (state, fx), = run([(5, [ups("OL")], {})], state)
    assert sent(fx) == [("pc1", "cancel")]


def test_resume_after_restored_outage_starts_clean():
    assert resume([], T0, RULES).outage is None


def test_snapshot_matches_contract_shape():
    (state, fx), = run([(0, [ups("OB DISCHRG", runtime=1500.0, load_pct=35.0, input_voltage=0.0)], {})])
    snap = snapshot(state, Inputs(T0, (ups("OB DISCHRG", runtime=1500.0),), (PC_OK,)), fx, RULES)
    assert snap.room == "on_battery" and snap.power.on_battery and snap.power.runtime_s == 1500.0
    assert snap.indicator.led == "amber" and snap.indicator.pattern == "blink"
    assert snap.outage.started == T0 and snap.outage.notice_sent is None
    assert [p.id for p in snap.pcs] == ["pc1"]


def test_unacked_cancel_of_the_last_outage_is_not_resent_into_the_next_one():
    # Outage 1 reaches shutdown; the PC is off, so the cancel at mains-back is never acked.
    out = run([(0, [ups("OB LB", runtime=60.0)], {}), (5, [ups("OB LB", runtime=55.0)], {}),
               (60, [ups("OL")], {})])
    assert sent(out[-1][1]) == [("pc1", "cancel")]
    # The power goes again 10 s later, the battery still low: the new shutdown must not be
    # followed by the old cancel, which would stop it on the PC.
    ticks = [(t, [ups("OB LB", runtime=50.0)], {}) for t in (70, 75, 80, 85, 90)]
    later = run(ticks, out[-1][0])
    assert ("pc1", "shutdown") in sent(later[1][1])
    assert all(kind != "cancel" for _, fx in later for _, kind in sent(fx))


def shutdown_acked_then_restored():
    """Outage 1 reaches the shutdown, the PC acks it (it waits out its grace), mains is back at
    20: the cancel goes out, but the agent is reconnecting and misses it. (state, the cancel)."""
    (state, fx), = run([(0, [ups("OB DISCHRG", runtime=100.0)], {})])
    shutdown = next(c for _, c in fx.send if c.kind == "shutdown")
    ack = Ack(id=shutdown.id, kind="shutdown", ok=True, ts=0)
    (state, _), (state, fx) = run([(1, [ups("OB DISCHRG", runtime=95.0)], {"acks": (("pc1", ack),)}),
                                   (20, [ups("OL CHRG")], {})], state)
    cancel, = (c for _, c in fx.send if c.kind == "cancel")
    return state, cancel


@pytest.mark.parametrize("flicker, resends", [
    ((21,), (25, 30, 35, 40, 45)),          # one poll on battery: no notice
    ((21, 26, 27), (26, 31, 36, 41, 46)),   # long enough for the new outage's notice
])
def test_a_flicker_right_after_the_restore_keeps_resending_the_cancel(flicker, resends):
    """The new outage has sent this PC no shutdown: the old cancel is still what stops the
    shutdown the PC waits out, so it is resent until acked, in the new outage and after it."""
    state, cancel = shutdown_acked_then_restored()
    ticks = [(t, [ups("OB DISCHRG", runtime=1500.0)], {}) for t in flicker]
    ticks += [(t, [ups("OL CHRG")], {}) for t in range(flicker[-1] + 1, 50)]
    out = run(ticks, state)
    resent = [T0 + t for (t, _, _), (_, fx) in zip(ticks, out) if ("pc1", cancel) in fx.send]
    assert resent == [T0 + t for t in resends]   # every resend_after_s, with the same id
    assert not any(c.kind == "shutdown" for _, fx in out for _, c in fx.send)
    ack = Ack(id=cancel.id, kind="cancel", ok=True, ts=0)
    later = run([(50, [ups("OL CHRG")], {"acks": (("pc1", ack),)}), (60, [ups("OL CHRG")], {})],
                out[-1][0])
    assert all(("pc1", cancel) not in fx.send for _, fx in later)


def test_the_old_cancel_goes_until_the_new_outage_shuts_the_pc_down_and_never_after():
    state, cancel = shutdown_acked_then_restored()
    ticks = [(t, [ups("OB DISCHRG", runtime=r)], {}) for t, r in
             ((21, 1500.0), (26, 1400.0), (31, 100.0), (36, 95.0), (41, 90.0))]
    out = run(ticks, state)
    order = [c.id for _, fx in out for _, c in fx.send if c.kind in ("cancel", "shutdown")]
    shutdown = next(c.id for _, c in out[2][1].send if c.kind == "shutdown")   # at 31
    # the old cancel at 26 (resend_after_s), then the new shutdown and its resends: no cancel
    # after it, and the old cancel is not resent at 31 beside it
    assert order == [cancel.id, shutdown, shutdown, shutdown]


# Drivers that lie (CONTRACT §5.3): what a status means depends on what comes with it.
@pytest.mark.parametrize("status, charges, rooms, shutdown", [
    # Megatec units whose driver sets FSD on every poll, on mains: never an outage.
    ("ALARM OL FSD", (100, 100, 100), ["attention"] * 3, False),
    # FSD together with OB: the shutdown is real.
    ("OB FSD", (100, 100, 100), ["shutdown"] * 3, True),
    # LB while charging on mains (APC Back-UPS LS 500): nothing to do.
    ("OL CHRG LB", (97, 97, 97), ["ready"] * 3, False),
    # OB and OL with a steady charge: on mains.
    ("OB OL", (98, 98, 98), ["ready"] * 3, False),
    # OB and OL with a falling charge: the battery is feeding the load.
    ("OB OL", (98, 97, 97), ["ready", "on_battery", "on_battery"], False),
    # OB, OL and DISCHRG: on battery from the first tick.
    ("OB OL DISCHRG", (98, 98, 98), ["on_battery"] * 3, False),
])
def test_drivers_that_lie(status, charges, rooms, shutdown):
    out = run([(t, [ups(status, charge=float(c))], {}) for t, c in zip((0, 6, 12), charges)])
    assert [s.room for s, _ in out] == rooms
    assert any(("pc1", "shutdown") in sent(fx) for _, fx in out) is shutdown


def test_fsd_on_mains_is_journaled_once_with_a_reason():
    out = run([(t, [ups("ALARM OL FSD")], {}) for t in (0, 1, 2)] + [(3, [ups("OL")], {}),
                                                                   (4, [ups("OL FSD")], {})])
    fsd = [(i, d) for i, (_, fx) in enumerate(out) for k, d in fx.events if k == "ups_fsd_on_mains"]
    assert fsd == [(0, {"ups": "meeting", "status": "ALARM OL FSD"}),
                   (4, {"ups": "meeting", "status": "OL FSD"})]
    assert "fsd_on_mains:meeting" in out[0][0].reasons and out[3][0].room == "ready"
    assert all(s.outage is None for s, _ in out)


def test_runtime_zero_with_full_charge_is_not_a_shutdown():
    # A UPS that always reports runtime 0: the charge decides, not the first second on battery.
    out = run([(t, [ups("OB DISCHRG", runtime=0.0, charge=c)], {})
               for t, c in ((0, 100.0), (6, 99.0), (60, 60.0), (120, 45.0))])
    assert [s.room for s, _ in out] == ["on_battery", "on_battery", "on_battery", "wrapup"]
    assert [sent(fx) for _, fx in out][:2] == [[], [("pc1", "notice")]]
    assert not any(("pc1", "shutdown") in sent(fx) for _, fx in out)
    snap = snapshot(out[0][0], Inputs(T0, (ups("OB DISCHRG", runtime=0.0),), (PC_OK,)), out[0][1], RULES)
    assert snap.power.runtime_s is None and snap.ups[0].runtime_s is None


# No flicker guard for a sure thing (issue 11 item 4): notice, wrap-up and shutdown at once.
@pytest.mark.parametrize("reading, first_tick", [
    (ups("OB DISCHRG LB"), ["notice", "wrapup", "shutdown"]),
    (ups("OB DISCHRG FSD"), ["notice", "wrapup", "shutdown"]),
    (ups("OB DISCHRG", runtime=120.0), ["notice", "wrapup", "shutdown"]),
    (ups("OB DISCHRG", runtime=100.0), ["notice", "wrapup", "shutdown"]),
    (ups("OB DISCHRG", runtime=250.0), []),                 # wrap-up: the guard still applies
    (ups("OB DISCHRG", runtime=None, charge=20.0), []),     # charge alone is no sure thing
    (ups("OL FSD"), []),                                    # FSD on mains: nothing at all
])
def test_sure_shutdown_skips_the_flicker_guard(reading, first_tick):
    (state, fx), = run([(0, [reading], {})])
    assert [kind for _, kind in sent(fx)] == first_tick


def tick(state, wall, mono, reading, rules=RULES, **extra):
    """One tick with the wall clock and the monotonic clock given apart."""
    pcs = extra.pop("pcs", (PcReport("pc1", True, wall, PC_OK.status),))
    return step(state, Inputs(wall, (reading,), pcs, mono=mono, **extra), rules)


@pytest.mark.parametrize("jump", [3600.0, -3600.0])
def test_wall_clock_step_mid_outage_changes_no_stage(jump):
    state = RoomState(started=0.0)
    walls = {0: T0, 2: T0 + 2, 3: T0 + 3 + jump, 4: T0 + 4 + jump, 5: T0 + 5 + jump,
             30: T0 + 30 + jump, 40: T0 + 40 + jump}
    seen = {}
    for mono, wall in walls.items():
        reading = ups("OL") if mono == 40 else ups("OB DISCHRG", runtime=1500.0)
        state, fx = tick(state, wall, mono, reading)
        seen[mono] = (state.room, sent(fx), dict(fx.events))
    assert [seen[m][0] for m in (0, 2, 3, 4, 5, 30)] == ["on_battery"] * 6
    assert seen[3][1] == [] and seen[4][1] == []          # the guard still counts 5 s
    assert seen[5][1] == [("pc1", "notice")]
    assert "power_restored" not in seen[30][2]
    assert seen[40][2]["power_restored"] == {"duration_s": 40.0}  # not 3640 or -3560
    assert seen[40][0] == "ready"


def test_estimated_runtime_leads_the_stages_while_the_ups_is_lost():
    ticks = [(0, ups("OB DISCHRG", runtime=400.0)), (6, ups("OB DISCHRG", runtime=400.0)),
             (10, down("data_stale")), (105, down("data_stale")), (107, down("data_stale")),
             (285, down("data_stale")), (287, down("data_stale"))]
    out = run([(t, [r], {}) for t, r in ticks])
    assert [s.room for s, _ in out] == ["on_battery"] * 4 + ["wrapup", "wrapup", "shutdown"]
    estimated = [d for _, fx in out for k, d in fx.events if k == "runtime_estimated"]
    assert estimated == [{"ups": "meeting", "runtime_s": 396, "from_s": 400}]  # once
    assert dict(out[4][1].events)["wrapup_sent"]["why"] == "runtime_estimated"
    assert dict(out[6][1].events)["shutdown_sent"]["runtime_s"] == 119.0


def test_lost_ups_with_no_runtime_ever_known_shuts_down_after_the_wrapup():
    ticks = [(0, ups("OB", runtime=None, charge=80.0)), (6, ups("OB", runtime=None, charge=80.0)),
             (10, down()), (70, down()), (189, down()), (190, down())]
    out = run([(t, [r], {}) for t, r in ticks])
    assert [s.room for s, _ in out] == ["on_battery"] * 3 + ["wrapup", "wrapup", "shutdown"]
    assert dict(out[5][1].events)["shutdown_sent"]["why"] == "ups_unreadable"
    assert "runtime_estimated" not in [k for _, fx in out for k in kinds(fx)]


def converting(t, on=True, meeting=True):
    return PcReport("pc1", True, T0 + t, AgentStatus(pc="pc1", ts=0, disk_free_gb=100.0,
                                                    converting=on, meeting_app=meeting))


def test_shutdown_held_until_the_conversion_ends():
    ticks = [(0, ups("OB DISCHRG", runtime=400.0), True), (6, ups("OB DISCHRG", runtime=100.0), True),
             (20, ups("OB DISCHRG", runtime=90.0), True), (30, ups("OB DISCHRG", runtime=80.0), False)]
    out = run([(t, [r], {"pcs": (converting(t, c),)}) for t, r, c in ticks])
    held = [d for _, fx in out for k, d in fx.events if k == "shutdown_held"]
    assert held == [{"pcs": ["pc1"], "runtime_s": 100.0, "why": "converting"}]
    assert out[1][0].room == "shutdown" and ("pc1", "shutdown") not in sent(out[1][1])
    banner = [c for _, c in out[1][1].send if c.id.endswith("-hold")]
    assert banner and banner[0].kind == "notice" and "setelah konversi selesai" in banner[0].title
    assert ("pc1", "shutdown") not in sent(out[2][1])
    assert ("pc1", "shutdown") in sent(out[3][1])
    assert dict(out[3][1].events)["shutdown_sent"]["runtime_s"] == 80.0


@pytest.mark.parametrize("reading, why", [
    (ups("OB DISCHRG", runtime=60.0), "runtime"),           # the hard floor
    (ups("OB DISCHRG LB", runtime=90.0), "low_battery"),    # LB breaks the hold
])
def test_hold_broken_at_the_hard_floor_or_by_lb(reading, why):
    ticks = [(0, ups("OB DISCHRG", runtime=400.0)), (6, ups("OB DISCHRG", runtime=100.0)),
             (20, reading)]
    out = run([(t, [r], {"pcs": (converting(t),)}) for t, r in ticks])
    assert "shutdown_held" in kinds(out[1][1])
    assert ("pc1", "shutdown") in sent(out[2][1])
    assert dict(out[2][1].events)["shutdown_sent"]["why"] == why


def test_pc_off_after_its_shutdown_ack_and_the_room_stops_hurrying():
    out = run([(0, [ups("OB DISCHRG LB")], {})])
    state, fx = out[0]
    shutdown = [c for _, c in fx.send if c.kind == "shutdown"][0]
    ack = Ack(id=shutdown.id, kind="shutdown", ok=True, ts=0)
    gone = PcReport("pc1", False, T0 + 2, None)
    out = run([(1, [ups("OB DISCHRG LB")], {"acks": (("pc1", ack),)}),
               (2, [ups("OB DISCHRG LB")], {"pcs": (gone,)}),
               (3, [ups("OB DISCHRG LB")], {"pcs": (gone,)})], state)
    assert fx.buzzer == Buzz.SHUTDOWN and out[0][1].pattern == Pattern.BLINK_FAST
    assert [k for k in kinds(out[1][1]) if k.startswith("pc_")] == ["pc_offline", "pc_off"]
    assert "pc_off" not in kinds(out[2][1])
    state, fx = out[2]
    assert state.room == "shutdown" and (fx.led, fx.pattern, fx.buzzer) == (Led.RED, Pattern.BLINK, Buzz.OFF)
    snap = snapshot(state, Inputs(T0 + 3, (ups("OB DISCHRG LB"),), (gone,)), fx, RULES)
    assert snap.outage.pc_off == T0 + 2 and snap.outage.shutdown_sent == T0


def test_a_shutdown_that_failed_on_the_pc_is_journaled_and_the_pc_is_not_called_off():
    """The PC acked "shutdown in 30 s", then its command failed (polkit refused) and the agent
    acked the same id again, ok false. The edge dropped that second ack: nothing journaled, and
    when the PC died with the battery, ``pc_off`` said it "shut down as asked"."""
    out = run([(0, [ups("OB DISCHRG LB")], {})])
    state, fx = out[0]
    shutdown = [c for _, c in fx.send if c.kind == "shutdown"][0]
    took = Ack(id=shutdown.id, kind="shutdown", ok=True, ts=0, detail="shutdown in 30 s")
    failed = Ack(id=shutdown.id, kind="shutdown", ok=False, ts=0, code="shutdown_failed",
                 detail="did not shut down: exit status 1",
                 args={"command": "systemctl poweroff", "status": 1, "output": ""})
    gone = PcReport("pc1", False, T0 + 40, None)
    out = run([(1, [ups("OB DISCHRG LB")], {"acks": (("pc1", took),)}),
               (31, [ups("OB DISCHRG LB")], {"acks": (("pc1", failed), ("pc1", failed))}),
               (40, [ups("OB DISCHRG LB")], {"pcs": (gone,)})], state)
    acks = [d for _, fx in out for k, d in fx.events if k == "pc_ack"]
    assert [(d["ok"], d.get("code")) for d in acks] == [(True, None), (False, "shutdown_failed")]
    assert acks[1]["args"]["command"] == "systemctl poweroff"
    assert kinds(out[2][1]) == ["pc_offline"]            # not "off: it shut down as asked"
    # A restart in between remembers it too.
    journal = [JournalEvent("rr1", 1, T0, "power_lost"),
               JournalEvent("rr1", 2, T0, "shutdown_sent", {"pcs": ["pc1"], "runtime_s": 60}),
               JournalEvent("rr1", 3, T0 + 1, "pc_ack", {"pc": "pc1", "id": shutdown.id,
                                                         "kind": "shutdown", "ok": True}),
               JournalEvent("rr1", 4, T0 + 31, "pc_ack", {"pc": "pc1", "id": shutdown.id,
                                                          "kind": "shutdown", "ok": False})]
    assert resume(journal, T0 + 35, RULES).outage.shut_acked == frozenset()


def test_only_this_outages_shutdown_can_be_told_failed_and_only_after_it_was_taken():
    """An ok-false ack that is not the second answer to this outage's shutdown is not journaled
    (as before: only first answers are)."""
    state, fx = run([(0, [ups("OB DISCHRG LB")], {})])[0]
    shutdown = [c for _, c in fx.send if c.kind == "shutdown"][0]
    took = Ack(id=shutdown.id, kind="shutdown", ok=True, ts=0)
    state, _ = run([(1, [ups("OB DISCHRG LB")], {"acks": (("pc1", took),)})], state)[0]
    strays = [Ack(id="rr1-old-shutdown-pc1", kind="shutdown", ok=False, ts=0),     # another cut's
              Ack(id=shutdown.id, kind="shutdown", ok=True, ts=0, detail="already handled")]
    out = run([(2, [ups("OB DISCHRG LB")], {"acks": tuple(("pc1", a) for a in strays)})], state)
    assert "pc_ack" not in kinds(out[0][1])
    untold = run([(0, [ups("OB DISCHRG LB")], {}),
                  (1, [ups("OB DISCHRG LB")], {"acks": (("pc2", Ack(id=shutdown.id.replace(
                      "pc1", "pc2"), kind="shutdown", ok=False, ts=0)),)})])
    assert "pc_ack" not in kinds(untold[1][1])


def test_pc_offline_without_a_shutdown_ack_is_not_off():
    gone = PcReport("pc1", False, T0, None)
    out = run([(0, [ups("OB DISCHRG LB")], {}), (2, [ups("OB DISCHRG LB")], {"pcs": (gone,)})])
    assert "pc_off" not in kinds(out[1][1]) and out[1][1].pattern == Pattern.BLINK_FAST


def test_meetings_and_conversions_are_journaled_per_pc():
    gone = PcReport("pc1", False, T0 + 5, None)
    steps = [(0, converting(0, False, False)), (1, converting(1, False, True)),
             (2, converting(2, True, True)), (3, converting(3, True, False)),
             (4, converting(4, False, True)), (5, gone)]
    out = run([(t, [ups()], {"pcs": (pc,)}) for t, pc in steps])
    assert [[k for k in kinds(fx) if "meeting" in k or "conversion" in k] for _, fx in out] == [
        [], ["meeting_started"], ["conversion_started"], ["meeting_ended"],
        ["meeting_started", "conversion_ended"], ["meeting_ended"]]
    # An agent before v1.2 sends no `meeting`: the event says so rather than guessing.
    assert dict(out[1][1].events)["meeting_started"] == {"pc": "pc1", "app": None, "by": None}


def test_meeting_started_says_which_app_and_by_what():
    meet = MeetingNow(app="meet-browser", since=T0, by="microphone")
    live = PcReport("pc1", True, T0 + 1, AgentStatus(pc="pc1", ts=0, disk_free_gb=100.0,
                                                    meeting_app=True, meeting=meet))
    out = run([(0, [ups()], {"pcs": (converting(0, False, False),)}), (1, [ups()], {"pcs": (live,)})])
    assert dict(out[1][1].events)["meeting_started"] == {
        "pc": "pc1", "app": "meet-browser", "by": "microphone"}


def test_power_lost_carries_the_load():
    (state, fx), = run([(0, [ups("OB DISCHRG", load_pct=42.0)], {})])
    assert dict(fx.events)["power_lost"]["load_pct"] == 42.0
    (state, fx), = run([(0, [ups("OB DISCHRG")], {})])
    assert dict(fx.events)["power_lost"]["load_pct"] is None


def test_resume_remembers_the_hold_and_the_pcs_that_are_off():
    started = T0 - 100
    shut_id = f"rr1-{int(started * 1000):x}-shutdown-pc1"
    events = [JournalEvent("rr1", 1, started, "power_lost"),
              JournalEvent("rr1", 2, started, "notice_sent", {"pcs": ["pc1"]}),
              JournalEvent("rr1", 2, started, "wrapup_sent", {"pcs": ["pc1"]}),
              JournalEvent("rr1", 2, started + 1, "shutdown_held", {"pcs": ["pc1"], "runtime_s": 100}),
              JournalEvent("rr1", 3, started + 9, "shutdown_sent", {"pcs": ["pc1"], "runtime_s": 60}),
              JournalEvent("rr1", 4, started + 10, "pc_ack",
                           {"pc": "pc1", "id": shut_id, "kind": "shutdown", "ok": True}),
              JournalEvent("rr1", 5, started + 30, "pc_off", {"pc": "pc1"})]
    state = resume(events, T0, RULES, mono=50.0)
    assert state.outage.held and state.outage.pc_off == started + 30
    assert [p.command.kind for p in state.pending] == ["notice", "wrapup"]  # never acked
    assert state.outage.started_mono == -50.0
    gone = PcReport("pc1", False, T0, None)
    state, fx = tick(state, T0, 51.0, ups("OB DISCHRG", runtime=50.0), pcs=(gone,))
    assert sent(fx) == [("pc1", "notice"), ("pc1", "wrapup")]  # resent; no second shutdown
    assert kinds(fx) == ["pc_offline"]  # no second shutdown_held, no second pc_off
    assert fx.pattern == Pattern.BLINK and fx.buzzer == Buzz.OFF


@pytest.mark.parametrize("jump", [3600.0, -3600.0])
def test_wall_clock_step_does_not_take_the_pc_offline_or_end_its_meeting(jump):
    in_meeting = AgentStatus(pc="pc1", ts=0, disk_free_gb=100.0, meeting_app=True)
    state, events = RoomState(started=0.0), []
    # Statuses stamped (by the bus, on the wall clock) at 1 and 2; the wall clock steps at 3.
    for mono, wall, seen in ((1, T0 + 1, T0 + 1), (2, T0 + 2, T0 + 2), (3, T0 + 3 + jump, T0 + 2),
                             (4, T0 + 4 + jump, T0 + 4 + jump), (30, T0 + 30 + jump, T0 + 4 + jump)):
        pcs = (PcReport("pc1", True, seen, in_meeting),)
        state, fx = tick(state, wall, mono, ups(), pcs=pcs)
        events.append(kinds(fx))
    assert events[:4] == [["pc_online", "meeting_started"], [], [], []]
    assert events[4] == ["pc_offline", "meeting_ended"]  # 26 s without a status: really gone


def test_fsd_stuck_since_mains_is_not_believed_on_battery():
    # A Megatec unit with the FSD bit always set: a flicker must not wrap up and shut down.
    out = run([(0, [ups("ALARM OL FSD")], {}), (1, [ups("ALARM OB FSD", runtime=None)], {}),
               (2, [ups("ALARM OB FSD", runtime=None)], {}), (4, [ups("ALARM OL FSD")], {})])
    assert [s.room for s, _ in out] == ["attention", "on_battery", "on_battery", "attention"]
    assert all(fx.send == () for _, fx in out)
    assert [k for _, fx in out for k in kinds(fx) if k.startswith("ups_fsd")] == ["ups_fsd_on_mains"]
    # ... but its LB is still believed, and a UPS first seen with OB FSD is believed too.
    (state, fx), = run([(6, [ups("ALARM OB FSD LB", runtime=None)], {})], out[-1][0])
    assert state.room == "shutdown" and ("pc1", "shutdown") in sent(fx)
    (state, fx), = run([(0, [ups("OB FSD")], {})])
    assert state.room == "shutdown"


def test_no_hold_when_the_hard_floor_is_not_below_the_shutdown_threshold():
    rules = Rules(policy=PolicyConfig(shutdown_at_runtime_s=45), site_id="rr1", expected_pcs=("pc1",))
    out = run([(0, [ups("OB DISCHRG", runtime=400.0)], {"pcs": (converting(0),)}),
               (6, [ups("OB DISCHRG", runtime=44.0)], {"pcs": (converting(6),)})], rules=rules)
    assert ("pc1", "shutdown") in sent(out[1][1]) and "shutdown_held" not in kinds(out[1][1])


def test_restart_mid_meeting_journals_no_second_start_and_ends_it_when_it_ends():
    latest = [JournalEvent("rr1", 9, T0 - 10, "meeting_started", {"pc": "pc1"}),
              JournalEvent("rr1", 8, T0 - 20, "conversion_ended", {"pc": "pc1"}),
              JournalEvent("rr1", 7, T0 - 30, "conversion_started", {"pc": "pc1"}),
              JournalEvent("rr1", 6, T0 - 40, "meeting_ended", {"pc": "pc1"})]
    state = resume([], T0, RULES, activity=latest)
    assert state.pcs.meetings == {"pc1"} and state.pcs.converting == frozenset()
    quiet = {"pcs": ()}  # the PC's status has not arrived yet: the meeting is not ended for that
    out = run([(0, [ups()], dict(quiet)), (1, [ups()], {"pcs": (converting(1, False, True),)}),
               (2, [ups()], {"pcs": (converting(2, False, False),)})], state)
    assert [kinds(fx) for _, fx in out] == [[], ["pc_online"], ["meeting_ended"]]


def test_restart_then_the_pc_never_comes_back_ends_its_meeting_after_the_grace():
    latest = [JournalEvent("rr1", 9, T0 - 10, "meeting_started", {"pc": "pc1"})]
    state = resume([], T0, RULES, activity=latest)
    out = run([(0, [ups()], {"pcs": ()}), (21, [ups()], {"pcs": ()})], state)
    assert [kinds(fx) for _, fx in out] == [[], ["pc_offline", "meeting_ended"]]


# --------------------------------------------------- this Pi powers off (NUT's POWERDOWNFLAG)

POWERDOWN = Rules(policy=PolicyConfig(), site_id="rr1", expected_pcs=("pc1",), powerdown=True)
NO_PCS = Rules(policy=PolicyConfig(), site_id="rr1", expected_pcs=(), powerdown=True)


@pytest.mark.parametrize("status", ["OL FSD", "ALARM OL FSD", "OL CHRG LB", "OL DISCHRG LB FSD",
                                    "OB OL LB FSD", "OB CAL LB"])
def test_a_flag_without_a_real_outage_never_powers_the_pi_off(status):
    """LB and FSD count only with a believed OB (§5.3): no outage, no flag, whatever the time."""
    ticks = [(t, [ups(status, runtime=30.0, charge=5.0)], {"pcs": ()}) for t in range(0, 600, 60)]
    out = run(ticks, rules=NO_PCS)
    assert not any(fx.powerdown or "pi_poweroff" in kinds(fx) for _, fx in out)


def test_the_pi_powers_off_once_the_pc_that_was_told_is_off():
    out = run([(0, [ups("OB DISCHRG LB")], {})], rules=POWERDOWN)
    state, fx = out[0]
    assert "shutdown_sent" in kinds(fx) and not fx.powerdown   # the PC first
    shutdown = [c for _, c in fx.send if c.kind == "shutdown"][0]
    ack = Ack(id=shutdown.id, kind="shutdown", ok=True, ts=0)
    gone = PcReport("pc1", False, T0 + 20, None)
    out = run([(10, [ups("OB DISCHRG LB")], {"acks": (("pc1", ack),)}),
               (20, [ups("OB DISCHRG LB")], {"pcs": (gone,)}),
               (21, [ups("OB DISCHRG LB")], {"pcs": (gone,)})], state, rules=POWERDOWN)
    assert [fx.powerdown for _, fx in out] == [False, True, True]
    assert kinds(out[1][1])[-2:] == ["pc_off", "pi_poweroff"]
    assert "pi_poweroff" not in kinds(out[2][1])                # journaled once


@pytest.mark.parametrize("after_s, powerdown", [(89, False), (90, True)])
def test_a_pc_that_never_says_it_is_off_gets_its_grace_and_a_minute(after_s, powerdown):
    """shutdown_grace_s (30) + 60 s for its OS, then the Pi goes too (the battery will not wait)."""
    out = run([(0, [ups("OB DISCHRG", runtime=100.0)], {}),
               (after_s, [ups("OB DISCHRG", runtime=100.0)], {})], rules=POWERDOWN)
    assert out[1][1].powerdown is powerdown


def test_no_powerdown_while_the_shutdown_is_held_or_when_not_configured():
    converting_pc = PcReport("pc1", True, T0, AgentStatus(pc="pc1", ts=0, converting=True))
    held = run([(t, [ups("OB DISCHRG", runtime=100.0)], {"pcs": (converting_pc,)})
                for t in (0, 200)], rules=POWERDOWN)
    assert "shutdown_held" in kinds(held[0][1]) and not held[1][1].powerdown
    plain = run([(0, [ups("OB DISCHRG LB")], {"pcs": ()})],
                rules=Rules(policy=PolicyConfig(), site_id="rr1", expected_pcs=()))
    assert not plain[0][1].powerdown and "pi_poweroff" not in kinds(plain[0][1])


def test_mains_back_drops_the_powerdown_and_a_restart_decides_it_again():
    out = run([(0, [ups("OB DISCHRG LB")], {"pcs": ()}), (5, [ups("OL CHRG")], {"pcs": ()})],
              rules=NO_PCS)
    assert [fx.powerdown for _, fx in out] == [True, False]
    started = T0 - 100
    events = [JournalEvent("rr1", 1, started, "power_lost"),
              JournalEvent("rr1", 2, started, "shutdown_sent", {"pcs": [], "runtime_s": 50}),
              JournalEvent("rr1", 3, started, "pi_poweroff", {})]
    state = resume(events, T0, NO_PCS, mono=50.0)
    assert state.outage.pi_off is None        # a restart inherits no power-off decision ...
    state, fx = tick(state, T0, 51.0, ups("OB DISCHRG LB"), rules=NO_PCS, pcs=())
    assert fx.powerdown and "pi_poweroff" in kinds(fx)   # ... it takes its own, on battery


def rebooted(started: float) -> list[JournalEvent]:
    """An outage that ended with the Pi powering itself off: no power_restored (the Pi was off
    when the mains came back)."""
    shut_id = f"rr1-{int(started * 1000):x}-shutdown-pc1"
    return [JournalEvent("rr1", 1, started, "power_lost", {"ups": ["meeting"], "runtime_s": 900}),
            JournalEvent("rr1", 2, started + 5, "notice_sent", {"pcs": ["pc1"], "runtime_s": 895}),
            JournalEvent("rr1", 3, started + 600, "wrapup_sent", {"pcs": ["pc1"], "runtime_s": 300}),
            JournalEvent("rr1", 4, started + 780, "shutdown_sent", {"pcs": ["pc1"], "runtime_s": 120}),
            JournalEvent("rr1", 5, started + 781, "pc_ack",
                         {"pc": "pc1", "id": shut_id, "kind": "shutdown", "ok": True}),
            JournalEvent("rr1", 6, started + 820, "pc_off", {"pc": "pc1"}),
            JournalEvent("rr1", 7, started + 821, "pi_poweroff", {})]


@pytest.mark.parametrize("upsd_says", ["refused", "starting", "driver_not_connected"])
def test_a_pi_that_powered_itself_off_boots_on_mains_and_stays_on(upsd_says):
    """The mains is back, the UPS turned its outlets on, the Pi boots and the edge resumes the
    outage while upsd does not answer yet. The killpower flag would power the Pi and the room's
    outlets off again, on mains, at every boot: it waits for this process's own OB reading."""
    state = resume(rebooted(T0 - 3600), T0, POWERDOWN, mono=50.0)
    out = []
    for t in range(0, 600, 5):   # past every timer of the blind stage
        state, fx = tick(state, T0 + t, 50.0 + t, down(upsd_says), rules=POWERDOWN, pcs=())
        out.append((state, fx))
    assert not any(fx.powerdown for _, fx in out)
    assert not [k for _, fx in out for k in kinds(fx) if k in ("pi_poweroff", "shutdown_sent")]
    assert all(fx.send == () for _, fx in out)    # the hour-old commands have expired
    state, fx = tick(state, T0 + 600, 650.0, ups("OL CHRG"), rules=POWERDOWN, pcs=())
    assert kinds(fx)[:2] == ["ups_reachable", "power_restored"] and state.outage is None
    assert not fx.powerdown


def test_the_snapshot_shows_the_pc_meeting_and_disk_use():
    meet = MeetingNow(app="zoom", since=T0, by="camera")
    live = PcReport("pc1", True, T0, AgentStatus(pc="pc1", ts=0, disk_free_gb=100.0, meeting_app=True,
                                                 meeting=meet, disk_used_gb_day=3.5))
    (state, fx), = run([(0, [ups()], {"pcs": (live,)})])
    (pc,) = snapshot(state, Inputs(T0, (ups(),), (live,)), fx, RULES).pcs
    assert (pc.meeting, pc.disk_used_gb_day) == (meet, 3.5)


def test_a_battery_still_asked_for_is_journaled_again_each_month():
    """The UPS says RB for months: journaled when it starts, again every 30 days while it does
    (the needs report reads only the journal: a range after the first month had no battery
    line), never in between, and not after a new battery."""
    day = 86400.0
    ticks = [(0, [ups("OL CHRG RB")], {}), (1, [ups("OL CHRG RB")], {}),
             (29 * day, [ups("OL CHRG RB")], {}), (30 * day, [ups("OL CHRG RB")], {}),
             (31 * day, [ups("OL CHRG RB")], {}), (60 * day + 1, [ups("OL CHRG RB")], {}),
             (61 * day, [ups("OL CHRG")], {}), (91 * day, [ups("OL CHRG")], {})]
    told = [t for (t, _, _), (_, fx) in zip(ticks, run(ticks)) if "replace_battery" in kinds(fx)]
    assert told == [0, 30 * day, 60 * day + 1]


def test_a_calendar_unreadable_for_an_hour_is_said_once_and_amber_until_it_is_read_again():
    """The calendar fails at mono 100 (the wall clock says T0 + 100): nothing for 59 min 59 s;
    then the reason, amber, calendar_unreadable once with since when; read again: readable,
    green. A meeting of the kept copy is no "not ready" for it."""
    from edge.bookings import Booking
    from edge.room import CALENDAR_UNREADABLE_AFTER_S as AFTER
    booked = (Booking("Rapat mingguan", T0 + 4000, T0 + 7600),)
    state, out = RoomState(started=0.0), []
    for mono, failing in [(100, None), (200, (100.0, "timed out")),
                          (100 + AFTER - 1, (100.0, "timed out")),
                          (100 + AFTER, (100.0, "the server answered 503 Service Unavailable")),
                          (100 + AFTER + 60, (100.0, "timed out")), (100 + AFTER + 120, None),
                          (100 + AFTER + 180, None)]:
        state, fx = tick(state, T0 + mono, float(mono), ups(), bookings=booked,
                         calendar_failing=failing)
        out.append((state.room, state.reasons, fx.led, [(k, d) for k, d in fx.events
                                                         if k.startswith("calendar")]))
    assert [room for room, *_ in out] == ["ready"] * 3 + ["attention"] * 2 + ["ready"] * 2
    assert out[3][1] == ("calendar_unreadable",) and out[3][2] == Led.AMBER
    assert out[3][3] == [("calendar_unreadable", {"since": T0 + 100, "problem":
                                                  "the server answered 503 Service Unavailable"})]
    assert [events for *_, events in out] == [[], [], [], out[3][3], [],
                                              [("calendar_readable", {})], []]
    assert state.next_meeting.ready and state.next_meeting.problems == []


def test_a_restart_neither_repeats_calendar_unreadable_nor_forgets_readable():
    said = RoomState(started=0.0, calendar_said=True)
    state, fx = tick(said, T0, 5.0, ups(), calendar_read=False)   # its first read not ended
    assert state.calendar_said and state.room == "ready" and "calendar_readable" not in kinds(fx)
    state, fx = tick(state, T0 + 1, 6.0, ups(), calendar_failing=(5.5, "timed out"))
    assert state.reasons == ("calendar_unreadable",) and kinds(fx) == []   # said before the restart
    state, fx = tick(said, T0, 5.0, ups())                        # read well at once
    assert not state.calendar_said and kinds(fx) == ["pc_online", "calendar_readable"]
