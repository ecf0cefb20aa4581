"""The agent against a real mosquitto: every command kind, the ack before the work, replay, expiry, cancel,
hostile input."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from agent.main import Agent
from protocol.config import load_agent_config
from protocol.messages import Ack, decode
from tests.agent_helpers import marker_argv, refused_shutdown, wait_until


def marker_text(path: Path) -> str:
    return path.read_text() if path.exists() else ""


def test_notice_is_acked_with_a_valid_ack(start_agent, pc_client):
    """How fast is bench/agent_idle.py's (ack latency p50/p95 over 100 commands), not a timed
    assert here: a loaded test machine once took 208 ms."""
    start_agent()
    cmd, _ = pc_client.send("notice", title="Listrik padam", text="...", chat_text="Mohon maaf",
                            runtime_s=1500)
    _, _, ack = pc_client.wait_for("ack", lambda a: a["id"] == cmd["id"])
    parsed = decode(Ack, json.dumps(ack))
    assert (parsed.kind, parsed.ok) == ("notice", True)
    assert parsed.detail == "banner off: logged only"   # banner = false in this config


def test_ack_comes_before_a_slow_wrapup_finishes(start_agent, pc_client, tmp_path):
    marker = tmp_path / "wrapup.marker"
    start_agent(wrapup_command=marker_argv(marker, "saved", sleep_s=1.5))
    cmd, _ = pc_client.send("wrapup", runtime_s=280)
    _, _, ack = pc_client.wait_for("ack", lambda a: a["id"] == cmd["id"])
    assert ack["ok"] is True
    assert not marker.exists()                  # the recording is still being "saved" (1.5 s)
    wait_until(lambda: marker_text(marker) == "saved", timeout=10)


def test_every_kind_is_acked_and_test_shows_nothing_harmful(start_agent, pc_client):
    start_agent()
    for kind in ("notice", "wrapup", "test", "cancel"):
        cmd, _ = pc_client.send(kind)
        _, _, ack = pc_client.wait_for("ack", lambda a, c=cmd: a["id"] == c["id"])
        assert (ack["kind"], ack["ok"]) == (kind, True)
    assert pc_client.acks(cmd["id"])[0]["detail"] == "nothing to cancel"


def test_acks_carry_a_code_beside_the_sentence(start_agent, pc_client):
    """The dashboard writes an answer from its code in the page's language; ``detail`` keeps the
    sentence for readers without codes (CONTRACT §3: unknown fields are ignored)."""
    start_agent(shutdown_grace_s=1)
    answers = []
    for kind in ("notice", "wrapup", "cancel", "shutdown"):
        cmd, _ = pc_client.send(kind, grace_s=30)
        _, _, ack = pc_client.wait_for("ack", lambda a, c=cmd: a["id"] == c["id"])
        answers.append((ack["detail"], ack["code"], ack["args"]))
    assert answers == [("banner off: logged only", "banner_off_logged", {}),
                       ("no wrapup_command configured", "no_wrapup_command", {}),
                       ("nothing to cancel", "nothing_to_cancel", {}),
                       ("shutdown in 1 s", "shutdown_in", {"seconds": 1.0})]
    again, _ = pc_client.send("notice", id=cmd["id"])
    _, _, ack = pc_client.wait_for("ack", lambda a: a["id"] == cmd["id"] and a["kind"] == "notice")
    assert (ack["detail"], ack["code"]) == ("already handled", "already_handled")


def test_shutdown_runs_the_configured_command_after_the_grace(start_agent, pc_client, tmp_path):
    start_agent(shutdown_grace_s=1)
    marker = tmp_path / "shutdown.marker"
    cmd, sent = pc_client.send("shutdown", grace_s=30)
    _, _, ack = pc_client.wait_for("ack", lambda a: a["id"] == cmd["id"])
    assert ack["detail"] == "shutdown in 1 s"        # the shorter of the PC's and the edge's grace
    time.sleep(0.5)
    assert not marker.exists()                       # still inside the grace
    wait_until(marker.exists, timeout=10)
    assert time.monotonic() - sent >= 1.0


def test_shutdown_takes_the_edge_grace_when_it_is_shorter(start_agent, pc_client, tmp_path):
    start_agent(shutdown_grace_s=30)
    cmd, _ = pc_client.send("shutdown", grace_s=0)
    _, _, ack = pc_client.wait_for("ack", lambda a: a["id"] == cmd["id"])
    assert ack["detail"] == "shutdown in 0 s"
    wait_until((tmp_path / "shutdown.marker").exists, timeout=10)


def test_a_shutdown_command_that_fails_is_acked_again_not_ok_and_can_be_tried_again(
        start_agent, pc_client, tmp_path):
    """The first ack said "shutdown in 1 s"; the command failed and the PC stayed up. Only the
    PC's log said so: the edge, the page and IT believed it was shutting down. Now a second ack
    of the same id says it did not, and why; a new shutdown command runs it again."""
    marker = tmp_path / "tries"
    start_agent(shutdown_grace_s=1, shutdown_command=refused_shutdown(marker))
    cmd, _ = pc_client.send("shutdown", grace_s=30)
    wait_until(lambda: len(pc_client.acks(cmd["id"])) == 2, timeout=10,
               what="a second ack of the shutdown")
    first, second = pc_client.acks(cmd["id"])
    assert (first["ok"], first["code"]) == (True, "shutdown_in")
    assert decode(Ack, json.dumps(second)) == Ack(
        id=cmd["id"], kind="shutdown", ok=False, ts=second["ts"],
        detail="did not shut down: exit status 1: Call to PowerOff failed: Access denied",
        code="shutdown_failed", args={"command": f"{Path(sys.executable).name} -c "
                                                 f"{refused_shutdown(marker)[2]}"[:120],
                                      "status": 1, "output": "Call to PowerOff failed: Access denied"})
    again, _ = pc_client.send("shutdown", grace_s=30)   # a new id: it runs the command again
    wait_until(lambda: len(pc_client.acks(again["id"])) == 2, timeout=10, what="the retry's acks")
    assert [a["ok"] for a in pc_client.acks(again["id"])] == [True, False]
    assert marker_text(marker) == "xx"
    assert len(pc_client.acks(cmd["id"])) == 2          # the first shutdown's failure, told once


def test_cancel_inside_the_grace_stops_the_shutdown(start_agent, pc_client, tmp_path):
    start_agent(shutdown_grace_s=2)
    pc_client.send("shutdown", grace_s=30)
    time.sleep(0.5)
    cancel, _ = pc_client.send("cancel")
    _, _, ack = pc_client.wait_for("ack", lambda a: a["id"] == cancel["id"])
    assert ack["detail"] == "shutdown cancelled"
    time.sleep(3)
    assert not (tmp_path / "shutdown.marker").exists()


def test_an_earlier_outages_cancel_arriving_late_stops_the_shutdown_but_says_no_power_back(
        start_agent, pc_client, tmp_path):
    """The PC missed the restore's cancel; the mains flickered and the new cut's notice came;
    then the edge's resend of the old cancel. It showed "Listrik kembali normal" over the new
    cut's notice: the power is back, go on, in the middle of a cut. It still stops the last
    cut's pending shutdown; the next restore's cancel is shown."""
    agent = start_agent(shutdown_grace_s=30)
    shown: list[str] = []
    agent.banner.show = lambda view: shown.append(view["title"])
    pc_client.send("shutdown", grace_s=30)
    wait_until(lambda: agent.actions.shutdown_requested, timeout=5, what="the shutdown pending")
    restored = pc_client.command("cancel")                      # missed by the PC: not sent
    new_cut, _ = pc_client.send("notice", title="Listrik padam", runtime_s=1500)
    late = restored                                             # the edge resends it as it was
    pc_client.send_raw(json.dumps(late).encode())
    _, _, ack = pc_client.wait_for("ack", lambda a: a["id"] == late["id"])
    assert ack["detail"] == "shutdown cancelled"
    wait_until(lambda: len(shown) >= 2, timeout=5, what="the notice banner")
    time.sleep(0.5)
    assert shown[-1] == "Listrik padam" and "Listrik kembali normal" not in shown
    pc_client.send("cancel")                                    # the new cut's restore
    wait_until(lambda: shown[-1:] == ["Listrik kembali normal"], timeout=5, what="restored banner")
    assert new_cut["ts"] > late["ts"]


def test_a_repeated_id_is_acked_again_but_acted_on_once(start_agent, pc_client, tmp_path):
    marker = tmp_path / "wrapup.marker"
    start_agent(wrapup_command=marker_argv(marker, "w"))
    cmd, _ = pc_client.send("wrapup", cid="outage-1-wrapup")
    pc_client.wait_for("ack", lambda a: a["id"] == cmd["id"])
    wait_until(lambda: marker_text(marker) == "w")
    pc_client.send("wrapup", cid="outage-1-wrapup")
    wait_until(lambda: len(pc_client.acks("outage-1-wrapup")) == 2)
    assert pc_client.acks("outage-1-wrapup")[1]["ok"] is True
    time.sleep(1)
    assert marker_text(marker) == "w"


def test_handled_ids_survive_a_restart_of_the_agent(broker, tmp_path, pc_client, start_agent):
    marker = tmp_path / "wrapup.marker"
    first = start_agent(wrapup_command=marker_argv(marker, "w"))
    pc_client.send("wrapup", cid="outage-2-wrapup")
    wait_until(lambda: marker_text(marker) == "w")
    first.stop()
    assert (tmp_path / "agent-state.json").exists()        # default: next to agent.toml
    second = Agent(load_agent_config(tmp_path / "agent.toml"))
    seen = len(pc_client.messages)
    second.start()
    try:
        pc_client.wait_for("status", after=seen, timeout=10)
        pc_client.send("wrapup", cid="outage-2-wrapup")
        wait_until(lambda: len(pc_client.acks("outage-2-wrapup")) == 2)
        time.sleep(1)
        assert marker_text(marker) == "w"
    finally:
        second.stop()


def test_an_expired_command_is_refused_and_not_acted_on(start_agent, pc_client, tmp_path):
    start_agent(shutdown_grace_s=0)
    cmd, _ = pc_client.send("shutdown", ttl_s=-5)
    _, _, ack = pc_client.wait_for("ack", lambda a: a["id"] == cmd["id"])
    assert (ack["ok"], ack["detail"]) == (False, "expired")
    time.sleep(1)
    assert not (tmp_path / "shutdown.marker").exists()


HOSTILE = [
    b"not json at all",
    b"\xff\xfe\x00binary",
    b"[" * 30000 + b"]" * 30000,                              # nested too deeply for json
    json.dumps({"v": 1, "id": "h", "kind": "notice", "title": "x" * 200_000}).encode(),  # huge
    b"[1, 2, 3]",
    b"null",
    json.dumps({"v": 1, "id": 42, "ts": 1, "expires": 9e9, "kind": "shutdown"}).encode(),
    json.dumps({"v": 1, "id": "bad-kind", "ts": 1, "expires": 9e9, "kind": "format_disk"}).encode(),
    json.dumps({"v": 1, "id": "bad-grace", "ts": 1, "expires": 9e9, "kind": "shutdown",
                "grace_s": "thirty"}).encode(),
    json.dumps({"v": 2, "id": "v2", "ts": 1, "expires": 9e9, "kind": "shutdown"}).encode(),
    json.dumps({"v": 1, "id": "", "ts": 1, "expires": 9e9, "kind": "shutdown"}).encode(),
    json.dumps({"v": 1, "id": "no-expiry", "ts": 1, "kind": "shutdown"}).encode(),
    b'{"v": 1, "id": "nan", "ts": NaN, "expires": Infinity, "kind": "shutdown"}',
    json.dumps({"v": 1, "id": "argv", "ts": 1, "expires": 9e9, "kind": "wrapup",
                "command": ["rm", "-rf", "/"], "wrapup_command": ["touch", "/tmp/pwned"]}).encode(),
]


def test_hostile_payloads_are_ignored_and_the_agent_keeps_working(start_agent, pc_client, tmp_path,
                                                                  caplog):
    wrapup_marker = tmp_path / "wrapup.marker"
    start_agent(shutdown_grace_s=0, wrapup_command=marker_argv(wrapup_marker, "own"))
    for payload in HOSTILE:
        pc_client.send_raw(payload)
    # A command with a usable id gets a refusal, so the edge stops resending it.
    _, _, ack = pc_client.wait_for("ack", lambda a: a["id"] == "bad-kind")
    assert ack["ok"] is False and "format_disk" in ack["detail"]
    assert pc_client.wait_for("ack", lambda a: a["id"] == "bad-grace")[2]["ok"] is False
    # Still alive: telemetry goes on and a good command is obeyed.
    seen = len(pc_client.messages)
    pc_client.wait_for("status", after=seen, timeout=5)
    cmd, _ = pc_client.send("test")
    assert pc_client.wait_for("ack", lambda a: a["id"] == cmd["id"])[2]["ok"] is True
    # The one command of the list that is valid ("argv": unknown fields are ignored) ran only
    # the PC's own wrapup_command, never what the payload named.
    wait_until(lambda: marker_text(wrapup_marker) == "own")
    assert not Path("/tmp/pwned").exists()
    assert not (tmp_path / "shutdown.marker").exists()
    ignored = [r for r in caplog.records if r.getMessage().startswith("command ignored")]
    assert len(ignored) == len(HOSTILE) - 1
    assert not [r for r in caplog.records if r.exc_info]     # no traceback anywhere


def test_a_shutdown_pending_when_the_agent_restarts_still_happens(start_agent, pc_client, tmp_path,
                                                                   monkeypatch):
    monkeypatch.setattr("agent.main.RESUME_MIN_S", 0.5)
    marker = tmp_path / "shutdown.marker"
    first = start_agent(shutdown_grace_s=3)
    cmd, sent = pc_client.send("shutdown", grace_s=30)
    pc_client.wait_for("ack", lambda a: a["id"] == cmd["id"])
    wait_until(lambda: first.actions.shutdown_pending)
    first.stop()                               # updated, crashed or restarted inside the grace
    second = start_agent(shutdown_grace_s=3)
    assert not marker.exists()
    wait_until(marker.exists, timeout=10)      # the edge never resends an acked shutdown
    assert time.monotonic() - sent >= 3        # the grace of the command, not cut short
    assert second.handled.shutdown is None     # ran: a later start does not shut down again


def test_a_cancel_stops_a_shutdown_resumed_after_a_restart(start_agent, pc_client, tmp_path):
    first = start_agent(shutdown_grace_s=1)
    pc_client.send("shutdown", grace_s=30)
    wait_until(lambda: first.actions.shutdown_pending)
    first.stop()
    second = start_agent(shutdown_grace_s=1)   # the grace is over: it still waits RESUME_MIN_S
    wait_until(lambda: second.actions.shutdown_pending)
    cancel, _ = pc_client.send("cancel")
    assert pc_client.wait_for("ack", lambda a: a["id"] == cancel["id"])[2]["detail"] == \
        "shutdown cancelled"
    time.sleep(1.5)
    assert not (tmp_path / "shutdown.marker").exists()
    assert second.handled.shutdown is None


@pytest.mark.parametrize("record", [
    {"id": "old", "since": 1000.0, "at": 1030.0, "until": 1120.0},          # expired long ago
    {"id": "boot", "since": 1000.0, "at": 1030.0, "until": 9e9},            # before this boot
    {"id": "junk", "since": "yesterday"},
])
def test_a_stale_pending_shutdown_is_dropped_at_start(start_agent, tmp_path, record):
    (tmp_path / "agent-state.json").write_text(json.dumps({"v": 1, "handled": {},
                                                           "shutdown": record}))
    agent = start_agent(shutdown_grace_s=0)
    wait_until(lambda: agent.handled.shutdown is None)
    assert not agent.actions.shutdown_pending
    time.sleep(0.5)
    assert not (tmp_path / "shutdown.marker").exists()
