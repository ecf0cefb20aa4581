"""The shared payloads: round trips, and every kind of bad input rejected with a reason."""

import json

import pytest

from protocol.messages import (Ack, AgentStatus, BadMessage, EdgeCommand, JournalEvent, OutageView,
                               PcCommand, StateSnapshot, Topics, UpsView, decode, parse_topic,
                               to_json)

COMMAND = {"v": 1, "id": "6f1c", "ts": 1764270008.0, "expires": 1764270128.0, "kind": "notice",
           "lang": "id", "title": "Listrik padam", "text": "t", "chat_text": "c", "runtime_s": 1500,
           "grace_s": 30}


@pytest.mark.parametrize("message", [
    PcCommand(id="a", ts=1.0, expires=121.0, kind="shutdown", runtime_s=None),
    Ack(id="a", kind="notice", ok=True, ts=2.5),
    AgentStatus(pc="meeting-pc", ts=3.0, disk_free_gb=120.5, meeting_app=True),
    EdgeCommand(id="x", ts=1.0, kind="silence", by="admin"),
    JournalEvent(site="rr1", seq=42, ts=1.0, kind="power_restored", detail={"duration_s": 61.5}),
    StateSnapshot(site="rr1", ts=5.0, room="on_battery", since=1.0, reasons=["pc_offline:pc"],
                  ups=[UpsView(name="meeting", reachable=True, charge_pct=80.0)],
                  outage=OutageView(started=1.0, notice_sent=6.0)),
])
def test_round_trip(message):
    assert decode(type(message), to_json(message)) == message


def test_contract_example_decodes_and_ignores_unknown_fields():
    cmd = decode(PcCommand, json.dumps({**COMMAND, "future_field": [1, 2]}))
    assert (cmd.kind, cmd.runtime_s, cmd.chat_text) == ("notice", 1500, "c")


def test_missing_optional_fields_take_defaults():
    status = decode(AgentStatus, b'{"v": 1, "pc": "meeting-pc", "ts": 1}')
    assert status.disk_free_gb is None and status.meeting_app is False


@pytest.mark.parametrize("raw, reason", [
    (b"not json", "not JSON"),
    (b"\xff\xfe", "not JSON"),
    (b"[1, 2]", "expected an object"),
    (json.dumps({**COMMAND, "v": 2}), "version"),
    (json.dumps({**COMMAND, "kind": "format_disk"}), "unknown"),
    (json.dumps({**COMMAND, "ts": "soon"}), "ts: expected float"),
    (json.dumps({**COMMAND, "ts": True}), "ts: expected float"),
    (json.dumps({**COMMAND, "runtime_s": 1.5}), "runtime_s: expected int"),
    (json.dumps({**COMMAND, "text": "x" * 5000}), "text: expected str"),
    (json.dumps({k: v for k, v in COMMAND.items() if k != "id"}), "id: missing"),
    (b'{"v":1,"id":"a","ts":NaN,"expires":1,"kind":"test"}', "not JSON: NaN is not a JSON number"),
    (b'{"v":1,"id":"a","ts":1,"expires":1,"kind":"test","grace_s":1' + b"0" * 400 + b"}", "grace_s: expected int"),
    (b'{"v":1,"id":"a","ts":1' + b"0" * 400 + b',"expires":1,"kind":"test"}', "ts: expected float"),
    (b" " * 70000, "bytes is over"),
    (b"[" * 60000, "nested too deeply"),
])
def test_bad_pc_commands_are_rejected_with_a_reason(raw, reason):
    with pytest.raises(BadMessage, match=reason):
        decode(PcCommand, raw)


def test_nested_snapshot_errors_name_the_path():
    raw = json.dumps({"v": 1, "site": "s", "ts": 1, "room": "ready", "since": 1,
                      "ups": [{"name": "m", "charge_pct": "full"}]})
    with pytest.raises(BadMessage, match=r"ups\[0\].charge_pct"):
        decode(StateSnapshot, raw)


def test_topics_and_parse():
    t = Topics("siaga", "bappeda-rr1")
    assert t.edge("state") == "siaga/bappeda-rr1/edge/state"
    assert t.pc("meeting-pc", "ack") == "siaga/bappeda-rr1/pc/meeting-pc/ack"
    assert parse_topic("siaga", t.pc("meeting-pc", "ack")) == ("bappeda-rr1", ["pc", "meeting-pc", "ack"])
    assert parse_topic("other", t.edge("state")) is None


# Python's json reads NaN and Infinity; JSON has neither. Inside a dict field (an event's detail,
# an ack's args) no field check looked: the dashboard stored NaN and its API answered with it.
@pytest.mark.parametrize("cls, raw", [
    (JournalEvent, b'{"v":1,"site":"rr1","seq":1,"ts":1,"kind":"power_lost","detail":{"charge_pct":NaN}}'),
    (JournalEvent, b'{"v":1,"site":"rr1","seq":1,"ts":1,"kind":"power_lost","detail":{"runtime_s":Infinity}}'),
    (Ack, b'{"v":1,"id":"a","kind":"shutdown","ok":true,"ts":1,"args":{"seconds":-Infinity}}'),
])
def test_nan_and_infinity_anywhere_are_not_json(cls, raw):
    with pytest.raises(BadMessage, match=r"^not JSON: -?(NaN|Infinity) is not a JSON number"):
        decode(cls, raw)


def test_what_siaga_sends_never_holds_nan():
    """A NaN that reached a detail (an old journal row, a bug) is sent as null, "unknown": the
    event still goes out, so the dashboard's copy of the journal keeps every seq."""
    sent = to_json(JournalEvent(site="rr1", seq=7, ts=1.0, kind="power_lost",
                                detail={"charge_pct": float("nan"), "runtime_s": float("inf"),
                                        "ups": "meeting"}))
    assert decode(JournalEvent, sent).detail == {"charge_pct": None, "runtime_s": None, "ups": "meeting"}
